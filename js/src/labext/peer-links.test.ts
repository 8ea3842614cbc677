/** Windows on one notebook tell each other when they are re-linking to a restarted kernel, and a
 *  rebuild waits (a bounded time) for the others. */

import { describe, expect, it, vi } from 'vitest';
import type { AwarenessLike } from './claim';
import { LINK_FIELD, LINK_WAIT_MS, PeerLinks } from './peer-links';
import { windows } from '../testing/awareness';

const settle = (ms = 60): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

describe('PeerLinks', () => {
  it('waits while another window checks its kernel connection, and goes on once it is linked', async () => {
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    const [a, b] = windows(2);
    const [mine, theirs] = [new PeerLinks(a as unknown as AwarenessLike), new PeerLinks(b as unknown as AwarenessLike)];
    theirs.publish('checking');
    await settle();
    expect(mine.checkingElsewhere()).toEqual([b!.clientID]);
    let done: boolean | null = null;
    void mine.settled().then(ok => (done = ok));
    await settle();
    expect(done).toBeNull();
    theirs.publish('ok');
    await settle();
    expect(done).toBe(true);
  });

  it("does not wait for its own window's check", async () => {
    const [a, b] = windows(2);
    const mine = new PeerLinks(a as unknown as AwarenessLike);
    mine.publish('checking');
    new PeerLinks(b as unknown as AwarenessLike).publish('ok');
    await settle();
    expect(await mine.settled(10)).toBe(true);
  });

  it('gives up after its time limit when a window stays checking (gone, or hung)', async () => {
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    const [a, b] = windows(2);
    new PeerLinks(b as unknown as AwarenessLike).publish('checking');
    await settle();
    expect(await new PeerLinks(a as unknown as AwarenessLike).settled(100)).toBe(false);
    // and a 'checking' seen LINK_WAIT_MS ago no longer counts at all
    let now = 1000;
    const later = new PeerLinks(a as unknown as AwarenessLike, () => now);
    expect(later.checkingElsewhere()).toHaveLength(1);
    now += LINK_WAIT_MS;
    expect(later.checkingElsewhere()).toHaveLength(0);
  });

  it('reads malformed states from other windows as no state, and clears its own on dispose', async () => {
    const [a, b] = windows(2);
    b!.setLocalStateField(LINK_FIELD, { state: '<b>checking</b>', at: 'soon' });
    await settle();
    const mine = new PeerLinks(a as unknown as AwarenessLike);
    expect(mine.checkingElsewhere()).toEqual([]);
    mine.publish('checking');
    expect(a!.getLocalState()?.[LINK_FIELD]).toMatchObject({ state: 'checking' });
    mine.dispose();
    expect(a!.getLocalState()?.[LINK_FIELD]).toBeNull();
  });
});
