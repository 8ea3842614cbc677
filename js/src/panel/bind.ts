/**
 * Two-way bindings between the widget model's traits and form controls. User edits go to the
 * model only when they pass the schema's limits (./limits): text as it is typed (debounced),
 * numbers when they are committed (blur or Enter, the `change` event, never a partial keystroke),
 * the rest at once. A refused edit is said in the error area and the control shows the last valid
 * value again. Model changes come back into the controls. Every listener is remembered so that
 * `dispose()` takes them all off again.
 */

import type { AnyModel } from '@anywidget/types';
import { clampStep, debounce, markInvalid, readNumber, setOptions } from './dom';
import { checkNumber, checkText, refusal } from './limits';
import type { PanelModel } from './model';
import type { NumberBounds } from './schema';

type Model = AnyModel<PanelModel>;
type Key = keyof PanelModel;

/** Milliseconds of quiet before typed text is sent to the kernel. */
export const TEXT_DEBOUNCE_MS = 150;

/** What a text field may hold, and how the panel names it in a refusal. */
export interface TextLimit {
  maxLength: number;
  /** "prompt", "negative prompt". */
  label: string;
}

export class Binder {
  private readonly cleanups: (() => void)[] = [];
  private readonly flushes: (() => void)[] = [];
  /** The refusal this view put in the error area, by field: taken back when the field is next
   *  committed with a valid value, unless the error area says something else by then. */
  private readonly refusals = new Map<string, string>();

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
    this.settle(key);
  }

  /** Commit a valid value unless the model holds it already (a refusal of the field is taken back). */
  accept<K extends Key>(key: K, value: PanelModel[K]): void {
    if (value !== this.model.get(key)) this.commit(key, value);
    else this.settle(key);
  }

  /**
   * Say in the error area what was refused and why (the caller shows the last valid value
   * again). `field` names what was refused: a trait, or a part of one ("lora-2-weight").
   */
  refuse(field: string, message: string): void {
    this.refusals.set(field, message);
    this.commit('error', message);
  }

  /** A valid edit of `field`: its refusal leaves the error area, if that still shows it. */
  settle(field: string): void {
    const message = this.refusals.get(field);
    if (message === undefined) return;
    this.refusals.delete(field);
    if (this.model.get('error') === message) this.commit('error', '');
  }

  /**
   * Run `fn` when the user commits what they typed into `input`: on `change` (blur, or Enter in
   * the browser's own handling) and on a plain Enter, which is also kept from the notebook (it
   * would take Enter as a notebook command). `fn` must be idempotent: both may come.
   */
  onCommit(input: HTMLInputElement, fn: () => void): void {
    this.listen(input, 'change', fn);
    this.listen(input, 'keydown', (ev: KeyboardEvent) => {
      if (ev.key !== 'Enter' || ev.ctrlKey || ev.metaKey || ev.altKey || ev.shiftKey) return;
      ev.stopPropagation();
      fn();
    });
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

  /**
   * A text input or textarea bound to a string trait (debounced while typing). An input that
   * would make the text longer than the limit (a big paste) is refused at once: the field shows
   * the last valid text again, with the caret where it was, and the error area says why.
   */
  text(key: 'prompt' | 'negative_prompt', input: HTMLInputElement | HTMLTextAreaElement, limit: TextLimit): void {
    let valid = this.model.get(key);
    input.value = valid;
    let caret: [number, number] | null = null;
    const send = debounce(() => this.commit(key, input.value), TEXT_DEBOUNCE_MS);
    this.flushes.push(send.flush);
    this.listen(input, 'beforeinput', () => {
      caret = [input.selectionStart ?? input.value.length, input.selectionEnd ?? input.value.length];
    });
    this.listen(input, 'input', () => {
      const verdict = checkText(limit.label, input.value, limit.maxLength);
      if (verdict.ok) {
        valid = verdict.value;
        send();
      } else {
        input.value = valid;
        if (caret) input.setSelectionRange(...caret);
        this.refuse(key, refusal(verdict.problem));
      }
      caret = null;
    });
    this.listen(input, 'blur', send.flush);
    this.watch(key, () => {
      const value = this.model.get(key);
      valid = value;
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
   * and step the schema gives. Typed numbers are committed on blur or Enter, never keystroke by
   * keystroke; out of range (or no number) they are refused and the last valid value shows
   * again. While typing, the input is marked invalid as soon as its text would be refused. The
   * slider commits as it moves: it only makes values within the bounds.
   */
  number(
    key: 'image_number' | 'guidance_scale' | 'sharpness' | 'clip_skip',
    input: HTMLInputElement,
    bounds: NumberBounds,
    label: string,
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
      markInvalid(input, null);
    };
    show();
    const typed = (): ReturnType<typeof checkNumber> =>
      checkNumber(label, input.value, bounds, input.validity.badInput);
    this.listen(input, 'input', () => {
      // "" is also what a number input reports for a partial "-" or "1e": not marked while typing
      const verdict = typed();
      markInvalid(input, verdict.ok || input.value === '' ? null : verdict.problem);
    });
    this.onCommit(input, () => {
      const verdict = typed();
      if (verdict.ok) this.accept(key, verdict.value);
      else this.refuse(key, refusal(verdict.problem, `the ${label} stays ${String(this.model.get(key))}`));
      show(); // the value as committed (snapped to the step), or the last valid one
    });
    if (range) {
      this.listen(range, 'input', () => {
        const n = readNumber(range);
        if (n === null) return;
        const value = clampStep(n, min, max, step);
        input.value = String(value);
        markInvalid(input, null);
        this.accept(key, value);
      });
    }
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
