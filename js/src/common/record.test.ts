/** Saved records: Python literals, rehydrate code (cell source as data), newest and fitting records. */

import { describe, expect, it } from 'vitest';
import { fitRecord, isRecord, MAX_RECORD_BYTES, newer, pyStr, rehydrateCode, type SavedRecord } from './record';
import { jsonSize, MAX_RECORD_DEPTH, MAX_SAVED_RECORD_BYTES, recordProblem } from './record';

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

/** Every Python string literal `pyStr` can write, anywhere in `code` (double-quoted, escapes). */
const PY_LITERAL = /"(?:[^"\\]|\\[\s\S])*"/g;

/** The text a `pyStr` literal holds, as Python reads it (JSON escapes plus `\UXXXXXXXX`). */
function decodePyStr(literal: string): string {
  const json = literal.replace(/\\(U([0-9a-f]{8})|[\s\S])/g, (escape: string, _body: string, astral?: string) =>
    astral ? String.fromCodePoint(parseInt(astral, 16)) : escape
  );
  return JSON.parse(json) as string;
}

const HOSTILE_SOURCES = [
  'import fooocus_widgets as fw; panel = fw.FooocusPanel(key="k1"); panel',
  "quote \" and ' both, \\ a backslash at the end \\",
  'three """ and \'\'\' quotes\n"""',
  '"); import os; os._exit(1); ("',
  '", cell_source=None); __import__("os").system("touch /tmp/pwned") #',
  'new\nlines\r\nand\ttabs\u0000nul',
  'ünïcödé ✓ 🦊 panel = fw.FooocusPanel()',
  'line\u2028separator\u2029paragraph',
  'lone \ud800 surrogate'
];

describe('rehydrateCode', () => {
  it('passes key, state, revision and pending as data in one expression whose value is the panel', () => {
    const code = rehydrateCode('k"ey', record(7, undefined, { state: { prompt: '"); boom(); ("' } }));
    expect(code).toBe(
      '__import__("fooocus_widgets").rehydrate("k\\"ey", "{\\"prompt\\":\\"\\\\\\"); boom(); (\\\\\\"\\"}", 7, None)'
    );
    expect(rehydrateCode('k', record(2, undefined, { pending: { done: 1 } }))).toContain(', 2, "{\\"done\\":1}")');
    expect(rehydrateCode('k', record(-3.7))).toContain('"k", "{\\"prompt\\":\\"p\\"}", 0, None)');
  });

  it.each(HOSTILE_SOURCES)('hands the cell source %j over as data that cannot break out', (source) => {
    const code = rehydrateCode('k1', record(3), source);
    expect(code.split('\n')).toHaveLength(1); // one line: nothing after it runs
    expect(/^[\x20-\x7e]*$/.test(code)).toBe(true); // printable ASCII only: no U+2028 for a tokenizer to split on
    // outside the string literals only the call itself is left
    expect(code.replace(PY_LITERAL, 'S')).toBe('__import__(S).rehydrate(S, S, 3, None, cell_source=S)');
    const literals = code.match(PY_LITERAL) ?? [];
    expect(decodePyStr(literals[literals.length - 1] ?? '')).toBe(source); // exactly the source, byte for byte
    expect(decodePyStr(literals[1] ?? '')).toBe('k1');
  });

  it('passes an empty cell as an empty string, and no source at all as no keyword', () => {
    expect(rehydrateCode('k', record(1), '')).toMatch(/, cell_source=""\)$/);
    expect(rehydrateCode('k', record(1))).not.toContain('cell_source');
  });
});

describe('records', () => {
  it('tells well-formed records from anything else', () => {
    expect(isRecord(record(1))).toBe(true);
    expect(isRecord({ revision: '1', state: {} })).toBe(false);
    expect(isRecord({ revision: 1, state: [] })).toBe(false);
    expect(isRecord(null)).toBe(false);
  });

  it('says why a record cannot be used, checking every member the page reads', () => {
    const good = record(3, undefined, { results: [{ hash: 'h', seed: '1', mini: 'data:image/png;base64,' }], pending: { done: 1 } });
    expect(recordProblem(good)).toBeNull();
    const broken: [unknown, RegExp][] = [
      [['a', 'list'], /^it is a list, not an object$/],
      ['text', /^it is text, not an object$/],
      [{ ...good, revision: '7' }, /^its revision is text, not a whole number/],
      [{ ...good, revision: 2 ** 60 }, /^its revision is beyond what a JS number holds exactly/],
      [{ ...good, revision: -1 }, /^its revision is negative/],
      [{ ...good, revision: 1.5 }, /^its revision is a fraction/],
      [{ ...good, schema_version: { major: 1 } }, /^its schema_version is an object/],
      [{ ...good, updated_at: 5 }, /^its updated_at is a number, not text$/],
      [{ ...good, state: ['prompt'] }, /^its state is a list, not an object$/],
      [{ ...good, state: undefined }, /^its state is missing, not an object$/],
      [{ ...good, results: { 0: {} } }, /^its results are an object, not a list$/],
      [{ ...good, results: [good.results?.[0], { hash: 5, seed: '1' }] }, /^its result 2 is not/],
      [{ ...good, results: [{ hash: 'h', seed: '1', mini: {} }] }, /^its result 1 is not/],
      [{ ...good, pending: ['seeds'] }, /^its pending batch is a list, not an object$/]
    ];
    for (const [value, why] of broken) {
      expect(recordProblem(value)).toMatch(why);
      expect(isRecord(value)).toBe(false);
    }
  });

  it('refuses a record over the size limit or nested too deep, without reading all of it', () => {
    const huge = record(1, undefined, { state: { prompt: 'x'.repeat(MAX_SAVED_RECORD_BYTES) } });
    expect(recordProblem(huge)).toMatch(/^it is too large \(over 1 MB\)$/);
    const many = record(1, undefined, { results: Array.from({ length: 20_000 }, (_, i) => ({ hash: `${i}`.padStart(64, '0'), seed: `${i}` })) });
    expect(recordProblem(many)).toMatch(/too large/);
    let deep: unknown = 'bottom';
    for (let i = 0; i < MAX_RECORD_DEPTH + 5; i++) deep = { down: deep };
    expect(recordProblem(record(1, undefined, { state: { future: deep } }))).toMatch(/nests deeper than 64 levels/);
    // what a newer version wrote is no problem
    expect(recordProblem({ ...record(1, undefined, { state: { future_knob: [1] } }), schema_version: 99, future: {} })).toBeNull();
  });

  it('counts JSON bytes exactly as JSON.stringify writes them', () => {
    const samples: unknown[] = [
      {},
      [],
      '',
      { a: [1, 2.5, -3e-7, true, false, null], b: { c: 'd' } },
      { quote: '"\\/\b\f\n\r\t\u0001\u001f', wide: 'é✓🦊', lone: '\ud800x\udc00', skip: undefined, n: NaN },
      [undefined, Infinity, { '"key"': 'v', 'ünï': '' }],
      record(4, undefined, { results: [{ hash: 'h', seed: '1', mini: 'data:image/png;base64,AAAA' }] })
    ];
    for (const value of samples) {
      const exact = new TextEncoder().encode(JSON.stringify(value)).length;
      expect(jsonSize(value, 10_000)).toBe(exact);
      expect(jsonSize(value, exact)).toBe(exact);
      if (exact > 2) expect(jsonSize(value, exact - 1)).toBe('too-large');
    }
    expect(jsonSize({ a: { b: {} } }, 100, 2)).toBe('too-deep');
    expect(jsonSize({ a: { b: 1 } }, 100, 2)).toBe(13);
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
