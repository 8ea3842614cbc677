/**
 * An in-memory stand-in for the anywidget model, for unit tests of the front end only (the
 * browser tests drive the real one). It records what the view saved and sent.
 */

import type { AnyModel } from '@anywidget/types';
import type { PanelModel } from '../panel/model';

// `any`, as in AnyModel's own handler type
type Handler = (...args: any[]) => void;

export class FakeModel implements AnyModel<PanelModel> {
  readonly sent: unknown[] = [];
  saves = 0;
  private readonly handlers = new Map<string, Set<Handler>>();
  widget_manager = { get_model: () => Promise.reject(new Error('no widget manager in unit tests')) };

  constructor(private values: PanelModel) {}

  get<K extends keyof PanelModel>(key: K): PanelModel[K] {
    return this.values[key];
  }

  set<K extends keyof PanelModel>(key: K, value: PanelModel[K]): void {
    const changed = this.values[key] !== value;
    this.values = { ...this.values, [key]: value };
    if (changed) this.emit(`change:${String(key)}`);
  }

  on(event: string, fn: Handler): void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)?.add(fn);
  }

  off(event?: string | null, fn?: Handler | null): void {
    if (!event) this.handlers.clear();
    else if (!fn) this.handlers.delete(event);
    else this.handlers.get(event)?.delete(fn);
  }

  save_changes(): void {
    this.saves += 1;
  }

  send(content: unknown): void {
    this.sent.push(content);
  }

  /** A change as if it came from the kernel. */
  kernelSets<K extends keyof PanelModel>(key: K, value: PanelModel[K]): void {
    this.set(key, value);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const fn of this.handlers.get(event) ?? []) fn(...args);
  }

  listenerCount(): number {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }
}

export function defaultValues(overrides: Partial<PanelModel> = {}): PanelModel {
  return {
    key: 'main',
    prompt: '',
    negative_prompt: '',
    styles: ['Enhance', 'Sharp'],
    performance: 'Speed',
    aspect_ratio: '1152*896',
    image_number: 2,
    seed: '0',
    random_seed: true,
    output_format: 'png',
    base_model: '',
    loras: Array.from({ length: 5 }, () => ({ enabled: true, file: '', weight: 1 })),
    guidance_scale: 4,
    sharpness: 2,
    sampler: 'DPM++ 2M SDE',
    scheduler: 'karras',
    clip_skip: 2,
    memory_mode: 'auto',
    input_image: { enabled: false, mode: 'Vary (Subtle)', image: '' },
    last_results: [],
    choices: {
      performances: ['Quality', 'Speed', 'Extreme Speed', 'Lightning', 'Hyper-SD'],
      aspect_ratios: ['1024*1024', '1152*896'],
      samplers: ['Euler', 'Euler a', 'DPM++ 2M SDE'],
      schedulers: ['normal', 'karras', 'sgm_uniform'],
      output_formats: ['png', 'jpeg', 'webp'],
      styles: ['Cinematic', 'Enhance', 'Sharp', 'Watercolor'],
      models: ['a.safetensors', 'b.safetensors'],
      loras: ['detail.safetensors']
    },
    error: '',
    notice: '',
    busy: false,
    progress: {},
    preview: '',
    results: [],
    revision: 0,
    pending: {},
    memory: {},
    ...overrides
  };
}
