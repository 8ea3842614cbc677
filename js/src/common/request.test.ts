/** The message channel: typed sends, one listener, requests that always settle. */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KernelChannel, RequestError, type MessagingModel } from './request';
import type { ToKernelMessage } from './messages';

type Listener = (content: unknown, buffers: DataView[]) => void;

/** A model that records what was sent and lets the test play the kernel. */
class FakeKernelModel implements MessagingModel {
  readonly sent: ToKernelMessage[] = [];
  readonly listeners = new Set<Listener>();
  failSends = false;

  send(content: ToKernelMessage): void {
    if (this.failSends) throw new Error('comm closed');
    this.sent.push(content);
  }
  on(_event: 'msg:custom', callback: Listener): void {
    this.listeners.add(callback);
  }
  off(_event: 'msg:custom', callback: Listener): void {
    this.listeners.delete(callback);
  }
  reply(content: unknown, buffers: DataView[] = []): void {
    for (const listener of [...this.listeners]) listener(content, buffers);
  }
  /** The id of the last request sent. */
  lastId(): string {
    const last = this.sent[this.sent.length - 1];
    if (!last || !('id' in last)) throw new Error('no request sent');
    return last.id;
  }
}

let model: FakeKernelModel;
let channel: KernelChannel;

beforeEach(() => {
  vi.useFakeTimers();
  model = new FakeKernelModel();
  channel = new KernelChannel(model);
});

afterEach(() => {
  channel.dispose();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/** A request the test does not wait for (it fails when the channel closes after the test). */
function pending(promise: Promise<unknown>): void {
  promise.catch(() => {});
}

/** The error a promise rejected with (fails the test if it resolved). */
async function failure(promise: Promise<unknown>): Promise<RequestError> {
  const settled = await promise.then(
    () => null,
    (err: unknown) => err
  );
  if (!(settled instanceof RequestError)) throw new Error(`expected a RequestError, got ${String(settled)}`);
  return settled;
}

describe('KernelChannel', () => {
  it('listens once per model, however many requests wait', () => {
    pending(channel.request({ type: 'ping' }, { timeoutMs: 1000 }));
    pending(channel.request({ type: 'refresh' }, { timeoutMs: 1000 }));
    expect(model.listeners.size).toBe(1);
  });

  it('resolves a request with the reply that carries its id, and ignores other ids', async () => {
    const answer = channel.request({ type: 'refresh' }, { timeoutMs: 5000 });
    const id = model.lastId();
    expect(model.sent).toEqual([{ type: 'refresh', id }]);
    model.reply({ type: 'refreshed', id: `${id}-other`, models: 9, loras: 9, styles: 9 });
    expect(channel.pendingCount).toBe(1);
    model.reply({ type: 'refreshed', id, models: 2, loras: 1, styles: 40 });
    await expect(answer).resolves.toEqual({ reply: { type: 'refreshed', id, models: 2, loras: 1, styles: 40 }, buffers: [] });
    expect(channel.pendingCount).toBe(0);
  });

  it('gives each request its own id', () => {
    pending(channel.request({ type: 'ping' }, { timeoutMs: 1000 }));
    const first = model.lastId();
    pending(channel.request({ type: 'ping' }, { timeoutMs: 1000 }));
    expect(model.lastId()).not.toBe(first);
  });

  it('hands the binary buffers over with the reply', async () => {
    const answer = channel.request({ type: 'image', hash: 'a'.repeat(64) }, { timeoutMs: 5000 });
    const bytes = new DataView(new Uint8Array([137, 80, 78, 71]).buffer);
    model.reply({ type: 'image-bytes', id: model.lastId(), hash: 'a'.repeat(64), found: true, mime: 'image/png' }, [bytes]);
    const { reply, buffers } = await answer;
    expect(reply.found).toBe(true);
    expect(buffers).toEqual([bytes]);
  });

  it('times out with a message naming the kind, and forgets the request', async () => {
    const answer = failure(channel.request({ type: 'refresh' }, { timeoutMs: 3000 }));
    vi.advanceTimersByTime(2999);
    expect(channel.pendingCount).toBe(1);
    vi.advanceTimersByTime(1);
    const err = await answer;
    expect(err.failure).toBe('timeout');
    expect(err.message).toBe('No answer from the kernel to "refresh" within 3.0 s.');
    expect(channel.pendingCount).toBe(0);
  });

  it('stops waiting when its signal aborts, also one aborted before it was sent', async () => {
    const controller = new AbortController();
    const answer = failure(channel.request({ type: 'ping' }, { timeoutMs: 5000, signal: controller.signal }));
    controller.abort();
    expect((await answer).failure).toBe('aborted');
    expect(channel.pendingCount).toBe(0);
    const sentBefore = model.sent.length;
    expect((await failure(channel.request({ type: 'ping' }, { timeoutMs: 5000, signal: controller.signal }))).failure).toBe('aborted');
    expect(model.sent.length).toBe(sentBefore);
  });

  it('fails at once when the kernel refuses it, with the kernel’s reason', async () => {
    const answer = failure(channel.request({ type: 'image', hash: 'x' }, { timeoutMs: 5000 }));
    model.reply({ type: 'refused', id: model.lastId(), reason: 'hash: "x" is not a sha256 content hash' });
    const err = await answer;
    expect(err.failure).toBe('refused');
    expect(err.message).toBe('The kernel refused "image": hash: "x" is not a sha256 content hash');
  });

  it('fails on a reply of the wrong type for its id', async () => {
    const answer = failure(channel.request({ type: 'ping' }, { timeoutMs: 5000 }));
    model.reply({ type: 'refreshed', id: model.lastId(), models: 0, loras: 0, styles: 0 });
    expect((await answer).failure).toBe('bad-reply');
  });

  it('fails when the message cannot be sent (the comm is gone)', async () => {
    model.failSends = true;
    const err = await failure(channel.request({ type: 'ping' }, { timeoutMs: 5000 }));
    expect(err.failure).toBe('unsent');
    expect(channel.pendingCount).toBe(0);
    expect(channel.send({ type: 'generate' })).toBe(false);
  });

  it('fails every waiting request when disposed, and stops listening', async () => {
    const first = failure(channel.request({ type: 'ping' }, { timeoutMs: 5000 }));
    const second = failure(channel.request({ type: 'refresh' }, { timeoutMs: 5000 }));
    channel.dispose();
    expect((await first).failure).toBe('closed');
    expect((await second).failure).toBe('closed');
    expect(channel.pendingCount).toBe(0);
    expect(model.listeners.size).toBe(0);
    expect((await failure(channel.request({ type: 'ping' }, { timeoutMs: 5000 }))).failure).toBe('closed');
    vi.advanceTimersByTime(10_000); // no timer left to fire
  });

  it('warns about a message of unknown type or with bad fields, naming it', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    model.reply({ type: 'surprise', id: '1' });
    model.reply({ type: 'pong' });
    model.reply({ type: 'pong', id: '1', extra: true });
    model.reply({ type: 'refreshed', id: '1', models: '2', loras: 0, styles: 0 });
    model.reply('not an object');
    expect(warn.mock.calls.map(c => String(c[0]))).toEqual([
      '[fooocus-widgets] the kernel sent a message of unknown type "surprise"; ignored it.',
      '[fooocus-widgets] the kernel sent a "pong" message with missing or malformed fields; ignored it.',
      '[fooocus-widgets] the kernel sent a "pong" message with missing or malformed fields; ignored it.',
      '[fooocus-widgets] the kernel sent a "refreshed" message with missing or malformed fields; ignored it.',
      '[fooocus-widgets] the kernel sent a message that is not an object; ignored it.'
    ]);
  });

  it('warns about a refusal of a message that had no id', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    channel.send({ type: 'generate' });
    model.reply({ type: 'refused', id: '', reason: 'unknown message type "generate2"' });
    expect(warn).toHaveBeenCalledWith('[fooocus-widgets] the kernel refused a message: unknown message type "generate2"');
  });

  it('hands messages to the handlers of their type until they unsubscribe', () => {
    const pongs: string[] = [];
    const stop = channel.on('pong', message => pongs.push(message.id));
    model.reply({ type: 'pong', id: 'late-1' });
    stop();
    model.reply({ type: 'pong', id: 'late-2' });
    expect(pongs).toEqual(['late-1']);
  });

  it('refuses to send more buffers than the contract allows', () => {
    expect(() => channel.send({ type: 'generate' }, [new ArrayBuffer(1)])).toThrow('"generate" carries at most 0 buffer(s), not 1');
    expect(channel.send({ type: 'load-image', name: 'a.png' }, [new ArrayBuffer(1)])).toBe(true);
  });
});
