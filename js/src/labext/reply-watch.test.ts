import { describe, expect, it, vi } from 'vitest';
import { healReplies, PROBE_ATTEMPTS, RestartReplyWatch, UnseenRuns, type ProbeMessage, type ProbedKernel } from './reply-watch';

type Slot = (sender: unknown, args: { msg: ProbeMessage; direction: 'send' | 'recv' }) => void;

/** A kernel connection whose replies reach this page only after `deafFor` reconnects. */
function kernel(deafFor: number) {
  const slots = new Set<Slot>();
  const k = {
    clientId: 'page-1',
    isDisposed: false,
    status: 'idle',
    reconnects: 0,
    anyMessage: { connect: (s: Slot) => (slots.add(s), true), disconnect: (s: Slot) => slots.delete(s) },
    requestKernelInfo: vi.fn(async () => {
      if (k.reconnects < deafFor) return; // sent, never answered
      const reply = { channel: 'shell', header: { msg_type: 'kernel_info_reply' }, parent_header: { msg_type: 'kernel_info_request', session: 'page-1' } };
      // another page's reply on the same kernel is no proof for this one
      const other = { ...reply, parent_header: { msg_type: 'kernel_info_request', session: 'page-2' } };
      for (const s of [...slots]) s(null, { msg: other, direction: 'recv' });
      for (const s of [...slots]) s(null, { msg: reply, direction: 'recv' });
    }),
    reconnect: vi.fn(async () => {
      k.reconnects++;
    })
  };
  return k;
}

describe('healReplies', () => {
  it('does nothing more than one probe when replies arrive', async () => {
    const k = kernel(0);
    expect(await healReplies(k as ProbedKernel, 50)).toBe(true);
    expect(k.reconnect).not.toHaveBeenCalled();
  });

  it('reconnects the page while its requests go unanswered, then succeeds', async () => {
    const k = kernel(2);
    expect(await healReplies(k as ProbedKernel, 50)).toBe(true);
    expect(k.reconnect).toHaveBeenCalledTimes(2);
    expect(k.requestKernelInfo).toHaveBeenCalledTimes(3);
  });

  it('gives up after its attempts and says so', async () => {
    const k = kernel(99);
    expect(await healReplies(k as ProbedKernel, 20)).toBe(false);
    expect(k.reconnect).toHaveBeenCalledTimes(PROBE_ATTEMPTS);
  });
});

describe('RestartReplyWatch', () => {
  it('probes when the kernel is idle again after a restart, not on every idle', async () => {
    const k = kernel(0);
    const listeners = new Set<() => void>();
    const ctx = {
      statusChanged: { connect: (f: () => void) => (listeners.add(f), true), disconnect: (f: () => void) => listeners.delete(f) },
      session: { kernel: k }
    };
    const watch = new RestartReplyWatch(ctx, 50);
    const emit = (status: string) => {
      k.status = status;
      for (const f of [...listeners]) f();
    };
    emit('busy');
    emit('idle');
    expect(k.requestKernelInfo).not.toHaveBeenCalled();
    // a crash as JupyterLab reports it: the statuses in between vary
    for (const status of ['restarting', 'autorestarting', 'unknown', 'busy', 'idle', 'busy', 'idle']) emit(status);
    expect(k.requestKernelInfo).toHaveBeenCalledTimes(1);
    await watch.ensure(); // joins the probe in flight or makes a new one
    watch.dispose();
    emit('restarting');
    emit('idle');
    expect(listeners.size).toBe(0);
  });
});

describe('RestartReplyWatch link state', () => {
  it('says "checking" from the restart until its probe has an answer, then "ok"', async () => {
    const k = kernel(1); // deaf until reconnected once
    const listeners = new Set<() => void>();
    const ctx = {
      statusChanged: { connect: (f: () => void) => (listeners.add(f), true), disconnect: (f: () => void) => listeners.delete(f) },
      session: { kernel: k }
    };
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const said: string[] = [];
    const watch = new RestartReplyWatch(ctx, 20, state => said.push(state));
    const emit = (status: string) => {
      k.status = status;
      for (const f of [...listeners]) f();
    };
    emit('restarting');
    expect(said).toEqual(['checking']);
    emit('idle');
    await vi.waitFor(() => expect(said[said.length - 1]).toBe('ok'));
    expect(k.reconnect).toHaveBeenCalledTimes(1); // 'ok' only after the heal
    expect(said.filter(s => s === 'ok')).toHaveLength(1);
    watch.dispose();
  });
});

describe('UnseenRuns', () => {
  const run = (id: string) => ({ channel: 'shell', header: { msg_type: 'execute_request', msg_id: id }, parent_header: {} });
  const answer = (type: string, parent: string) => ({ channel: 'iopub', header: { msg_type: type }, parent_header: { msg_id: parent } });

  it('keeps only the runs nothing came back for, sent since the restart', () => {
    const runs = new UnseenRuns();
    runs.note(run('before'), 'send', 100);
    runs.note(run('seen'), 'send', 200);
    runs.note(run('lost'), 'send', 300);
    runs.note({ channel: 'shell', header: { msg_type: 'kernel_info_request', msg_id: 'probe' }, parent_header: {} }, 'send', 300);
    runs.note(answer('status', 'seen'), 'recv'); // the kernel took it: never sent twice
    expect(runs.take(150).map(m => m.header.msg_id)).toEqual(['lost']);
    expect(runs.take(0)).toEqual([]); // taken once
  });
});
