/**
 * One notebook's bridge to the panels in it: answers their DOM events (ready, state, reconnect)
 * on the notebook panel's node, feeds them the kernel's status, and shows a saved summary where a
 * panel's widget model is gone (a reopened notebook). It owns everything it attaches and removes
 * all of it when disposed, which happens by itself when the notebook panel closes.
 */

import type { NotebookPanel } from '@jupyterlab/notebook';
import type { IDisposable } from '@lumino/disposable';
import {
  PANEL_READY_EVENT,
  PANEL_RECONNECT_EVENT,
  PANEL_STATE_EVENT,
  type PanelReadyDetail,
  type PanelReconnectDetail,
  type PanelStateDetail
} from '../common/events';
import { isRecord } from '../common/record';
import { CLAIM_TTL_MS, collaborationIsOn, ReconnectClaims, type AwarenessLike } from './claim';
import { KernelStatusFeed } from './kernel';
import { readSaved, writeRecord } from './metadata';
import { PeerLinks } from './peer-links';
import { findCodeCell } from './reconnect';
import { RestartReplyWatch } from './reply-watch';
import { ReconnectRun, type ReconnectJob } from './reconnect-all';
import { SavedSummaries } from './saved-summary';

/** The bridge between one notebook panel and the fooocus-widgets panels it holds. */
export class NotebookBridge implements IDisposable {
  private readonly kernel: KernelStatusFeed;
  /** Aborts a Reconnect in flight when the notebook closes. */
  private readonly closing = new AbortController();
  /** The "reconnect all" run going on, if any. */
  private run: ReconnectRun | null = null;
  /** The saved summaries shown where a panel's widget model is gone (./saved-summary). */
  private readonly summaries: SavedSummaries;
  /** Which window rebuilds which panel when several show this notebook (./claim). */
  private readonly claims: ReconnectClaims;
  /** Heals this page's kernel connection when replies stop after a restart (./reply-watch). */
  private readonly replies: RestartReplyWatch;
  /** Whether other windows on this notebook are still re-linking to the kernel (./peer-links). */
  private readonly links: PeerLinks;
  private disposed = false;

  constructor(private readonly panel: NotebookPanel) {
    this.kernel = new KernelStatusFeed(panel.sessionContext);
    const awareness = sharedAwareness(panel);
    this.claims = new ReconnectClaims(awareness, collaborationIsOn());
    this.links = new PeerLinks(awareness);
    this.replies = new RestartReplyWatch(panel.sessionContext, undefined, state => this.links.publish(state));
    panel.node.addEventListener(PANEL_READY_EVENT, this.onReady);
    panel.node.addEventListener(PANEL_STATE_EVENT, this.onState);
    panel.node.addEventListener(PANEL_RECONNECT_EVENT, this.onReconnect);
    panel.disposed.connect(this.dispose, this);
    this.summaries = new SavedSummaries(panel, (key, cell, view) =>
      this.reconnect({ key, cell, done: (ok, message) => (ok ? undefined : view.failed(message)) })
    );
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Remove the DOM listeners, signal connections and saved summaries, drop kernel-status
   *  subscribers and abort a Reconnect in flight. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const node = this.panel.node;
    node.removeEventListener(PANEL_READY_EVENT, this.onReady);
    node.removeEventListener(PANEL_STATE_EVENT, this.onState);
    node.removeEventListener(PANEL_RECONNECT_EVENT, this.onReconnect);
    this.panel.disposed.disconnect(this.dispose, this);
    this.kernel.dispose();
    this.summaries.dispose();
    this.claims.dispose();
    this.replies.dispose();
    this.links.dispose();
    this.closing.abort();
  }

  /** A panel rendered: tell it the extension is here and hand it the saved copy, or why the
   *  notebook's copy was refused (malformed or too large: the file is untrusted). */
  private readonly onReady = (ev: Event): void => {
    const detail = (ev as CustomEvent<PanelReadyDetail>).detail;
    if (!detail || typeof detail.key !== 'string') return;
    ev.preventDefault(); // tells the panel that the extension is here
    detail.notebookPath = this.panel.context.path;
    const { record, refused } = readSaved(this.panel, detail.key);
    detail.saved = record;
    if (refused) detail.refused = refused;
    detail.onKernelStatus = callback => this.kernel.subscribe(callback);
    detail.onReconnectElsewhere = callback => this.followClaims(detail.key, callback);
  };

  /**
   * Tell `callback` (at once and at every change) whether another window holds the claim to bring
   * back the panel `key`. A claim that expires (its window went away) says so when it does.
   */
  private followClaims(key: string, callback: (elsewhere: boolean) => void): () => void {
    let last: boolean | null = null;
    let expiry: ReturnType<typeof setTimeout> | undefined;
    const check = (): void => {
      const elsewhere = this.claims.heldElsewhere(key);
      if (expiry !== undefined) clearTimeout(expiry);
      expiry = elsewhere ? setTimeout(check, CLAIM_TTL_MS + 100) : undefined;
      if (elsewhere === last) return;
      last = elsewhere;
      callback(elsewhere);
    };
    const stop = this.claims.onChange(check);
    check();
    return () => {
      stop();
      if (expiry !== undefined) clearTimeout(expiry);
    };
  }

  /** A panel's state changed: save it in the notebook's metadata. */
  private readonly onState = (ev: Event): void => {
    const detail = (ev as CustomEvent<PanelStateDetail>).detail;
    if (detail && typeof detail.key === 'string' && isRecord(detail.record)) writeRecord(this.panel, detail.key, detail.record);
  };

  /** Reconnect was clicked (or fired by itself): save the record, then bring back this panel
   *  and every other panel of the notebook whose kernel connection is gone (./reconnect-all). */
  private readonly onReconnect = (ev: Event): void => {
    const detail = (ev as CustomEvent<PanelReconnectDetail>).detail;
    if (!detail || typeof detail.key !== 'string' || !isRecord(detail.record)) return;
    const cell = findCodeCell(this.panel, ev.target);
    if (!cell) return;
    ev.preventDefault(); // synchronously, before any await: the panel reads it as "handled"
    writeRecord(this.panel, detail.key, detail.record);
    this.reconnect({ key: detail.key, cell, record: detail.record, done: detail.done });
  };

  /**
   * Bring back the panel of `job` and, in the same run, every other dead panel of the notebook:
   * joins the run going on, if any (one kernel wait, one panel after another).
   */
  reconnect(job: ReconnectJob): void {
    if (this.disposed) return;
    if (this.run?.add(job)) return;
    const run = new ReconnectRun(
      this.panel,
      job,
      this.closing.signal,
      this.claims,
      () => this.replies.ensure(),
      () => this.links.settled()
    );
    this.run = run;
    void run.start().finally(() => {
      if (this.run === run) this.run = null;
    });
  }
}

/** The awareness of the notebook's shared document (every window on it, with collaboration). */
function sharedAwareness(panel: NotebookPanel): AwarenessLike | null {
  try {
    const awareness = (panel.context.model.sharedModel as { awareness?: unknown }).awareness;
    return awareness && typeof (awareness as AwarenessLike).getStates === 'function' ? (awareness as AwarenessLike) : null;
  } catch {
    return null;
  }
}
