/**
 * Which windows on this notebook are still re-linking to a restarted kernel (real-time
 * collaboration). Each window says in the shared document's awareness whether its kernel
 * connection is being checked after a restart ('checking', ./reply-watch probes it and may open it
 * again) or answers ('ok'). The window that rebuilds a panel waits, a bounded time, until no other
 * window is checking: a window whose kernel connection is opened again misses what the kernel
 * broadcasts meanwhile, and when that is the rebuilt panel's new widget model (its comm_open), the
 * window shows the panel's output without its model, dead, for good.
 */

import type { AwarenessLike } from './claim';

/** The awareness state field a window's link state lives in. */
export const LINK_FIELD = 'fooocusWidgetsKernelLink';
/** The longest a rebuild waits for other windows, and how long a 'checking' counts (a window that
 *  went away or hung while checking does not hold the others up for longer). */
export const LINK_WAIT_MS = 8000;

/** A window's kernel connection after a restart: being checked, or answering. */
export type LinkState = 'checking' | 'ok';

function linkOf(state: Record<string, unknown> | undefined | null): { state: LinkState; at: number } | null {
  const field = state?.[LINK_FIELD] as { state?: unknown; at?: unknown } | null | undefined;
  if (!field || typeof field !== 'object') return null;
  if ((field.state !== 'checking' && field.state !== 'ok') || typeof field.at !== 'number') return null;
  return { state: field.state, at: field.at };
}

/** This window's link state, published, and the other windows', read (one per notebook). */
export class PeerLinks {
  /** When this window first saw each other window's 'checking' ("client:at"), for the time limit. */
  private readonly firstSeen = new Map<string, number>();
  private disposed = false;

  constructor(
    private readonly awareness: AwarenessLike | null,
    private readonly now: () => number = () => Date.now()
  ) {}

  /** Tell the other windows how this window's kernel connection is. */
  publish(state: LinkState): void {
    if (this.disposed || !this.awareness) return;
    this.awareness.setLocalStateField(LINK_FIELD, { state, at: this.now() });
  }

  /** The other windows checking their kernel connection now (for at most `LINK_WAIT_MS`). */
  checkingElsewhere(): number[] {
    const awareness = this.awareness;
    if (!awareness || this.disposed) return [];
    const checking: number[] = [];
    for (const [client, state] of awareness.getStates()) {
      if (client === awareness.clientID) continue;
      const link = linkOf(state);
      if (link?.state !== 'checking') continue;
      const id = `${client}:${link.at}`;
      const seen = this.firstSeen.get(id) ?? this.now();
      this.firstSeen.set(id, seen);
      if (this.now() - seen < LINK_WAIT_MS) checking.push(client);
    }
    return checking;
  }

  /**
   * Resolves true once no other window is checking its kernel connection, false when some still
   * were after `timeoutMs` (the caller goes on then: a stuck window must not block a rebuild).
   */
  settled(timeoutMs = LINK_WAIT_MS): Promise<boolean> {
    const awareness = this.awareness;
    if (!awareness || !this.checkingElsewhere().length) return Promise.resolve(true);
    console.info('[fooocus-widgets] waiting for another window on this notebook to reconnect to the kernel');
    return new Promise(resolve => {
      const check = (): void => {
        if (this.disposed || !this.checkingElsewhere().length) finish(true);
      };
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        clearInterval(poll);
        awareness.off('change', check);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const poll = setInterval(check, 250); // 'checking' also ends by time, with no change event
      awareness.on('change', check);
    });
  }

  dispose(): void {
    if (this.disposed) return;
    if (linkOf(this.awareness?.getLocalState())) this.awareness?.setLocalStateField(LINK_FIELD, null);
    this.disposed = true;
  }
}
