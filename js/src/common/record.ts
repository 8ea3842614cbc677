/**
 * A panel's saved copy, as kept in the notebook's metadata (under `fooocus_widgets.panels.<key>`)
 * and in browser storage, and the code that hands it to a new kernel as data.
 */

export const METADATA_KEY = 'fooocus_widgets';
/** One panel's entry in the notebook metadata stays under this many bytes: `fitRecord` drops
 *  the thumbnails of a record that would pass it. */
export const MAX_RECORD_BYTES = 256 * 1024;
/**
 * A saved record over this many bytes (as JSON, UTF-8) is refused when read: metadata travels
 * with the .ipynb, and a huge entry must not stall the page. It is four times `MAX_RECORD_BYTES`,
 * so that a state that is large on its own (long prompts, many styles, keys a newer version
 * added) still comes back; only a state of absurd size (hundreds of kilobyte-long style names)
 * would be written over it, and then be refused like any other.
 */
export const MAX_SAVED_RECORD_BYTES = 4 * MAX_RECORD_BYTES;
/** A saved record nested deeper than this is refused (JSON.stringify and Python's json module
 *  recurse, and a record from a file can nest as deep as it likes). */
export const MAX_RECORD_DEPTH = 64;

export interface SavedResult {
  hash: string;
  seed: string;
  mini?: string;
}

export interface SavedRecord {
  /** The state's layout version (the kernel's `schema.schema_version` when it was saved). */
  schema_version: number;
  revision: number;
  updated_at: string;
  /** The PanelState as JSON (seed as decimal text: it can exceed a JS number). */
  state: Record<string, unknown>;
  /** The last results: content hashes (full images live in `.fooocus_widgets/images/`) and tiny
   *  thumbnails. */
  results?: SavedResult[];
  /** A batch that was running (seeds as text, images done). */
  pending?: Record<string, unknown>;
}

export interface NotebookMetadata {
  panels: Record<string, SavedRecord>;
}

/** What `jsonSize` answers instead of a size when it gave up. */
export type JsonSizeLimit = 'too-large' | 'too-deep';

/** The UTF-8 bytes `JSON.stringify` writes for one string (quotes and escapes included). */
function jsonStringBytes(text: string): number {
  let bytes = 2;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c || c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d) bytes += 2;
    else if (c < 0x20) bytes += 6; // \u00XX
    else if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4; // a surrogate pair: one astral code point
        i++;
      } else bytes += 6; // a lone surrogate is written as \udXXX
    } else if (c >= 0xd800 && c <= 0xdfff) bytes += 6;
    else bytes += 3;
  }
  return bytes;
}

/**
 * The UTF-8 size of `JSON.stringify(value)`, counted without building the text, and given up as
 * soon as it passes `limit` bytes ('too-large') or nests deeper than `maxDepth` ('too-deep'). The
 * work is bounded by `limit` (plus listing the members of the objects it reaches), whatever the
 * value holds, so a 50 MB entry costs about what a 1 MB one does. Values JSON cannot hold count
 * as `null`, and object members holding `undefined` are skipped, as `JSON.stringify` does.
 */
export function jsonSize(value: unknown, limit: number, maxDepth = MAX_RECORD_DEPTH): number | JsonSizeLimit {
  let total = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item === 'string') {
      if (total + item.length + 2 > limit) return 'too-large'; // every code unit takes a byte or more
      total += jsonStringBytes(item);
    } else if (typeof item === 'number') total += Number.isFinite(item) ? String(item).length : 4;
    else if (typeof item === 'boolean') total += item ? 4 : 5;
    else if (item && typeof item === 'object') {
      if (depth >= maxDepth) return 'too-deep';
      if (Array.isArray(item)) {
        // brackets, commas, and at least one byte per item: a long list is over at once
        total += 1 + Math.max(1, item.length);
        if (total + item.length > limit) return 'too-large';
        for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], depth + 1]);
      } else {
        let members = 0;
        for (const [key, member] of Object.entries(item)) {
          if (member === undefined) continue;
          if (total + key.length + 4 > limit) return 'too-large'; // "key": and a value, at least
          total += jsonStringBytes(key) + (members++ ? 2 : 1); // the colon, and the comma before
          stack.push([member, depth + 1]);
        }
        total += 2; // the braces
      }
    } else total += 4; // null, and what JSON cannot hold
    if (total > limit) return 'too-large';
  }
  return total;
}

/** A plain JSON object (not null, not a list). */
function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

/** A whole number a JS number holds exactly, 0 or more (revisions, versions). */
function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** What kind of JSON value `value` is, in a few words (never its content: it is untrusted). */
function kindOf(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'boolean') return 'true or false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'not a finite number';
    if (!Number.isInteger(value)) return 'a fraction';
    if (value < 0) return 'negative';
    return Number.isSafeInteger(value) ? 'a number' : 'beyond what a JS number holds exactly';
  }
  return typeof value === 'object' ? 'an object' : typeof value;
}

/**
 * Why `value` is not a record the page can use, in a few words ("its revision is text, not a
 * whole number"), or null when it is one. It checks everything the page and the extension then
 * read: the size and depth first (bounded work, see `jsonSize`), the revision and version
 * (whole numbers a JS number holds exactly: they are compared, incremented and sent to the
 * kernel), `updated_at` (text), `state` and `pending` (objects) and each result's `hash`, `seed`
 * and `mini` (text). What the state's fields hold is the kernel's to check (it refuses a wrong
 * value with a message naming the field); keys a newer version wrote are allowed anywhere.
 */
export function recordProblem(value: unknown): string | null {
  if (!isObject(value)) return `it is ${kindOf(value)}, not an object`;
  const size = jsonSize(value, MAX_SAVED_RECORD_BYTES);
  if (size === 'too-large') return `it is too large (over ${MAX_SAVED_RECORD_BYTES / (1024 * 1024)} MB)`;
  if (size === 'too-deep') return `it nests deeper than ${MAX_RECORD_DEPTH} levels`;
  for (const field of ['schema_version', 'revision'] as const) {
    if (!isCount(value[field])) return `its ${field} is ${kindOf(value[field])}, not a whole number from 0`;
  }
  if (typeof value.updated_at !== 'string') return `its updated_at is ${kindOf(value.updated_at)}, not text`;
  if (!isObject(value.state)) return `its state is ${kindOf(value.state)}, not an object`;
  const { results, pending } = value;
  if (results !== undefined) {
    if (!Array.isArray(results)) return `its results are ${kindOf(results)}, not a list`;
    const bad = results.findIndex(
      r =>
        !isObject(r) ||
        typeof r.hash !== 'string' ||
        typeof r.seed !== 'string' ||
        (r.mini !== undefined && typeof r.mini !== 'string')
    );
    if (bad >= 0) return `its result ${bad + 1} is not a hash, a seed and a thumbnail as text`;
  }
  if (pending !== undefined && !isObject(pending)) return `its pending batch is ${kindOf(pending)}, not an object`;
  return null;
}

/** Is `value` a well-formed record (see `recordProblem`)? Metadata is untrusted: it travels with
 *  the file, and browser storage is no better. */
export function isRecord(value: unknown): value is SavedRecord {
  return recordProblem(value) === null;
}

/** The newer of two records: higher revision, then later `updated_at`. */
export function newer(a: SavedRecord | undefined, b: SavedRecord | undefined): SavedRecord | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.revision !== b.revision) return a.revision > b.revision ? a : b;
  return (a.updated_at ?? '') >= (b.updated_at ?? '') ? a : b;
}

/** The record without thumbnails when it is too big for the notebook's metadata (the rest, the
 *  state above all, is never dropped: see `MAX_SAVED_RECORD_BYTES`). */
export function fitRecord(record: SavedRecord): SavedRecord {
  if (jsonSize(record, MAX_RECORD_BYTES, Infinity) !== 'too-large') return record;
  const lean: SavedRecord = { ...record, results: (record.results ?? []).map(({ hash, seed }) => ({ hash, seed })) };
  return lean;
}

/**
 * A Python string literal holding exactly `text`. JSON's escapes (\" \\ \n \r \t \b \f \uXXXX)
 * are Python escapes too; every non-ASCII code point is written as a Python escape, so no
 * character (astral, U+2028, quotes, newlines, code) can end the literal or change its meaning.
 */
export function pyStr(text: string): string {
  let out = '';
  for (const ch of JSON.stringify(text)) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) out += ch;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out;
}

/**
 * The code run in the panel's cell to bring it back in a new kernel. Key, state and the cell's
 * source all travel as data (`pyStr` literals); the kernel reads the source with Python's `ast`
 * to bind the cell's names again (`panel = fw.FooocusPanel(...)`, `import fooocus_widgets as fw`)
 * and names in the panel what it cannot bind. One expression whose value is the panel, so the
 * cell shows it; `__import__` binds no name the cell itself did not bind.
 */
export function rehydrateCode(key: string, record: SavedRecord, cellSource?: string): string {
  const state = pyStr(JSON.stringify(record.state));
  const pending = record.pending && Object.keys(record.pending).length ? pyStr(JSON.stringify(record.pending)) : 'None';
  const revision = Math.max(0, Math.floor(record.revision));
  const source = cellSource === undefined ? '' : `, cell_source=${pyStr(cellSource)}`;
  return `__import__("fooocus_widgets").rehydrate(${pyStr(key)}, ${state}, ${revision}, ${pending}${source})`;
}
