/**
 * A page whose requests get no replies after a kernel restart is reconnected.
 *
 * Why: the kernel restarts on the same ports. When the last page to lose its websocket is put on
 * hold by jupyter_server (its ZMQ channels kept open, in the server's "offline message buffer"),
 * those channels reconnect to the restarted kernel under that page's session id, which is also
 * the ZMQ identity of the channels the page gets when it reconnects. If another page reconnects
 * first, the server discards the buffer, and the page's new shell channel shares an identity with
 * one the kernel's ROUTER socket still holds: the kernel's replies to that page go nowhere. The
 * page stays connected and sees the kernel idle, but every run in it waits for ever (`[*]`). One
 * page never meets this (its own buffer is handed back to it); two pages on one kernel, as with
 * real-time collaboration, do within a few restarts.
 *
 * The cure: after each restart, and before Reconnect runs anything, ask the kernel for its info
 * and watch for the reply; without one in `PROBE_TIMEOUT_MS`, reconnect this page's kernel
 * connection (a fresh websocket and fresh ZMQ channels, made after the stale ones are gone) and
 * ask again, up to `PROBE_ATTEMPTS` times. Runs sent meanwhile that the kernel never saw are sent
 * again once it answers (`UnseenRuns`).
 */

/** The part of a kernel connection this module uses (a `Kernel.IKernelConnection` is one). */
export interface ProbedKernel {
  readonly clientId: string;
  readonly isDisposed: boolean;
  readonly anyMessage: {
    connect(slot: (sender: unknown, args: { msg: ProbeMessage; direction: 'send' | 'recv' }) => void): boolean;
    disconnect(slot: (sender: unknown, args: { msg: ProbeMessage; direction: 'send' | 'recv' }) => void): boolean;
  };
  requestKernelInfo(): Promise<unknown>;
  reconnect(): Promise<void>;
}

/** The fields of a kernel message the probe reads. */
export interface ProbeMessage {
  channel?: string;
  header: { msg_type: string; msg_id?: string };
  parent_header: { msg_type?: string; session?: string; msg_id?: string };
}

export const PROBE_TIMEOUT_MS = 1500;
export const PROBE_ATTEMPTS = 4;

/** Does this page get a reply on its shell channel (a kernel_info_reply to its own request)? */
export function repliesArrive(kernel: ProbedKernel, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise(resolve => {
    const slot = (_: unknown, { msg, direction }: { msg: ProbeMessage; direction: 'send' | 'recv' }): void => {
      if (direction === 'recv' && msg.header.msg_type === 'kernel_info_reply' && msg.parent_header.session === kernel.clientId) {
        finish(true);
      }
    };
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      kernel.anyMessage.disconnect(slot);
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    kernel.anyMessage.connect(slot);
    kernel.requestKernelInfo().catch(() => undefined); // the answer, or its absence, is seen above
  });
}

/**
 * Make sure this page's requests to `kernel` are answered: probe, and reconnect the page's kernel
 * connection while they are not. Resolves true once a reply arrived, false if none did after
 * every attempt (or the kernel connection went away).
 */
export async function healReplies(
  kernel: ProbedKernel,
  timeoutMs = PROBE_TIMEOUT_MS,
  afterReconnect: () => void = () => undefined
): Promise<boolean> {
  for (let attempt = 0; attempt < PROBE_ATTEMPTS; attempt++) {
    if (kernel.isDisposed) return false;
    if (await repliesArrive(kernel, timeoutMs)) {
      if (attempt > 0) afterReconnect();
      return true;
    }
    if (kernel.isDisposed) return false;
    console.warn(
      '[fooocus-widgets] the kernel does not answer this page after a restart (stale ZMQ channels on the ' +
        'server): reconnecting this page to the kernel'
    );
    try {
      await kernel.reconnect();
    } catch (err) {
      console.error('[fooocus-widgets] could not reconnect this page to the kernel', err);
    }
  }
  return false;
}

/**
 * The runs this page sent that the kernel never saw: execute requests with no message at all in
 * return (no reply, and on iopub no busy status, input or output). Once the connection is healed
 * they are sent again as they were (the same message id), so the cells waiting for them get their
 * output and finish; a run the kernel did see (only its reply lost) is never sent twice.
 */
export class UnseenRuns {
  private readonly sent = new Map<string, { msg: ProbeMessage; at: number }>();

  /** Note one message that went out or came in on this page's kernel connection. */
  note(msg: ProbeMessage, direction: 'send' | 'recv', now = Date.now()): void {
    if (direction === 'send') {
      if (msg.header.msg_type === 'execute_request' && msg.header.msg_id) this.sent.set(msg.header.msg_id, { msg, at: now });
      return;
    }
    const parent = msg.parent_header.msg_id;
    if (parent) this.sent.delete(parent);
  }

  /** The runs sent since `since` that nothing came back for, oldest first; forgets them. */
  take(since: number): ProbeMessage[] {
    const unseen = [...this.sent.values()].filter(s => s.at >= since).map(s => s.msg);
    this.sent.clear();
    return unseen;
  }
}

/** The part of a session context the watch reads (an `ISessionContext` is one). */
export interface WatchedSession {
  readonly statusChanged: {
    connect(slot: () => void, thisArg?: unknown): boolean;
    disconnect(slot: () => void, thisArg?: unknown): boolean;
  };
  readonly session: { readonly kernel: (ProbedKernel & { readonly status: string }) | null } | null;
}

/** Statuses after which the kernel is a new process (a restart, a crash, a fresh start). */
const NEW_KERNEL_STATUSES = new Set(['restarting', 'autorestarting', 'starting']);

/**
 * One notebook's watch: heals the page's kernel connection after every restart (when the kernel
 * is idle again), and on demand before Reconnect runs anything. One probe at a time.
 */
export class RestartReplyWatch {
  private inFlight: Promise<boolean> | null = null;
  /** A restart was seen since the kernel was last idle. */
  private restarted = false;
  /** When the last restart began (runs sent since then may be lost). */
  private restartedAt = 0;
  private readonly unseen = new UnseenRuns();
  private watched: ProbedKernel | null = null;
  private disposed = false;

  constructor(
    private readonly ctx: WatchedSession,
    private readonly timeoutMs = PROBE_TIMEOUT_MS,
    /** Told when this page starts checking its kernel connection, and when it is done (./peer-links). */
    private readonly onLink: (state: 'checking' | 'ok') => void = () => undefined
  ) {
    ctx.statusChanged.connect(this.onStatus, this);
  }

  /** Make sure this page's requests are answered (see `healReplies`); true once they are. */
  ensure(): Promise<boolean> {
    const kernel = this.ctx.session?.kernel;
    if (this.disposed || !kernel) return Promise.resolve(false);
    this.follow(kernel);
    if (!this.inFlight) {
      this.onLink('checking');
      this.inFlight = healReplies(kernel, this.timeoutMs, () => this.resendUnseen(kernel)).finally(() => {
        this.inFlight = null;
        // done trying, healed or not: other windows need not wait for this one any longer
        if (!this.restarted) this.onLink('ok');
      });
    }
    return this.inFlight;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.ctx.statusChanged.disconnect(this.onStatus, this);
    this.watched?.anyMessage.disconnect(this.onMessage);
    this.watched = null;
  }

  /** Follow the messages of `kernel` (the session's kernel may change). */
  private follow(kernel: ProbedKernel): void {
    if (this.watched === kernel) return;
    this.watched?.anyMessage.disconnect(this.onMessage);
    this.watched = kernel;
    kernel.anyMessage.connect(this.onMessage);
  }

  private readonly onMessage = (_: unknown, { msg, direction }: { msg: ProbeMessage; direction: 'send' | 'recv' }): void => {
    this.unseen.note(msg, direction);
  };

  /** After a heal: send again the runs the kernel never saw (their cells wait for them). */
  private resendUnseen(kernel: ProbedKernel): void {
    const send = (kernel as unknown as { _sendMessage?: (msg: ProbeMessage) => void })._sendMessage;
    const runs = this.unseen.take(this.restartedAt);
    if (!runs.length) return;
    if (typeof send !== 'function') {
      console.warn(`[fooocus-widgets] ${runs.length} run(s) sent while the kernel could not answer are lost: run them again`);
      return;
    }
    for (const msg of runs) send.call(kernel, msg); // the same message id: the waiting cell gets the reply
    console.warn(`[fooocus-widgets] sent again ${runs.length} run(s) the kernel had not received`);
  }

  private readonly onStatus = (): void => {
    const status = this.ctx.session?.kernel?.status ?? '';
    // a restart goes restarting/autorestarting, then unknown or starting, busy, idle
    const kernel = this.ctx.session?.kernel;
    if (kernel) this.follow(kernel);
    if (NEW_KERNEL_STATUSES.has(status) && !this.restarted) {
      this.restarted = true;
      this.restartedAt = Date.now();
      this.onLink('checking'); // until the probe after the restart has its answer
    }
    if (status !== 'idle' || !this.restarted) return;
    this.restarted = false;
    void this.ensure().then(ok => {
      if (!ok) console.warn('[fooocus-widgets] after the restart the kernel still does not answer this page');
    });
  };
}
