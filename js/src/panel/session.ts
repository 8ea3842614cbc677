/**
 * A panel model's session: the work done once per model, however many views show it. It holds
 * the model's one message channel, its one connection monitor (heartbeat), its one state mirror
 * (browser storage + notebook metadata, one revision sequence) and runs the handshake with the
 * JupyterLab extension once, from the first view on the page. Views attach to it; it reaches the
 * extension through their elements (./view-elements), and ends with its last view.
 *
 * Without the extension (nobody answers the ready event) the handshake still runs, from what the
 * page kept: browser storage, or the page itself where storage fails (./page-keep), so edits made
 * while the kernel was away reach the kernel of the re-run cell.
 */

import type { AnyModel } from '@anywidget/types';
import {
  isKernelStatus,
  PANEL_READY_EVENT,
  PANEL_RECONNECT_EVENT,
  PANEL_STATE_EVENT,
  type PanelReadyDetail,
  type PanelReconnectDetail
} from '../common/events';
import { isRecord, newer, type SavedRecord } from '../common/record';
import { KernelChannel } from '../common/request';
import { ConnectionMonitor, type Recovery } from './connection';
import { STATE_KEYS, type PanelModel } from './model';
import { dropFromPage, editKeeper, keepInPage, keptInPage } from './page-keep';
import { readLocal, StateMirror } from './persist';
import { ViewElements } from './view-elements';

/** Who answered the ready event: the JupyterLab extension, or nobody (Colab, VS Code…). */
export type HostKind = 'jupyterlab' | 'other';

/** What a view gives its session. */
export interface SessionView {
  /** The view's element: the session's events start from it. */
  element: HTMLElement;
  /** Send the view's typed text that still waits for its debounce. */
  flush(): void;
}

/** Traits whose changes the mirror saves. */
const MIRRORED_KEYS = [...STATE_KEYS, 'revision', 'results', 'pending'] as const;

let sessions = 0;

export class PanelSession {
  /** Names this session (one per model) in the views' `data-fw-session`. */
  readonly id = `${++sessions}-${Math.random().toString(36).slice(2, 8)}`;
  readonly channel: KernelChannel;
  readonly monitor: ConnectionMonitor;
  readonly mirror: StateMirror;
  /** Who answered the ready event; null until the first view was on the page. */
  host: HostKind | null = null;
  /** The fields the handshake gave the kernel ([] when it was in step); null until it ran. */
  handshake: string[] | null = null;
  private readonly elements = new ViewElements();
  private readonly views: SessionView[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly cleanups: (() => void)[] = [];
  private announcement: number | undefined;
  private stopKernelStatus: (() => void) | undefined;
  private disposed = false;
  /** The mirror's namespace: the page's path, or the notebook's path the extension gives. */
  private namespace = location.pathname;

  constructor(
    private readonly model: AnyModel<PanelModel>,
    /** Called once when the session ends (its last view went, or the model did). */
    private readonly onDispose: () => void = () => {}
  ) {
    this.channel = new KernelChannel(model);
    this.monitor = new ConnectionMonitor(this.channel, () => this.reconnect());
    this.mirror = new StateMirror(
      model,
      detail => {
        this.keepUnlessStored(detail.key, detail.record);
        this.elements.tell(PANEL_STATE_EVENT, detail);
      },
      this.namespace,
      () => this.monitor.state === 'live'
    );
    this.listen('comm_live_update', () => this.monitor.commLost());
    for (const key of MIRRORED_KEYS) {
      this.listen(`change:${key}`, () => this.mirror.changed(this.monitor.state === 'live' ? 'kernel' : 'local'));
    }
    this.monitor.start();
  }

  get viewCount(): number {
    return this.views.length;
  }

  /** Call `listener` when `host` or `handshake` changes. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A view shows this panel. The first one also announces the panel to the extension (on the next
   * frame: a view is on the page only after render returns). Returns the view's detach, which
   * sends its pending text first; the last view's detach ends the session.
   */
  attach(view: SessionView): () => void {
    const removeElement = this.elements.add(view.element);
    this.views.push(view);
    if (this.handshake === null && this.announcement === undefined) {
      this.announcement = requestAnimationFrame(() => {
        this.announcement = undefined;
        this.announce();
      });
    }
    return () => {
      view.flush();
      const at = this.views.indexOf(view);
      if (at >= 0) this.views.splice(at, 1);
      if (!this.views.length) this.dispose(); // while the element can still carry the last save
      removeElement();
    };
  }

  /** Send every view's typed text that still waits for its debounce. */
  flushEdits(): void {
    for (const view of this.views) view.flush();
  }

  /** Reconnect (a click in any view, or automatic): the extension brings the panel back. */
  reconnect(): void {
    if (this.disposed || this.monitor.state === 'reconnecting') return;
    this.monitor.reconnecting();
    this.flushEdits();
    this.mirror.flush();
    const detail: PanelReconnectDetail = {
      key: this.model.get('key'),
      record: this.mirror.record(),
      done: (ok, message) => {
        if (!ok) this.monitor.failed(message);
      }
    };
    if (!this.elements.ask(PANEL_RECONNECT_EVENT, detail)) {
      this.monitor.setRecovery(() => this.recovery('other'));
      this.monitor.mustRerun();
    }
  }

  /** How this panel comes back on a host of this kind, asked when it is said. */
  private recovery(host: HostKind): Recovery {
    return host === 'jupyterlab' ? { by: 'reconnect', keeps: 'storage' } : { by: 'rerun', keeps: editKeeper() };
  }

  /** The mirror wrote `record` to browser storage: where it did not land there, keep it in the
   *  page, which outlives the cell's re-run on most hosts (./page-keep). */
  private keepUnlessStored(key: string, record: SavedRecord): void {
    const stored = readLocal(this.namespace, key);
    if (stored && stored.revision === record.revision && stored.updated_at === record.updated_at) {
      dropFromPage(this.namespace, key);
    } else {
      keepInPage(this.namespace, key, record);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.announcement !== undefined) cancelAnimationFrame(this.announcement);
    this.stopKernelStatus?.();
    this.mirror.dispose();
    this.monitor.dispose();
    this.channel.dispose();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.listeners.clear();
    this.onDispose();
  }

  /** Tell the extension (if any) that this panel exists, and hand the kernel newer saved edits. */
  private announce(): void {
    const detail: PanelReadyDetail = { key: this.model.get('key') };
    const handled = this.elements.ask(PANEL_READY_EVENT, detail);
    const host: HostKind = handled ? 'jupyterlab' : 'other';
    this.host = host;
    this.monitor.setRecovery(() => this.recovery(host));
    if (handled && detail.notebookPath) {
      this.namespace = detail.notebookPath;
      this.mirror.setNamespace(detail.notebookPath);
    }
    if (handled && typeof detail.refused === 'string' && detail.refused) {
      this.model.set('error', detail.refused); // a refused copy is said, never dropped silently
      this.model.save_changes();
    }
    this.stopKernelStatus = detail.onKernelStatus?.(status => {
      if (isKernelStatus(status)) this.monitor.kernel(status);
      else console.warn(`[fooocus-widgets] ignored an unknown kernel status ${JSON.stringify(status)}`);
    });
    const stopElsewhere = detail.onReconnectElsewhere?.(active => this.monitor.elsewhere(active === true));
    if (stopElsewhere) this.cleanups.push(stopElsewhere);
    // the handshake: edits this kernel has not seen (made while it was away) go to it now
    // (the notebook's copy, browser storage, and what the page kept where storage failed)
    const fromNotebook = handled && isRecord(detail.saved) ? detail.saved : undefined;
    const kept = keptInPage(this.namespace, this.model.get('key'));
    const restore = this.mirror.handshake(this.mirror.newestSaved(newer(fromNotebook, kept)));
    if (restore) this.channel.send(restore);
    this.handshake = restore ? Object.keys(restore.changes) : [];
    this.mirror.changed('kernel');
    for (const listener of [...this.listeners]) listener();
  }

  private listen(event: string, handler: () => void): void {
    this.model.on(event, handler);
    this.cleanups.push(() => this.model.off(event, handler));
  }
}
