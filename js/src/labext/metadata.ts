/**
 * The metadata bridge: reads and writes the panels' saved records in the notebook's metadata
 * (`fooocus_widgets.panels.<key>`), so they are saved with the .ipynb.
 *
 * Metadata travels with the file and is untrusted. A record is read back only when it is well
 * formed and not too large (`recordProblem` in ../common/record says why not, and the panel shows
 * it); it is never run or rendered, only handed to the panel as data. Writing keeps what this
 * version does not know: other members of `fooocus_widgets`, other panels' entries, and the keys a
 * newer version added to a record or to its state. An entry too large to ever be read is dropped
 * when another is written, so that a 50 MB entry does not travel with every save.
 */

import { STATE_KEYS } from '../common/state-fields';
import {
  isRecord,
  jsonSize,
  MAX_SAVED_RECORD_BYTES,
  METADATA_KEY,
  recordProblem,
  type NotebookMetadata,
  type SavedRecord
} from '../common/record';

/** The part of a notebook panel this file touches (a `NotebookPanel` is one). */
export interface MetadataHost {
  readonly model: {
    getMetadata(key: string): unknown;
    setMetadata(key: string, value: unknown): void;
  } | null;
}

/** What the notebook holds for one panel: its record, or why what is there was not used. */
export interface SavedLookup {
  /** The well-formed record saved for the panel, if any. */
  record?: SavedRecord;
  /** Why the notebook's entry for the panel was not used, in a sentence for the panel's error
   *  area; absent when there is no entry or it was used. */
  refused?: string;
}

/** The members of a record this version writes; any other member was written by a newer one. */
const RECORD_MEMBERS: ReadonlySet<string> = new Set(['schema_version', 'revision', 'updated_at', 'state', 'results', 'pending']);
/** The members of a record's state this version writes (as traits, plus the version). */
const STATE_MEMBERS: ReadonlySet<string> = new Set<string>([...STATE_KEYS, 'schema_version']);

/** A plain JSON object (not null, not a list). */
function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

/** Whether `object` has `key` as its own member (never one of Object.prototype's). */
function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** Set `object[key]` as an own member, even for a key such as `__proto__`. */
function define(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The sentence a panel shows when the notebook's copy of it was refused for `why`. */
function refusal(why: string): string {
  return (
    `The copy of this panel saved in the notebook was not used: ${why}. The panel starts from the ` +
    "kernel's copy, and your next change replaces the notebook's."
  );
}

/** The notebook's `fooocus_widgets` object and its `panels`, each null when absent or malformed. */
function containers(panel: MetadataHost): {
  root: Record<string, unknown> | null;
  panels: Record<string, unknown> | null;
  problem?: string;
} {
  const raw = panel.model?.getMetadata(METADATA_KEY);
  if (raw === undefined) return { root: null, panels: null };
  if (!isObject(raw)) return { root: null, panels: null, problem: `the notebook's "${METADATA_KEY}" metadata is not an object` };
  const panels = raw.panels;
  if (panels === undefined) return { root: raw, panels: null };
  if (!isObject(panels)) return { root: raw, panels: null, problem: `the notebook's "${METADATA_KEY}.panels" is not an object` };
  return { root: raw, panels };
}

/** What the notebook holds for the panel `key`: its record, or why it was refused. */
export function readSaved(panel: MetadataHost, key: string): SavedLookup {
  const { panels, problem } = containers(panel);
  if (problem) return { refused: refusal(problem) };
  if (!panels || !hasOwn(panels, key)) return {};
  const entry = panels[key];
  const why = recordProblem(entry);
  return why === null ? { record: entry as SavedRecord } : { refused: refusal(why) };
}

/** The notebook's well-formed panel records (none when the metadata is missing or malformed). */
export function readMetadata(panel: MetadataHost): NotebookMetadata {
  const { panels: raw } = containers(panel);
  const panels: Record<string, SavedRecord> = {};
  for (const [key, record] of Object.entries(raw ?? {})) if (isRecord(record)) define(panels, key, record);
  return { panels };
}

/** The record saved in the notebook for the panel `key`, if any (and well formed). */
export function readRecord(panel: MetadataHost, key: string): SavedRecord | undefined {
  return readSaved(panel, key).record;
}

/**
 * `record` plus what `current` (the notebook's copy of the same panel) holds that this version
 * does not write: record members and state members a newer version added. What `record` has
 * wins; nothing this version writes is ever taken from `current`.
 */
export function withKeptKeys(record: SavedRecord, current: SavedRecord | undefined): SavedRecord {
  if (!current) return record;
  const out: SavedRecord = { ...record };
  for (const [key, value] of Object.entries(current)) {
    if (!RECORD_MEMBERS.has(key) && !hasOwn(out, key)) define(out as unknown as Record<string, unknown>, key, value);
  }
  const state: Record<string, unknown> = { ...record.state };
  for (const [key, value] of Object.entries(current.state)) {
    if (!STATE_MEMBERS.has(key) && !hasOwn(state, key)) define(state, key, value);
  }
  out.state = state;
  return out;
}

/** Do two JSON values hold the same data (whatever the order of their members)? */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  return keysA.every(
    key => hasOwn(b, key) && sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])
  );
}

/**
 * Write a panel's record into the notebook's metadata unless the notebook's copy is newer or
 * the same but for its time (a write marks the notebook dirty). Keeps the other members of
 * `fooocus_widgets`, the other panels' entries (dropping one too large to ever be read) and the
 * keys a newer version added to this panel's record (see `withKeptKeys`). Returns the record the
 * notebook holds for `key` afterwards, or undefined without a notebook model.
 */
export function writeRecord(panel: MetadataHost, key: string, record: SavedRecord): SavedRecord | undefined {
  const model = panel.model;
  if (!model) return undefined;
  const { root, panels } = containers(panel);
  const entry = panels && hasOwn(panels, key) ? panels[key] : undefined;
  const current = isRecord(entry) ? entry : undefined;
  const next = withKeptKeys(record, current);
  if (current && current.revision > next.revision) return current;
  if (current && sameJson({ ...current, updated_at: '' }, { ...next, updated_at: '' })) return current;
  const kept: Record<string, unknown> = {};
  for (const [other, value] of Object.entries(panels ?? {})) {
    if (other !== key && jsonSize(value, MAX_SAVED_RECORD_BYTES) !== 'too-large') define(kept, other, value);
  }
  define(kept, key, next);
  model.setMetadata(METADATA_KEY, { ...root, panels: kept });
  return next;
}
