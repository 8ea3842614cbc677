/** Test helper: several windows' awareness on one shared notebook, relayed as the server does. */

import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import * as Y from 'yjs';

/**
 * Windows on one notebook: real y-protocols awareness objects, each update relayed to the others
 * after `delayMs` (as the collaboration server does).
 */
export function windows(count: number, delayMs = 20): Awareness[] {
  const all = Array.from({ length: count }, () => new Awareness(new Y.Doc()));
  for (const from of all) {
    from.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      if (origin === 'remote') return;
      const changed = [...added, ...updated, ...removed];
      const update = encode(from, changed);
      for (const to of all) if (to !== from) setTimeout(() => apply(to, update), delayMs);
    });
  }
  // everyone knows everyone from the start (the server relays existing states on connect)
  for (const from of all) {
    from.setLocalState({ user: from.clientID });
  }
  return all;
}

const encode = (a: Awareness, clients: number[]): Uint8Array => encodeAwarenessUpdate(a, clients);
const apply = (a: Awareness, update: Uint8Array): void => applyAwarenessUpdate(a, update, 'remote');

