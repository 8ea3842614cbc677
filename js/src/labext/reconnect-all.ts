/**
 * One click for all: a Reconnect (clicked, automatic, or a saved summary's "Restore panel") makes
 * sure the notebook has a kernel once, then brings back the panel that asked and every other panel
 * of the notebook whose kernel connection is gone, each in its own cell, one after another. The
 * panel that asked is rebuilt from the page's own copy; the others from the notebook's metadata,
 * read at their turn (the newest saved copy). A panel that fails says so in its own cell and the
 * others still come back. Panels that ask while a run is going join it instead of starting another
 * (with "Reconnect automatically" every panel asks at the same moment). Where several windows
 * show the notebook (real-time collaboration), each panel is rebuilt by exactly one of them: the
 * window whose claim wins (./claim); the others leave it and see the live panel arrive.
 */

import type { CodeCell } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { SavedRecord } from '../common/record';
import { ReconnectClaims } from './claim';
import { ensureKernel, NotebookClosedError } from './kernel';
import { readRecord, withKeptKeys } from './metadata';
import { findDeadPanels, rehydrateInCell, showsDeadPanel } from './reconnect';
import { ReconnectTimer } from './timing';

/** How long a window keeps its claim after rebuilding a panel (the others see the output first). */
const CLAIM_HOLD_AFTER_MS = 2000;

/** One panel to bring back. */
export interface ReconnectJob {
  key: string;
  cell: CodeCell;
  /** The page's own copy (the panel asked itself); absent: the notebook's metadata at its turn. */
  record?: SavedRecord;
  /** Tells the panel (or summary) that asked how it went; absent for panels found dead. */
  done?: (ok: boolean, message: string) => void;
  /** Started when the job joined the run (its User Timing entries). */
  timer?: ReconnectTimer;
}

/** The sentence a panel that could not come back shows, in its view or its cell. */
export function failureMessage(why: string): string {
  return `Reconnect failed: ${why}. Run this cell again: your settings are saved.`;
}

/**
 * One "reconnect all" run in one notebook: create it with the job that started it, `start()` it
 * once, and hand it later jobs with `add` until it says it has finished.
 */
export class ReconnectRun {
  private readonly queue: ReconnectJob[] = [];
  /** Keys queued or handled in this run (found-dead panels are taken once per key). */
  private readonly keys = new Set<string>();
  private finished = false;
  /** The check that the kernel answers this window, made once per run before the first rebuild. */
  private answering: Promise<void> | null = null;
  /** The wait for other windows to finish re-linking to the kernel, once per run (./peer-links). */
  private peersLinked: Promise<void> | null = null;

  constructor(
    private readonly panel: NotebookPanel,
    first: ReconnectJob,
    private readonly signal: AbortSignal,
    private readonly claims: ReconnectClaims = new ReconnectClaims(null),
    /** Makes sure the kernel answers this page before anything runs (./reply-watch). */
    private readonly repliesArrive: () => Promise<boolean> = async () => true,
    /** Resolves when no other window on the notebook is re-linking to the kernel (./peer-links). */
    private readonly othersLinked: () => Promise<boolean> = async () => true
  ) {
    this.add(first);
  }

  /** Whether the run has ended (a job added now would never run). */
  get isFinished(): boolean {
    return this.finished;
  }

  /**
   * Take `job` into the run; false when it has finished (start a new run then). A job for a cell
   * already waiting in the queue replaces that entry's copy (the page's is newer) and its callback.
   */
  add(job: ReconnectJob): boolean {
    if (this.finished) return false;
    const waiting = this.queue.find(j => j.cell === job.cell && j.key === job.key);
    if (waiting) {
      if (job.record) waiting.record = job.record;
      const [before, after] = [waiting.done, job.done];
      if (after) waiting.done = before ? (ok, message) => (before(ok, message), after(ok, message)) : after;
      return true;
    }
    this.queue.push({ ...job, timer: job.timer ?? new ReconnectTimer(job.key) });
    this.keys.add(job.key);
    return true;
  }

  /** Ensure the kernel, then rebuild every queued panel in turn. Never rejects. */
  async start(): Promise<void> {
    try {
      this.addDeadPanels();
      try {
        await ensureKernel(this.panel.sessionContext, this.signal);
      } catch (err) {
        if (err instanceof NotebookClosedError) return;
        this.addDeadPanels();
        const why = err instanceof Error ? err.message : String(err);
        for (const job of this.queue.splice(0)) this.fail(job, why, false);
        return;
      }
      this.addDeadPanels(); // a crash: other panels may learn of it only now
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        if (this.signal.aborted) return;
        await this.rebuild(job);
      }
    } finally {
      this.finished = true; // in the same turn as the last empty-queue check: nothing is lost
    }
  }

  /** Queue every dead panel of the notebook not queued or handled yet (notebook order). */
  private addDeadPanels(): void {
    for (const dead of findDeadPanels(this.panel)) if (!this.keys.has(dead.key)) this.add(dead);
  }

  /** Rebuild one panel; a failure is told to it and does not stop the run. */
  private async rebuild(job: ReconnectJob): Promise<void> {
    const { key, cell } = job;
    if (cell.isDisposed || !this.panel.content.widgets.includes(cell)) return; // the cell was deleted
    // a panel found dead may have been re-run by hand meanwhile: then it is live, leave it
    if (!job.done && !job.record && !showsDeadPanel(cell, key)) return;
    const saved = readRecord(this.panel, key);
    const record = job.record ? withKeptKeys(job.record, saved) : saved;
    if (!record) {
      this.fail(job, 'the notebook holds no saved copy of this panel', false);
      return;
    }
    // another window showing this notebook may be bringing it back already: then it does
    if ((await this.claims.claim(key)) === 'elsewhere') {
      console.info(`[fooocus-widgets] ${key} is being reconnected from another window`);
      return;
    }
    // this window rebuilds it: first make sure the kernel answers this window (once per run)
    this.answering ??= this.repliesArrive().then(ok => {
      if (!ok) console.warn('[fooocus-widgets] the kernel does not answer this page; rebuilding the panels anyway');
    });
    await this.answering;
    // and that no other window is opening its kernel connection again: it would miss the new panel
    this.peersLinked ??= this.othersLinked().then(ok => {
      if (!ok) console.warn('[fooocus-widgets] another window is still reconnecting to the kernel; rebuilding anyway');
    });
    await this.peersLinked;
    const timer = job.timer ?? new ReconnectTimer(key);
    timer.kernelReady();
    let rebuilt = false;
    try {
      await rehydrateInCell(this.panel, cell, key, record, timer, this.signal);
      rebuilt = true;
    } catch (err) {
      if (err instanceof NotebookClosedError) return;
      console.error(`[fooocus-widgets] reconnect of ${key} failed`, err);
      this.fail(job, err instanceof Error ? err.message : String(err), true);
    } finally {
      // held a moment after success, while the shared output reaches the other windows
      if (rebuilt) setTimeout(() => this.claims.release(key), CLAIM_HOLD_AFTER_MS);
      else this.claims.release(key);
    }
  }

  /**
   * Say in the panel's own cell why it did not come back: through its view or summary when it
   * asked (and its output was not cleared), else as a stderr note under the cell's output.
   */
  private fail(job: ReconnectJob, why: string, cleared: boolean): void {
    const message = failureMessage(why);
    job.done?.(false, message);
    if (!job.done || cleared) {
      if (job.cell.isDisposed) return;
      try {
        job.cell.outputArea.model.add({ output_type: 'stream', name: 'stderr', text: `[fooocus-widgets] ${job.key}: ${message}\n` });
      } catch (err) {
        console.error('[fooocus-widgets] could not write the failure into the cell', err);
      }
    }
  }
}
