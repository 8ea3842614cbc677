/**
 * The front end's copies of the panel state: every change is mirrored (debounced) into browser
 * storage and, through the JupyterLab extension, into the notebook's metadata. While the kernel is
 * away, edits keep being saved with growing revisions; when a kernel is back, `handshake` gives
 * it only the fields where the front end's copy is newer.
 *
 * The copies hold only values that pass the schema's checks (./limits `fitsSchema`): a field
 * whose value does not is written as it last did, or left out (a new kernel then keeps its own).
 * Values the kernel refuses come back from it at once and replace the page's before the
 * debounced write, so the copies end with the value the kernel accepted.
 */

import type { AnyModel } from '@anywidget/types';
import type { PanelStateDetail } from '../common/events';
import type { RestoreMessage } from '../common/messages';
import { fitRecord, isRecord, newer, type SavedRecord } from '../common/record';
import { debounce } from './dom';
import { fitsSchema } from './limits';
import { STATE_KEYS, type PanelModel, type StateKey } from './model';
import { travelsAsText } from './schema';

/** Milliseconds of quiet before a change is written to the copies. */
export const MIRROR_DEBOUNCE_MS = 200;

const storageKey = (namespace: string, key: string): string => `fooocus-widgets:${namespace}:${key}`;

export function readLocal(namespace: string, key: string): SavedRecord | undefined {
  try {
    const raw = globalThis.localStorage?.getItem(storageKey(namespace, key));
    const parsed: unknown = raw ? JSON.parse(raw) : undefined;
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined; // storage disabled, full, or a damaged entry: the other copies remain
  }
}

function writeLocal(namespace: string, key: string, record: SavedRecord): void {
  try {
    globalThis.localStorage?.setItem(storageKey(namespace, key), JSON.stringify(record));
  } catch {
    // quota or privacy mode: the notebook metadata and the kernel's file are still there
  }
}

/** The fields where `saved` differs from what the model holds now (numbers that travel as
 *  text, like the seed, compared and sent as text). */
export function changedFields(model: AnyModel<PanelModel>, saved: SavedRecord): Record<string, unknown> {
  const schema = model.get('schema');
  const changes: Record<string, unknown> = {};
  for (const key of STATE_KEYS) {
    if (!(key in saved.state)) continue;
    const value = saved.state[key];
    // only a number becomes text: any other type goes as it is, for the kernel to refuse by name
    const theirs = travelsAsText(schema, key) && typeof value === 'number' ? String(value) : value;
    if (canonicalJson(model.get(key)) !== canonicalJson(theirs)) changes[key] = theirs;
  }
  return changes;
}

/**
 * JSON with every object's keys sorted: two copies that hold the same values compare equal
 * whatever order their keys came in (a shared notebook document, for one, does not keep the
 * order of an object's keys), so a re-render never reports an untouched field as changed.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v
  );
}

/** Keeps the copies of one panel model (one mirror per model, whatever the number of views). */
export class StateMirror {
  private revision: number;
  /** Each field's last value that passed the schema's check: what the copies keep for a field
   *  whose current value does not. */
  private readonly lastValid = new Map<StateKey, unknown>();
  private readonly save = debounce(() => this.writeNow(), MIRROR_DEBOUNCE_MS);

  constructor(
    private readonly model: AnyModel<PanelModel>,
    /** Hands the record to the notebook (through the JupyterLab extension, if any). */
    private readonly publish: (detail: PanelStateDetail) => void,
    private namespace: string,
    /** Whether the kernel is connected (edits made while it is not get a revision of their own). */
    private readonly live: () => boolean
  ) {
    this.revision = model.get('revision') ?? 0;
  }

  setNamespace(namespace: string): void {
    this.namespace = namespace;
  }

  /** The record of the panel as it is now. */
  record(): SavedRecord {
    const m = this.model;
    const version = m.get('schema').schema_version;
    const state: Record<string, unknown> = { schema_version: version, ...this.validState() };
    const results = (m.get('results') ?? []).map(r => ({ hash: r.hash, seed: r.seed, ...(r.mini ? { mini: r.mini } : {}) }));
    const pending = m.get('pending') ?? {};
    return fitRecord({
      schema_version: version,
      revision: this.revision,
      updated_at: new Date().toISOString(),
      state,
      results,
      ...(Object.keys(pending).length ? { pending: { ...pending } } : {})
    });
  }

  /** The state fields that pass the schema's checks; the others as they last passed, if ever. */
  private validState(): Record<string, unknown> {
    const fields = this.model.get('schema').fields;
    const state: Record<string, unknown> = {};
    for (const key of STATE_KEYS) {
      const value = this.model.get(key);
      const field = fields[key];
      if (!field || fitsSchema(field, value)) this.lastValid.set(key, value);
      if (this.lastValid.has(key)) state[key] = this.lastValid.get(key);
    }
    return state;
  }

  /** A change happened: from the kernel (its revision comes with it) or a local edit. */
  changed(kind: 'kernel' | 'local'): void {
    const kernelRevision = this.model.get('revision') ?? 0;
    if (kind === 'kernel' || this.live()) this.revision = Math.max(this.revision, kernelRevision);
    else this.revision += 1; // edited while the kernel is away: newer than anything it has
    this.save();
  }

  flush(): void {
    this.save.flush();
  }

  dispose(): void {
    this.save.flush();
  }

  /** The newest saved copy among the notebook's metadata and browser storage. */
  newestSaved(fromNotebook: SavedRecord | undefined): SavedRecord | undefined {
    return newer(isRecord(fromNotebook) ? fromNotebook : undefined, readLocal(this.namespace, this.model.get('key')));
  }

  /**
   * After (re)connecting: when a saved copy is at least as new as the kernel's and differs,
   * the `restore` message that gives the kernel only the fields that differ (and the revision it
   * takes), or null when the kernel is in step.
   */
  handshake(saved: SavedRecord | undefined): RestoreMessage | null {
    if (!saved) return null;
    const kernelRevision = this.model.get('revision') ?? 0;
    if (saved.revision < kernelRevision) return null;
    const changes = changedFields(this.model, saved);
    if (!Object.keys(changes).length) return null;
    this.revision = Math.max(saved.revision, kernelRevision) + 1;
    return { type: 'restore', revision: this.revision, changes };
  }

  private writeNow(): void {
    const record = this.record();
    const key = this.model.get('key');
    writeLocal(this.namespace, key, record);
    this.publish({ key, record });
  }
}
