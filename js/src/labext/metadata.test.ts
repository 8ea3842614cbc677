/** The metadata bridge: reading untrusted records back and writing only newer ones. */

import { describe, expect, it } from 'vitest';
import { MAX_SAVED_RECORD_BYTES, METADATA_KEY, type SavedRecord } from '../common/record';
import { readMetadata, readRecord, readSaved, withKeptKeys, writeRecord, type MetadataHost } from './metadata';

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
    expect(writeRecord({ model: null }, 'k', record(1))).toBeUndefined();
    expect(readSaved({ model: null }, 'k')).toEqual({});
  });

  it('says why an entry was refused, and says nothing when there is none', () => {
    expect(readSaved(host(), 'k')).toEqual({});
    expect(readSaved(host({ panels: { other: record(1) } }), 'k')).toEqual({});
    expect(readSaved(host({ panels: { k: record(1) } }), 'k')).toEqual({ record: record(1) });
    const refused = (meta: unknown): string => readSaved(host(meta), 'k').refused ?? '';
    expect(refused({ panels: { k: { ...record(1), revision: '1' } } })).toMatch(
      /^The copy of this panel saved in the notebook was not used: its revision is text, not a whole number/
    );
    expect(refused({ panels: { k: { ...record(1), state: { prompt: 'x'.repeat(MAX_SAVED_RECORD_BYTES) } } } })).toMatch(
      /not used: it is too large \(over 1 MB\)/
    );
    expect(refused('junk')).toMatch(/"fooocus_widgets" metadata is not an object/);
    expect(refused({ panels: ['k'] })).toMatch(/"fooocus_widgets.panels" is not an object/);
  });

  it("never takes a member of Object.prototype for a panel's entry", () => {
    const h = host({ panels: {} });
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(readSaved(h, key)).toEqual({});
      expect(readRecord(h, key)).toBeUndefined();
    }
    writeRecord(h, '__proto__', record(1));
    expect(Object.getPrototypeOf(readMetadata(h).panels)).toBe(Object.prototype);
    expect(readRecord(h, '__proto__')?.revision).toBe(1);
    expect(Object.keys(readMetadata(h).panels)).toEqual(['__proto__']);
    // as a file brings it: JSON.parse makes `__proto__` an own member, not a prototype
    const parsed = host(JSON.parse(`{"panels": {"__proto__": ${JSON.stringify(record(3))}}}`));
    expect(readRecord(parsed, '__proto__')?.revision).toBe(3);
    expect(readSaved(parsed, 'revision')).toEqual({});
  });

  it('keeps what a newer version wrote: members of the container, the record and its state', () => {
    const future = { ...record(4), schema_version: 99, future_section: { kept: true }, state: { prompt: 'p', future_knob: [1, 'two'] } };
    const h = host({ panels: { k: future, other: { revision: 'not ours to judge' } }, future_index: ['a'] });
    const written = writeRecord(h, 'k', record(5, 'edited'));
    const meta = h.data.get(METADATA_KEY) as Record<string, unknown> & { panels: Record<string, Record<string, unknown>> };
    expect(meta.future_index).toEqual(['a']);
    expect(meta.panels.other).toEqual({ revision: 'not ours to judge' }); // small: kept as it is
    expect(meta.panels.k).toEqual({ ...record(5, 'edited'), future_section: { kept: true }, state: { prompt: 'edited', future_knob: [1, 'two'] } });
    expect(written).toEqual(meta.panels.k);
    // what this version writes is never taken from the old copy
    const dropped = withKeptKeys({ ...record(6), state: {} }, { ...record(5), pending: { done: 1 }, state: { prompt: 'old', seed: '1' } });
    expect(dropped).toEqual({ ...record(6), state: {} });
  });

  it('replaces a refused entry and drops one too large to ever be read', () => {
    const huge = { ...record(9), state: { prompt: 'x'.repeat(MAX_SAVED_RECORD_BYTES) } };
    const h = host({ panels: { k: huge, big: huge, small: record(2) } });
    expect(readSaved(h, 'k').refused).toMatch(/too large/);
    writeRecord(h, 'k', record(1, 'fresh')); // a lower revision, but the old entry was refused
    expect(readSaved(h, 'k')).toEqual({ record: record(1, 'fresh') });
    expect(Object.keys(readMetadata(h).panels).sort()).toEqual(['k', 'small']);
    expect(JSON.stringify(h.data.get(METADATA_KEY)).length).toBeLessThan(1000);
  });

  it('does not write a copy that differs from the notebook\'s only in the order of its members', () => {
    const h = host({ panels: { k: { state: { prompt: 'p' }, updated_at: 'old', revision: 2, schema_version: 1 } } });
    expect(writeRecord(h, 'k', record(2))?.updated_at).toBe('old');
    expect(h.writes).toBe(0);
  });
});
