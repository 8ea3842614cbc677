/**
 * The panel's one line to the kernel. Out: typed messages (`ToKernelMessage`), never a loose
 * object. In: ONE `msg:custom` listener per model, which checks each message against
 * `ToPageMessage` and hands it to whoever waits for its type (an unknown type is warned about by
 * name, never dropped silently). Requests (`request`) get an id, wait for the reply carrying the
 * same id, and fail with a `RequestError` on timeout, on abort, on the kernel's `refused`, or when
 * the channel closes: no request is ever left pending.
 */

import {
  BUFFERS,
  FIELD_TYPES,
  REPLY_TYPES,
  TO_PAGE_TYPES,
  type Replies,
  type ToKernelMessage,
  type ToPageMessage
} from './messages';

/** The part of an anywidget model the channel uses (an `AnyModel` is one). */
export interface MessagingModel {
  send(content: ToKernelMessage, callbacks?: undefined, buffers?: ArrayBuffer[]): void;
  on(event: 'msg:custom', callback: (content: unknown, buffers: DataView[]) => void): void;
  off(event: 'msg:custom', callback: (content: unknown, buffers: DataView[]) => void): void;
}

/** Kinds of request that have a reply. */
export type RequestKind = keyof Replies;
/** The message of a request kind, without the `id` the channel gives it. */
export type RequestMessage<K extends RequestKind> = Omit<Extract<ToKernelMessage, { type: K }>, 'id'>;
/** A message from the kernel of one type. */
export type PageMessageOf<T extends ToPageMessage['type']> = Extract<ToPageMessage, { type: T }>;

export interface RequestOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** Give up when this aborts. */
  signal?: AbortSignal;
}

/** A reply and the binary buffers that came with it (an image's bytes). */
export interface ReplyWithBuffers<K extends RequestKind> {
  reply: Replies[K];
  buffers: DataView[];
}

/** Why a request did not get its reply. */
export type RequestFailure = 'timeout' | 'aborted' | 'refused' | 'closed' | 'unsent' | 'bad-reply';

export class RequestError extends Error {
  constructor(
    /** The kind of request that failed. */
    readonly kind: RequestKind,
    readonly failure: RequestFailure,
    message: string
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

type Fields = Record<string, unknown>;

/** Does `value` have the JSON type `typeof` would name `expected` ('object': a plain object)? */
function hasType(value: unknown, expected: string): boolean {
  if (expected === 'object') return !!value && typeof value === 'object' && !Array.isArray(value);
  return typeof value === expected;
}

/** Does `m` hold exactly the fields its kind declares (FIELD_TYPES, generated from Python)? */
function wellFormed(type: ToPageMessage['type'], m: Fields): boolean {
  const declared: Record<string, string> = FIELD_TYPES[type];
  const names = Object.keys(m).filter(name => name !== 'type');
  return (
    names.length === Object.keys(declared).length &&
    names.every(name => name in declared && hasType(m[name], declared[name] ?? ''))
  );
}

function isPageType(type: unknown): type is ToPageMessage['type'] {
  return (TO_PAGE_TYPES as readonly unknown[]).includes(type);
}

/** `content` as a `ToPageMessage`, or a sentence saying why it is not one. */
export function readPageMessage(content: unknown): ToPageMessage | string {
  if (!content || typeof content !== 'object' || Array.isArray(content)) return 'a message that is not an object';
  const fields = content as Fields;
  if (!isPageType(fields.type)) return `a message of unknown type ${JSON.stringify(fields.type)}`;
  if (!wellFormed(fields.type, fields)) return `a "${fields.type}" message with missing or malformed fields`;
  // checked just above, member by member
  return fields as unknown as ToPageMessage;
}

/** Is `message` of `type`? */
function isOfType<T extends ToPageMessage['type']>(message: ToPageMessage, type: T): message is PageMessageOf<T> {
  return message.type === type;
}

/** Is `message` the reply that a request of `kind` waits for? */
function isReplyTo<K extends RequestKind>(kind: K, message: ToPageMessage): message is Replies[K] {
  return message.type === REPLY_TYPES[kind];
}

interface Pending {
  kind: RequestKind;
  /** Settle with this message (the reply, a refusal, or a reply of the wrong type). */
  answer(message: ToPageMessage, buffers: DataView[]): void;
  /** Settle with an error (closing channel). */
  fail(error: RequestError): void;
}

type Handler = (message: ToPageMessage, buffers: DataView[]) => void;

/** The one message channel of one model. */
export class KernelChannel {
  private readonly pending = new Map<string, Pending>();
  private readonly handlers = new Map<ToPageMessage['type'], Set<Handler>>();
  private readonly idPrefix = `${Math.random().toString(36).slice(2, 8)}-`;
  private nextId = 0;
  private closed = false;

  constructor(private readonly model: MessagingModel) {
    model.on('msg:custom', this.receive);
  }

  /** How many requests wait for a reply (for tests and diagnostics). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Send a message that needs no reply. False when it could not be handed over (comm gone). */
  send(message: ToKernelMessage, buffers: ArrayBuffer[] = []): boolean {
    if (buffers.length > BUFFERS[message.type]) {
      throw new Error(`"${message.type}" carries at most ${BUFFERS[message.type]} buffer(s), not ${buffers.length}`);
    }
    if (this.closed) return false;
    try {
      this.model.send(message, undefined, buffers);
      return true;
    } catch {
      return false;
    }
  }

  /** Call `handler` for every well-formed incoming message of `type`; returns an unsubscribe. */
  on<T extends ToPageMessage['type']>(type: T, handler: (message: PageMessageOf<T>, buffers: DataView[]) => void): () => void {
    const wrapped: Handler = (message, buffers) => {
      if (isOfType(message, type)) handler(message, buffers);
    };
    const set = this.handlers.get(type) ?? new Set<Handler>();
    set.add(wrapped);
    this.handlers.set(type, set);
    return () => set.delete(wrapped);
  }

  /** Send a request and wait for its reply (same id). Rejects with a `RequestError`. */
  request<K extends RequestKind>(message: RequestMessage<K> & { type: K }, options: RequestOptions): Promise<ReplyWithBuffers<K>> {
    const kind = message.type;
    const id = `${this.idPrefix}${++this.nextId}`;
    return new Promise<ReplyWithBuffers<K>>((resolve, reject) => {
      const { signal, timeoutMs } = options;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
      };
      const fail = (failure: RequestFailure, text: string): void => {
        finish();
        reject(new RequestError(kind, failure, text));
      };
      const onAbort = (): void => fail('aborted', `"${kind}" was cancelled.`);
      if (this.closed) return fail('closed', `"${kind}" was not sent: the panel was closed.`);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort);
      timer = setTimeout(
        () => fail('timeout', `No answer from the kernel to "${kind}" within ${(timeoutMs / 1000).toFixed(1)} s.`),
        timeoutMs
      );
      this.pending.set(id, {
        kind,
        answer: (reply, buffers) => {
          if (isReplyTo(kind, reply)) {
            finish();
            resolve({ reply, buffers });
          } else if (reply.type === 'refused') {
            fail('refused', `The kernel refused "${kind}": ${reply.reason}`);
          } else {
            fail('bad-reply', `"${kind}" got a "${reply.type}" reply instead of "${REPLY_TYPES[kind]}".`);
          }
        },
        fail: error => {
          finish();
          reject(error);
        }
      });
      // the message's type is K, so with its id it is the request message of K
      const full = { ...message, id } as unknown as ToKernelMessage;
      try {
        this.model.send(full, undefined, []);
      } catch (err) {
        fail('unsent', `"${kind}" could not be sent: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  /** Stop listening and fail every request still waiting. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.model.off('msg:custom', this.receive);
    for (const entry of [...this.pending.values()]) {
      entry.fail(new RequestError(entry.kind, 'closed', `"${entry.kind}" was dropped: the panel was closed.`));
    }
    this.pending.clear();
    this.handlers.clear();
  }

  private readonly receive = (content: unknown, buffers: DataView[] = []): void => {
    const message = readPageMessage(content);
    if (typeof message === 'string') {
      console.warn(`[fooocus-widgets] the kernel sent ${message}; ignored it.`);
      return;
    }
    const waiting = 'id' in message ? this.pending.get(message.id) : undefined;
    if (waiting) waiting.answer(message, buffers);
    else if (message.type === 'refused') console.warn(`[fooocus-widgets] the kernel refused a message: ${message.reason}`);
    for (const handler of [...(this.handlers.get(message.type) ?? [])]) handler(message, buffers);
  };
}
