/** Saved records: Python literals, panel variables, rehydrate code, newest and fitting records. */

import { describe, expect, it } from 'vitest';
import { fitRecord, isRecord, MAX_RECORD_BYTES, newer, panelVariable, pyStr, rehydrateCode, type SavedRecord } from './record';

const record = (revision: number, updated_at = '2026-01-01T00:00:00Z', extra: Partial<SavedRecord> = {}): SavedRecord => ({
  schema_version: 1, revision, updated_at, state: { prompt: 'p' }, ...extra
});

describe('pyStr', () => {
  it('escapes everything that could end or change a Python literal', () => {
    expect(pyStr('a "b" \\ c\nd')).toBe('"a \\"b\\" \\\\ c\\nd"');
    expect(pyStr('🦊')).toBe('"\\U0001f98a"');
    expect(pyStr('\u2028é')).toBe('"\\u2028\\u00e9"');
    expect(pyStr("'''); import os; os._exit(1) #")).toBe('"\'\'\'); import os; os._exit(1) #"');
    expect(/^[\x20-\x7e]*$/.test(pyStr('any ✓ text\t\r\n\u0000'))).toBe(true);
  });
});

describe('panelVariable', () => {
  it('finds the variable a cell binds its panel to, and nothing else', () => {
    expect(panelVariable('import fooocus_widgets as fw\npanel = fw.FooocusPanel(key="x")\npanel')).toBe('panel');
    expect(panelVariable('p2 = FooocusPanel()')).toBe('p2');
    expect(panelVariable('fw.FooocusPanel()')).toBeUndefined();
    expect(panelVariable('x = 1; os.system("rm") ; y = fw.FooocusPanel()')).toBeUndefined();
  });
});

describe('rehydrateCode', () => {
  it('passes key, state and revision as data, and binds the variable again', () => {
    const code = rehydrateCode('k"ey', record(7, undefined, { state: { prompt: '"); boom(); ("' } }), 'panel');
    expect(code).toBe(
      'import fooocus_widgets\npanel = fooocus_widgets.rehydrate("k\\"ey", "{\\"prompt\\":\\"\\\\\\"); boom(); (\\\\\\"\\"}", 7, None)\npanel'
    );
    expect(rehydrateCode('k', record(2, undefined, { pending: { done: 1 } }), 'bad name')).toContain(', 2, "{\\"done\\":1}")');
  });
});

describe('records', () => {
  it('tells well-formed records from anything else', () => {
    expect(isRecord(record(1))).toBe(true);
    expect(isRecord({ revision: '1', state: {} })).toBe(false);
    expect(isRecord({ revision: 1, state: [] })).toBe(false);
    expect(isRecord(null)).toBe(false);
  });
  it('picks the higher revision, then the later save', () => {
    expect(newer(record(2), record(3))?.revision).toBe(3);
    expect(newer(record(3, '2026-01-01'), record(3, '2026-02-01'))?.updated_at).toBe('2026-02-01');
    expect(newer(undefined, record(1))?.revision).toBe(1);
  });
  it('drops thumbnails when an entry would pass 256 KB', () => {
    const results = Array.from({ length: 40 }, (_, i) => ({ hash: String(i), seed: String(i), mini: 'x'.repeat(10_000) }));
    const fitted = fitRecord(record(1, undefined, { results }));
    expect(JSON.stringify(fitted).length).toBeLessThan(MAX_RECORD_BYTES);
    expect(fitted.results?.[0]).toEqual({ hash: '0', seed: '0' });
    const small = record(1, undefined, { results: [{ hash: 'a', seed: '1', mini: 'data:' }] });
    expect(fitRecord(small)).toBe(small);
  });
});
