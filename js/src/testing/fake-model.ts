/**
 * An in-memory stand-in for the anywidget model, for unit tests of the front end only (the
 * browser tests drive the real one). It records what the views saved and sent, hands out proxies
 * the way anywidget does (one per view, whose listeners go with the view), and starts from the
 * defaults in the schema the kernel sends (./schema.json, generated from fooocus_widgets/state.py).
 */

import type { AnyModel } from '@anywidget/types';
import type { PanelSchema } from '../common/schema';
import { STATE_KEYS, type PanelModel, type PanelStateTraits } from '../panel/model';
import { readSchema, travelsAsText } from '../panel/schema';
import schemaJson from './schema.json';

// `any`, as in AnyModel's own handler type
type Handler = (...args: any[]) => void;

interface Listener {
  fn: Handler;
  /** Whose listener it is (a proxy's context), or null for one added on the model itself. */
  context: unknown;
}

export class FakeModel implements AnyModel<PanelModel> {
  readonly sent: unknown[] = [];
  readonly sentBuffers: unknown[][] = [];
  saves = 0;
  private readonly handlers = new Map<string, Listener[]>();
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
    this.add(event, fn, null);
  }

  off(event?: string | null, fn?: Handler | null): void {
    this.remove(event ?? null, fn ?? null, null, false);
  }

  save_changes(): void {
    this.saves += 1;
  }

  send(content: unknown, _callbacks?: unknown, buffers: unknown[] = []): void {
    this.sent.push(content);
    this.sentBuffers.push(buffers);
  }

  /** The model as anywidget hands it to `initialize` or a view: its listeners carry `context`. */
  proxy(context: object): AnyModel<PanelModel> {
    return {
      get: key => this.get(key),
      set: (key, value) => this.set(key, value),
      save_changes: () => this.save_changes(),
      send: (content: unknown, callbacks?: unknown, buffers?: unknown[]) => this.send(content, callbacks, buffers),
      on: (event: string, fn: Handler) => this.add(event, fn, context),
      off: (event?: string | null, fn?: Handler | null) => this.remove(event ?? null, fn ?? null, context, true),
      widget_manager: this.widget_manager
    };
  }

  /** Take off every listener added through the proxy of `context` (anywidget does when a view goes). */
  offContext(context: object): void {
    this.remove(null, null, context, true);
  }

  /** A change as if it came from the kernel. */
  kernelSets<K extends keyof PanelModel>(key: K, value: PanelModel[K]): void {
    this.set(key, value);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const { fn } of [...(this.handlers.get(event) ?? [])]) fn(...args);
  }

  listenerCount(): number {
    let n = 0;
    for (const list of this.handlers.values()) n += list.length;
    return n;
  }

  /** How many messages of `type` were sent. */
  sentOf(type: string): unknown[] {
    return this.sent.filter(m => (m as { type?: unknown }).type === type);
  }

  private add(event: string, fn: Handler, context: unknown): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), { fn, context }]);
  }

  private remove(event: string | null, fn: Handler | null, context: unknown, byContext: boolean): void {
    for (const [name, list] of this.handlers) {
      if (event !== null && name !== event) continue;
      this.handlers.set(
        name,
        list.filter(l => !((fn === null || l.fn === fn) && (!byContext || l.context === context)))
      );
    }
  }
}

/** A fresh copy of the schema the kernel sends (each model its own object, as in a browser). */
export function testSchema(): PanelSchema {
  return readSchema(structuredClone(schemaJson));
}

/** The state the schema's defaults describe (numbers that travel as text, as text). */
export function schemaDefaults(schema: PanelSchema): PanelStateTraits {
  const state: Record<string, unknown> = {};
  for (const key of STATE_KEYS) {
    const value = structuredClone(schema.fields[key]?.default);
    state[key] = travelsAsText(schema, key) ? String(value) : value;
  }
  // the kernel's defaults are the state's defaults (a Python test keeps schema.json in step)
  return state as unknown as PanelStateTraits;
}

export function defaultValues(overrides: Partial<PanelModel> = {}): PanelModel {
  const schema = overrides.schema ?? testSchema();
  return {
    ...schemaDefaults(schema),
    key: 'main',
    schema,
    choices: {
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
