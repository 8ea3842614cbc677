/**
 * How long a Reconnect takes, as standard User Timing entries (no globals): a mark when the
 * reconnect begins, a mark when the kernel is ready for it, and a measure from the first mark to
 * the moment the panel's rehydrate call has returned. Tools (benchmarks/recovery.py, the browser's
 * performance panel) read them with `performance.getEntriesByName(RECONNECT_MEASURE, 'measure')`.
 */

/** Marked when a reconnect begins; `detail: {key}`. */
export const RECONNECT_START_MARK = 'fooocus-widgets:reconnect:start';
/** Marked when the notebook's kernel is idle or busy again; `detail: {key}`. */
export const RECONNECT_KERNEL_READY_MARK = 'fooocus-widgets:reconnect:kernel-ready';
/** Measured from the start mark to the rehydrate call's reply; `detail: ReconnectMeasureDetail`. */
export const RECONNECT_MEASURE = 'fooocus-widgets:reconnect';

/** The `detail` of a `RECONNECT_MEASURE` entry. */
export interface ReconnectMeasureDetail {
  /** The panel's key. */
  key: string;
  /** The rehydrate call's reply status ('ok', 'error', 'abort'), or 'unknown' without a reply. */
  status: string;
  /** Of the measure's duration, the time spent waiting for a kernel (starting one if it died). */
  waitedForKernelMs: number;
}

/** The part of `Performance` the timer uses (tests pass their own). */
export type UserTiming = Pick<Performance, 'mark' | 'measure' | 'now'>;

/** Times one reconnect of one panel: create it when the reconnect begins. */
export class ReconnectTimer {
  private readonly start: PerformanceMark;
  private kernelReadyAt: number | null = null;

  constructor(
    private readonly key: string,
    private readonly timing: UserTiming = performance
  ) {
    this.start = timing.mark(RECONNECT_START_MARK, { detail: { key } });
  }

  /** The kernel is ready for the rehydrate call. */
  kernelReady(): void {
    this.kernelReadyAt = this.timing.mark(RECONNECT_KERNEL_READY_MARK, { detail: { key: this.key } }).startTime;
  }

  /** The rehydrate call has returned with `status`: record the measure and return it. */
  finish(status: string): { entry: PerformanceMeasure; detail: ReconnectMeasureDetail } {
    const start = this.start.startTime;
    const end = this.timing.now();
    const detail: ReconnectMeasureDetail = {
      key: this.key,
      status,
      waitedForKernelMs: (this.kernelReadyAt ?? end) - start
    };
    // numeric start/end, not mark names: two panels may reconnect at once
    return { entry: this.timing.measure(RECONNECT_MEASURE, { start, end, detail }), detail };
  }
}
