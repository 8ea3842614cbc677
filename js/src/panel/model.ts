/**
 * The widget's synced traits, as the front end sees them. Mirrors `FooocusPanel` in
 * fooocus_widgets/panel.py one to one (keep the two in step).
 */

export interface LoraSlotModel {
  enabled: boolean;
  file: string;
  weight: number;
  [extra: string]: unknown;
}

export interface InputImageModel {
  enabled: boolean;
  mode: string;
  image: string;
  [extra: string]: unknown;
}

export interface PanelChoices {
  performances: string[];
  aspect_ratios: string[];
  samplers: string[];
  schedulers: string[];
  output_formats: string[];
  memory_modes?: string[];
  styles: string[];
  models: string[];
  loras: string[];
  models_hint?: string;
}

export interface PanelModel {
  key: string;
  prompt: string;
  negative_prompt: string;
  styles: string[];
  performance: string;
  aspect_ratio: string;
  image_number: number;
  /** Decimal digits: seeds go up to 2**63-1, beyond a JS number's exact range. */
  seed: string;
  random_seed: boolean;
  output_format: string;
  base_model: string;
  loras: LoraSlotModel[];
  guidance_scale: number;
  sharpness: number;
  sampler: string;
  scheduler: string;
  clip_skip: number;
  memory_mode: string;
  input_image: InputImageModel;
  last_results: string[];
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

/** Traits that are part of the saved panel state (the rest are views of the kernel's world). */
export const STATE_KEYS = [
  'prompt',
  'negative_prompt',
  'styles',
  'performance',
  'aspect_ratio',
  'image_number',
  'seed',
  'random_seed',
  'output_format',
  'base_model',
  'loras',
  'guidance_scale',
  'sharpness',
  'sampler',
  'scheduler',
  'clip_skip',
  'memory_mode',
  'input_image',
  'last_results'
] as const satisfies readonly (keyof PanelModel)[];

export type StateKey = (typeof STATE_KEYS)[number];
