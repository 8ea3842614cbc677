/** The metadata bridge: reading untrusted records back and writing only newer ones. */

import { describe, expect, it } from 'vitest';
import { METADATA_KEY, type SavedRecord } from '../common/record';
import { readMetadata, readRecord, writeRecord, type MetadataHost } from './metadata';

/** A notebook model that only keeps metadata, counting writes. */
function host(initial?: unknown): MetadataHost & { writes: number; data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  if (initial !== undefined) data.set(METADATA_KEY, initial);
  const h = {
    writes: 0,
    data,
    model: {
      getMetadata: (key: string): unknown => data.get(key),
      setMetadata: (key: string, value: unknown): void => {
        h.writes += 1;
        data.set(key, value);
      }
    }
  };
  return h;
}

const record = (revision: number, prompt = 'p', updated_at = `t${revision}`): SavedRecord => ({
  schema_version: 1,
  revision,
  updated_at,
  state: { prompt }
});

describe('metadata bridge', () => {
  it('reads only well-formed records', () => {
    const h = host({ panels: { good: record(1), bad: { revision: 'x' }, worse: null } });
    expect(Object.keys(readMetadata(h).panels)).toEqual(['good']);
    expect(readMetadata(host('junk')).panels).toEqual({});
    expect(readRecord(host(), 'good')).toBeUndefined();
  });

  it('writes a newer record next to the others and skips older or unchanged ones', () => {
    const h = host({ panels: { other: record(5) } });
    writeRecord(h, 'k', record(2));
    expect(readRecord(h, 'k')?.revision).toBe(2);
    expect(readRecord(h, 'other')?.revision).toBe(5);
    writeRecord(h, 'k', record(1)); // older
    writeRecord(h, 'k', record(2, 'p', 'later')); // same content, new timestamp
    expect(h.writes).toBe(1);
    writeRecord(h, 'k', record(3, 'q'));
    expect(readRecord(h, 'k')?.state).toEqual({ prompt: 'q' });
    expect(h.writes).toBe(2);
  });

  it('does nothing without a notebook model', () => {
    expect(() => writeRecord({ model: null }, 'k', record(1))).not.toThrow();
  });
});
