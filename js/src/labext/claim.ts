/**
 * Who brings a panel back when several windows show the notebook (real-time collaboration): each
 * window that wants to rebuild a panel writes a claim into its own state in the shared document's
 * awareness, waits for the other windows' claims to arrive, and the earliest claim wins, ties going
 * to the lower client id. Every window sees the same claims and so picks the same winner: exactly
 * one rebuilds, the others wait and see the live panel arrive in the shared output. A claim lasts
 * while its window is connected and at most `CLAIM_TTL_MS` (a window that went away or hung does not
 * block the others for longer). Without collaboration the awareness has one window: no wait.
 */

/** The awareness state field our claims live in (a map panel key -> claim). */
export const CLAIM_FIELD = 'fooocusWidgetsReconnect';
/** How long a claim holds at most, counted from when this window first saw it. */
export const CLAIM_TTL_MS = 30_000;
/** How long a window waits for concurrent claims before it decides (awareness updates travel in
 *  one round trip through the server: tens of milliseconds on a local network). */
export const CLAIM_SETTLE_MS = 400;

/** One window's claim on one panel. */
export interface Claim {
  /** When the claiming window made it (its own clock; used only to order claims). */
  at: number;
}

/** The part of y-protocols' Awareness this module uses (the shared model's `awareness`). */
export interface AwarenessLike {
  clientID: number;
  getLocalState(): Record<string, unknown> | null;
  setLocalStateField(field: string, value: unknown): void;
  getStates(): Map<number, Record<string, unknown>>;
  on(event: 'change', listener: (...args: unknown[]) => void): void;
  off(event: 'change', listener: (...args: unknown[]) => void): void;
}

/**
 * Is real-time collaboration on in this page? jupyter-collaboration's server extension says so in
 * the page config (`disableRTC: false`); without it installed the option is absent.
 */
export function collaborationIsOn(doc: Document = document): boolean {
  try {
    const config = JSON.parse(doc.getElementById('jupyter-config-data')?.textContent ?? '{}') as Record<string, unknown>;
    return String(config.disableRTC) === 'false';
  } catch {
    return false;
  }
}

/** What a window may do about the panel `key`: rebuild it, or let the window that claimed it. */
export type ClaimOutcome = 'mine' | 'elsewhere';

function claimsOf(state: Record<string, unknown> | undefined | null): Record<string, Claim> {
  const field = state?.[CLAIM_FIELD];
  if (!field || typeof field !== 'object' || Array.isArray(field)) return {};
  const claims: Record<string, Claim> = {};
  for (const [key, value] of Object.entries(field as Record<string, unknown>)) {
    const at = (value as { at?: unknown } | null)?.at;
    if (typeof at === 'number' && Number.isFinite(at)) claims[key] = { at };
  }
  return claims;
}

/**
 * The claims on the panels of one notebook, seen from this window. Create one per notebook with
 * its shared model's awareness (or null: a document without one, where this window is alone).
 */
export class ReconnectClaims {
  /** When this window first saw each other window's claim ("client:key:at"), for the TTL. */
  private readonly firstSeen = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  private disposed = false;

  constructor(
    private readonly awareness: AwarenessLike | null,
    /** Real-time collaboration is on in this JupyterLab (see `collaborationIsOn`). */
    private readonly collaborative = false,
    private readonly now: () => number = () => Date.now(),
    private readonly sleep: (ms: number) => Promise<void> = ms => new Promise(resolve => setTimeout(resolve, ms))
  ) {
    awareness?.on('change', this.awarenessChanged);
  }

  /**
   * May another window be on this notebook? Yes when one is seen, and whenever collaboration is on:
   * a window that just joined sees the others only once they change their state.
   */
  get shared(): boolean {
    return !!this.awareness && (this.collaborative || this.awareness.getStates().size > 1);
  }

  /** The live claim another window holds on `key`, if any (none once it is older than the TTL). */
  heldElsewhere(key: string): boolean {
    if (!this.awareness) return false;
    const me = this.awareness.clientID;
    for (const [client, state] of this.awareness.getStates()) {
      if (client === me) continue;
      const claim = claimsOf(state)[key];
      if (claim && this.fresh(client, key, claim)) return true;
    }
    return false;
  }

  /**
   * Ask to rebuild `key`: 'mine' when this window is the one that does it (then `release` when
   * done), 'elsewhere' when another window's claim wins (this window's claim is withdrawn).
   */
  async claim(key: string): Promise<ClaimOutcome> {
    const awareness = this.awareness;
    if (!awareness || this.disposed) return 'mine';
    if (this.heldElsewhere(key)) return 'elsewhere';
    this.write(key, { at: this.now() });
    if (!this.shared) return 'mine'; // alone: nobody to wait for
    await this.sleep(CLAIM_SETTLE_MS);
    if (this.disposed) return 'elsewhere';
    if (this.winner(key) === awareness.clientID) return 'mine';
    this.write(key, null);
    return 'elsewhere';
  }

  /** This window is done with `key` (rebuilt or failed): withdraw its claim. */
  release(key: string): void {
    if (!this.disposed) this.write(key, null);
  }

  /** Call `listener` whenever any window's claims change (returns an unsubscribe). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const awareness = this.awareness;
    if (awareness) {
      awareness.off('change', this.awarenessChanged);
      if (Object.keys(claimsOf(awareness.getLocalState())).length) awareness.setLocalStateField(CLAIM_FIELD, {});
    }
    this.listeners.clear();
  }

  /** The client whose live claim on `key` comes first (earliest, then lowest id); null if none. */
  private winner(key: string): number | null {
    let best: { client: number; at: number } | null = null;
    for (const [client, state] of this.awareness?.getStates() ?? []) {
      const claim = claimsOf(state)[key];
      if (!claim || !this.fresh(client, key, claim)) continue;
      if (!best || claim.at < best.at || (claim.at === best.at && client < best.client)) best = { client, at: claim.at };
    }
    return best?.client ?? null;
  }

  private fresh(client: number, key: string, claim: Claim): boolean {
    if (client === this.awareness?.clientID) return true;
    const id = `${client}:${key}:${claim.at}`;
    let seen = this.firstSeen.get(id);
    if (seen === undefined) {
      seen = this.now();
      this.firstSeen.set(id, seen);
    }
    return this.now() - seen < CLAIM_TTL_MS;
  }

  private write(key: string, claim: Claim | null): void {
    const awareness = this.awareness;
    if (!awareness) return;
    const claims = { ...claimsOf(awareness.getLocalState()) };
    if (claim) claims[key] = claim;
    else delete claims[key];
    awareness.setLocalStateField(CLAIM_FIELD, claims);
  }

  private readonly awarenessChanged = (): void => {
    for (const listener of [...this.listeners]) listener();
  };
}
