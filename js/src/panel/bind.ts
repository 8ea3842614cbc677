/**
 * Two-way bindings between the widget model's traits and form controls. User edits go to the
 * model (text debounced, the rest at once); model changes come back into the controls. Every
 * listener is remembered so that `dispose()` takes them all off again.
 */

import type { AnyModel } from '@anywidget/types';
import { clampStep, debounce, readNumber, setOptions } from './dom';
import type { PanelModel } from './model';
import type { NumberBounds } from './schema';

type Model = AnyModel<PanelModel>;
type Key = keyof PanelModel;

/** Milliseconds of quiet before typed text is sent to the kernel. */
export const TEXT_DEBOUNCE_MS = 150;

export class Binder {
  private readonly cleanups: (() => void)[] = [];
  private readonly flushes: (() => void)[] = [];

  constructor(
    readonly model: Model,
    /** Called after every user edit has been written into the model. */
    private readonly onEdit: (key: Key) => void = () => {}
  ) {}

  /** Write a value the user chose into the model and send it. */
  commit<K extends Key>(key: K, value: PanelModel[K]): void {
    this.model.set(key, value);
    this.model.save_changes();
    this.onEdit(key);
  }

  /** Run `fn` whenever the trait changes on the model (from the kernel or another view). */
  watch(key: Key, fn: () => void): void {
    const event = `change:${key}`;
    this.model.on(event, fn);
    this.cleanups.push(() => this.model.off(event as `change:${Key & string}`, fn));
  }

  /** Add a DOM listener that `dispose()` removes. */
  listen<E extends Event>(target: EventTarget, type: string, fn: (ev: E) => void): void {
    const handler = fn as EventListener;
    target.addEventListener(type, handler);
    this.cleanups.push(() => target.removeEventListener(type, handler));
  }

  /** A text input or textarea bound to a string trait (debounced while typing). */
  text(key: 'prompt' | 'negative_prompt', input: HTMLInputElement | HTMLTextAreaElement): void {
    input.value = this.model.get(key);
    const send = debounce(() => this.commit(key, input.value), TEXT_DEBOUNCE_MS);
    this.flushes.push(send.flush);
    this.listen(input, 'input', send);
    this.listen(input, 'blur', send.flush);
    this.watch(key, () => {
      const value = this.model.get(key);
      if (value !== input.value) {
        send.cancel();
        input.value = value;
      }
    });
    this.cleanups.push(send.cancel);
  }

  /** A <select> bound to a string trait, its options taken from `options()`. */
  select(key: Key & ('performance' | 'aspect_ratio' | 'output_format' | 'base_model' | 'sampler' | 'scheduler' | 'memory_mode'),
    select: HTMLSelectElement,
    options: () => readonly string[],
    label?: (value: string) => string
  ): void {
    const refresh = (): void => setOptions(select, options(), String(this.model.get(key)), label);
    refresh();
    this.listen(select, 'change', () => this.commit(key, select.value));
    this.watch(key, refresh);
    this.watch('choices', refresh);
  }

  /**
   * A number input (and optionally its range slider) bound to a numeric trait, with the bounds
   * and step the schema gives; out-of-range input is clamped, not sent raw.
   */
  number(
    key: 'image_number' | 'guidance_scale' | 'sharpness' | 'clip_skip',
    input: HTMLInputElement,
    bounds: NumberBounds,
    range: HTMLInputElement | null = null
  ): void {
    const { min, max, step } = bounds;
    for (const el of range ? [input, range] : [input]) {
      el.min = String(min);
      el.max = String(max);
      el.step = String(step);
    }
    const show = (): void => {
      const value = String(this.model.get(key));
      input.value = value;
      if (range) range.value = value;
    };
    show();
    const take = (source: HTMLInputElement): void => {
      const n = readNumber(source);
      if (n === null) return;
      const value = clampStep(n, min, max, step);
      if (range && source !== range) range.value = String(value);
      if (source !== input) input.value = String(value);
      if (value !== this.model.get(key)) this.commit(key, value);
    };
    this.listen(input, 'change', () => {
      take(input);
      show(); // show the clamped value
    });
    if (range) this.listen(range, 'input', () => take(range));
    this.watch(key, show);
  }

  /** A checkbox bound to a boolean trait. */
  checkbox(key: 'random_seed', input: HTMLInputElement): void {
    input.checked = this.model.get(key);
    this.listen(input, 'change', () => this.commit(key, input.checked));
    this.watch(key, () => {
      input.checked = this.model.get(key);
    });
  }

  /** Run `cleanup` when the binder is disposed (a subscription elsewhere, a timer). */
  own(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  /** Send any typed text that is still waiting for its debounce. */
  flush(): void {
    for (const flush of this.flushes) flush();
  }

  dispose(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }
}
