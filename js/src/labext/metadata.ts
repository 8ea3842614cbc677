/**
 * The metadata bridge: reads and writes the panels' saved records in the notebook's metadata
 * (`fooocus_widgets.panels.<key>`), so they are saved with the .ipynb. Metadata travels with the
 * file and is untrusted: only well-formed records are read back.
 */

import { isRecord, METADATA_KEY, newer, type NotebookMetadata, type SavedRecord } from '../common/record';

/** The part of a notebook panel this file touches (a `NotebookPanel` is one). */
export interface MetadataHost {
  readonly model: {
    getMetadata(key: string): unknown;
    setMetadata(key: string, value: unknown): void;
  } | null;
}

/** The notebook's well-formed panel records (none when the metadata is missing or malformed). */
export function readMetadata(panel: MetadataHost): NotebookMetadata {
  const raw = panel.model?.getMetadata(METADATA_KEY);
  const panels: Record<string, SavedRecord> = {};
  if (raw && typeof raw === 'object' && 'panels' in raw && raw.panels && typeof raw.panels === 'object') {
    for (const [key, record] of Object.entries(raw.panels)) if (isRecord(record)) panels[key] = record;
  }
  return { panels };
}

/** The record saved in the notebook for the panel `key`, if any. */
export function readRecord(panel: MetadataHost, key: string): SavedRecord | undefined {
  return readMetadata(panel).panels[key];
}

/** Write a panel's record into the notebook's metadata when it is newer (marks it dirty). */
export function writeRecord(panel: MetadataHost, key: string, record: SavedRecord): void {
  const model = panel.model;
  if (!model) return;
  const meta = readMetadata(panel);
  const current = meta.panels[key];
  if (current && newer(current, record) === current && current.revision > record.revision) return;
  if (current && JSON.stringify({ ...current, updated_at: '' }) === JSON.stringify({ ...record, updated_at: '' })) return;
  model.setMetadata(METADATA_KEY, { ...meta, panels: { ...meta.panels, [key]: record } });
}
