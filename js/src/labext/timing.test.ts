/** The reconnect's User Timing entries: names, detail, and durations per reconnect. */

import { afterEach, describe, expect, it } from 'vitest';
import {
  RECONNECT_KERNEL_READY_MARK,
  RECONNECT_MEASURE,
  RECONNECT_START_MARK,
  ReconnectTimer,
  type UserTiming
} from './timing';

/** A clock the test moves by hand, recording what is marked and measured. */
class FakeTiming implements UserTiming {
  time = 100;
  readonly marks: { name: string; detail: unknown; startTime: number }[] = [];
  readonly measures: { name: string; options: PerformanceMeasureOptions | undefined }[] = [];

  now(): number {
    return this.time;
  }

  mark(name: string, options?: PerformanceMarkOptions): PerformanceMark {
    const entry = { name, detail: options?.detail, startTime: this.time };
    this.marks.push(entry);
    return entry as PerformanceMark;
  }

  measure(name: string, options?: string | PerformanceMeasureOptions): PerformanceMeasure {
    const opts = typeof options === 'string' ? undefined : options;
    this.measures.push({ name, options: opts });
    const start = Number(opts?.start ?? 0);
    return { name, detail: opts?.detail, startTime: start, duration: Number(opts?.end ?? 0) - start } as PerformanceMeasure;
  }
}

describe('ReconnectTimer', () => {
  it('marks the start and the kernel, then measures up to the reply with key, status and kernel wait', () => {
    const timing = new FakeTiming();
    const timer = new ReconnectTimer('bench', timing);
    timing.time = 350;
    timer.kernelReady();
    timing.time = 420;
    const { entry, detail } = timer.finish('ok');

    expect(timing.marks).toEqual([
      { name: RECONNECT_START_MARK, detail: { key: 'bench' }, startTime: 100 },
      { name: RECONNECT_KERNEL_READY_MARK, detail: { key: 'bench' }, startTime: 350 }
    ]);
    expect(timing.measures).toEqual([
      { name: RECONNECT_MEASURE, options: { start: 100, end: 420, detail: { key: 'bench', status: 'ok', waitedForKernelMs: 250 } } }
    ]);
    expect(detail).toEqual({ key: 'bench', status: 'ok', waitedForKernelMs: 250 });
    expect(entry.duration).toBe(320);
  });

  it('counts the whole time as waiting when the kernel never became ready', () => {
    const timing = new FakeTiming();
    const timer = new ReconnectTimer('k', timing);
    timing.time = 160;
    expect(timer.finish('unknown').detail).toEqual({ key: 'k', status: 'unknown', waitedForKernelMs: 60 });
  });

  it('uses its own start, not the latest mark of that name, when two panels reconnect at once', () => {
    const timing = new FakeTiming();
    const first = new ReconnectTimer('a', timing);
    timing.time = 200;
    const second = new ReconnectTimer('b', timing);
    timing.time = 300;
    expect(first.finish('ok').entry.duration).toBe(200);
    expect(second.finish('ok').entry.duration).toBe(100);
  });
});

describe('ReconnectTimer with the real performance object', () => {
  afterEach(() => {
    performance.clearMarks();
    performance.clearMeasures();
  });

  it('leaves standard User Timing entries that a tool finds by name', () => {
    const timer = new ReconnectTimer('real');
    timer.kernelReady();
    timer.finish('ok');
    const measures = performance.getEntriesByName(RECONNECT_MEASURE, 'measure') as PerformanceMeasure[];
    expect(measures).toHaveLength(1);
    expect(measures[0]?.detail).toMatchObject({ key: 'real', status: 'ok' });
    expect(performance.getEntriesByName(RECONNECT_START_MARK, 'mark')).toHaveLength(1);
    expect(performance.getEntriesByName(RECONNECT_KERNEL_READY_MARK, 'mark')).toHaveLength(1);
  });
});
