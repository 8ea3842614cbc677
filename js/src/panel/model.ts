/**
 * The widget's synced traits, as the front end sees them. Mirrors `FooocusPanel` in
 * fooocus_widgets/panel.py; the saved state's field types and keys are the ones generated from
 * fooocus_widgets/state.py (../common/state-fields), so only the other traits are written here.
 */

import type { PanelSchema } from '../common/schema';
import type { PanelStateFields, StateKey } from '../common/state-fields';

export { STATE_KEYS, type StateKey } from '../common/state-fields';
export type { InputImageSettingsFields, LoraSlotFields } from '../common/state-fields';

/** What the dropdowns offer that depends on the folders (the fixed lists are in the schema). */
export interface PanelChoices {
  models: string[];
  loras: string[];
  styles: string[];
  /** Where to put model files, shown while none is found. */
  models_hint?: string;
}

/** The saved panel state's traits (the generated field types, without their "extra keys"). */
export type PanelStateTraits = Pick<PanelStateFields, StateKey>;

export interface PanelModel extends PanelStateTraits {
  key: string;
  /** Every field's kind, bounds, step, choices and default; sent once when the panel is made. */
  schema: PanelSchema;
  choices: PanelChoices;
  error: string;
  notice: string;
  busy: boolean;
  progress: ProgressModel;
  preview: string;
  results: ResultModel[];
  revision: number;
  pending: PendingBatch;
  memory: MemoryModel;
}

/** The memory meter, in bytes (VRAM only with a GPU). */
export interface MemoryModel {
  rss?: number;
  vram_used?: number | null;
  vram_total?: number | null;
}

/** A batch in progress, or (on a new panel) one that a dying kernel interrupted. */
export interface PendingBatch {
  seeds?: string[];
  done?: number;
  images?: number;
}

export interface ProgressModel {
  phase?: 'starting' | 'loading' | 'running' | 'saving' | 'done' | 'stopped' | 'error';
  text?: string;
  image?: number;
  images?: number;
  step?: number;
  steps?: number;
}

/** One gallery entry: a small thumbnail; the full image comes on request by its hash. */
export interface ResultModel {
  hash: string;
  seed: string;
  width: number;
  height: number;
  path: string;
  thumb: string;
  /** A tiny thumbnail kept in the notebook's metadata. */
  mini?: string;
}
