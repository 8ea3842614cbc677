/**
 * A panel's saved copy, as kept in the notebook's metadata (under `fooocus_widgets.panels.<key>`)
 * and in browser storage, and the code that hands it to a new kernel as data.
 */

export const METADATA_KEY = 'fooocus_widgets';
/** One panel's entry in the notebook metadata stays under this many bytes. */
export const MAX_RECORD_BYTES = 256 * 1024;

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

/** Is `value` a well-formed record? (Metadata is untrusted: it travels with the file.) */
export function isRecord(value: unknown): value is SavedRecord {
  if (!value || typeof value !== 'object') return false;
  const r = value as Partial<SavedRecord>;
  return (
    typeof r.revision === 'number' &&
    Number.isFinite(r.revision) &&
    !!r.state &&
    typeof r.state === 'object' &&
    !Array.isArray(r.state)
  );
}

/** The newer of two records: higher revision, then later `updated_at`. */
export function newer(a: SavedRecord | undefined, b: SavedRecord | undefined): SavedRecord | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.revision !== b.revision) return a.revision > b.revision ? a : b;
  return (a.updated_at ?? '') >= (b.updated_at ?? '') ? a : b;
}

/** The record without thumbnails when it is too big for the notebook's metadata. */
export function fitRecord(record: SavedRecord): SavedRecord {
  const size = (r: SavedRecord): number => new TextEncoder().encode(JSON.stringify(r)).length;
  if (size(record) <= MAX_RECORD_BYTES) return record;
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

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The variable a cell binds its panel to (`panel = fw.FooocusPanel(...)`), if it does. */
export function panelVariable(source: string): string | undefined {
  const match = /^[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(?:[A-Za-z_][\w.]*\.)?FooocusPanel\(/m.exec(source);
  const name = match?.[1];
  return name && IDENTIFIER.test(name) ? name : undefined;
}

/** The code run in the panel's cell to bring it back in a new kernel (binding `variable` again). */
export function rehydrateCode(key: string, record: SavedRecord, variable?: string): string {
  const state = pyStr(JSON.stringify(record.state));
  const pending = record.pending && Object.keys(record.pending).length ? pyStr(JSON.stringify(record.pending)) : 'None';
  const revision = Math.max(0, Math.floor(record.revision));
  const call = `fooocus_widgets.rehydrate(${pyStr(key)}, ${state}, ${revision}, ${pending})`;
  if (variable && IDENTIFIER.test(variable)) return `import fooocus_widgets\n${variable} = ${call}\n${variable}`;
  return `import fooocus_widgets\n${call}`;
}
