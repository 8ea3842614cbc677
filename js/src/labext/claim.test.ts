import { describe, expect, it, vi } from 'vitest';
import { CLAIM_FIELD, CLAIM_SETTLE_MS, CLAIM_TTL_MS, collaborationIsOn, ReconnectClaims, type AwarenessLike } from './claim';
import { windows } from '../testing/awareness';

describe('ReconnectClaims', () => {
  it('alone (no collaboration), a window claims at once without waiting', async () => {
    const [only] = windows(1);
    const sleep = vi.fn(async () => {});
    const claims = new ReconnectClaims(only as unknown as AwarenessLike, false, Date.now, sleep);
    expect(await claims.claim('k')).toBe('mine');
    expect(sleep).not.toHaveBeenCalled();
    claims.release('k');
    expect(only!.getLocalState()?.[CLAIM_FIELD]).toEqual({});
  });

  it('with collaboration on, a window that sees nobody yet still waits for concurrent claims', async () => {
    const [only] = windows(1);
    const sleep = vi.fn(async () => {});
    const claims = new ReconnectClaims(only as unknown as AwarenessLike, true, Date.now, sleep);
    expect(await claims.claim('k')).toBe('mine');
    expect(sleep).toHaveBeenCalledWith(CLAIM_SETTLE_MS);
  });

  it('reads whether collaboration is on from the page config', () => {
    const page = document.implementation.createHTMLDocument('');
    expect(collaborationIsOn(page)).toBe(false);
    const script = page.createElement('script');
    script.id = 'jupyter-config-data';
    script.textContent = JSON.stringify({ disableRTC: false });
    page.body.append(script);
    expect(collaborationIsOn(page)).toBe(true);
    script.textContent = JSON.stringify({ disableRTC: true });
    expect(collaborationIsOn(page)).toBe(false);
  });

  it('without an awareness at all (a plain document), the window rebuilds', async () => {
    expect(await new ReconnectClaims(null).claim('k')).toBe('mine');
  });

  it('two windows claiming within 100 ms: exactly one rebuilds, and both agree which', async () => {
    const [a, b] = windows(2);
    await new Promise(r => setTimeout(r, 50)); // the states have reached each other
    const ca = new ReconnectClaims(a as unknown as AwarenessLike);
    const cb = new ReconnectClaims(b as unknown as AwarenessLike);
    expect(ca.shared && cb.shared).toBe(true);
    const first = ca.claim('k');
    await new Promise(r => setTimeout(r, 60));
    const second = cb.claim('k');
    const outcomes = await Promise.all([first, second]);
    expect(outcomes.filter(o => o === 'mine')).toHaveLength(1);
    expect(outcomes).toEqual(['mine', 'elsewhere']); // the earlier claim wins
    await new Promise(r => setTimeout(r, 50));
    expect(cb.heldElsewhere('k')).toBe(true); // b waits for a
    expect(ca.heldElsewhere('k')).toBe(false);
    ca.release('k');
    await new Promise(r => setTimeout(r, 50));
    expect(cb.heldElsewhere('k')).toBe(false);
  });

  it('same instant: the lower client id wins in every window', async () => {
    const [a, b, c] = windows(3);
    await new Promise(r => setTimeout(r, 50));
    const now = () => 1_000_000;
    const claims = [a, b, c].map(w => new ReconnectClaims(w as unknown as AwarenessLike, true, now));
    const outcomes = await Promise.all(claims.map(x => x.claim('k')));
    expect(outcomes.filter(o => o === 'mine')).toHaveLength(1);
    const lowest = Math.min(a!.clientID, b!.clientID, c!.clientID);
    expect(outcomes[[a, b, c].findIndex(w => w!.clientID === lowest)]).toBe('mine');
  });

  it('a claim already held elsewhere is respected without waiting; other panels are free', async () => {
    const [a, b] = windows(2);
    await new Promise(r => setTimeout(r, 50));
    const ca = new ReconnectClaims(a as unknown as AwarenessLike);
    const cb = new ReconnectClaims(b as unknown as AwarenessLike);
    expect(await ca.claim('k')).toBe('mine');
    await new Promise(r => setTimeout(r, 50));
    const started = Date.now();
    expect(await cb.claim('k')).toBe('elsewhere');
    expect(Date.now() - started).toBeLessThan(CLAIM_SETTLE_MS);
    expect(await cb.claim('other')).toBe('mine');
  });

  it('a claim from a window that went silent expires after the TTL', async () => {
    const [a, b] = windows(2);
    await new Promise(r => setTimeout(r, 50));
    let clock = 5_000;
    const cb = new ReconnectClaims(b as unknown as AwarenessLike, true, () => clock, async () => {});
    const ca = new ReconnectClaims(a as unknown as AwarenessLike);
    expect(await ca.claim('k')).toBe('mine');
    await new Promise(r => setTimeout(r, 50));
    expect(cb.heldElsewhere('k')).toBe(true);
    clock += CLAIM_TTL_MS + 1;
    expect(cb.heldElsewhere('k')).toBe(false);
    expect(await cb.claim('k')).toBe('mine');
  });

  it('tells listeners when claims change, and ignores malformed claim fields', async () => {
    const [a, b] = windows(2);
    await new Promise(r => setTimeout(r, 50));
    const cb = new ReconnectClaims(b as unknown as AwarenessLike);
    const seen = vi.fn();
    cb.onChange(seen);
    a!.setLocalStateField(CLAIM_FIELD, { k: { at: 'soon' }, j: null, x: { at: 5 } });
    await new Promise(r => setTimeout(r, 50));
    expect(seen).toHaveBeenCalled();
    expect(cb.heldElsewhere('k')).toBe(false);
    expect(cb.heldElsewhere('j')).toBe(false);
    expect(cb.heldElsewhere('x')).toBe(true);
    cb.dispose();
  });
});
