/**
 * Form pieces the panel's sections share: a collapsible section, a number input, a select, and
 * the guard that keeps Enter inside a text field. Bounds and choices are never written here: the
 * callers pass what the schema says.
 */

import type { Binder } from './bind';
import { h } from './dom';

/** A collapsible section of the side column (`data-fw-section` names it). */
export function section(title: string, open: boolean, children: HTMLElement[], name: string): HTMLDetailsElement {
  const details = h('details', 'fw-section', { 'data-fw-section': name }, [
    h('summary', 'fw-summary', {}, [title]),
    ...children
  ]);
  details.open = open;
  return details;
}

/** A number input; `Binder.number` gives it the schema's min, max and step and commits it on
 *  blur or Enter. */
export function numberInput(hook: string, attrs: Record<string, string> = {}): HTMLInputElement {
  return h('input', 'fw-input fw-number', { type: 'number', 'data-fw': hook, ...attrs });
}

/** A range slider beside a number input; `Binder.number` gives it the same bounds. */
export function rangeInput(label: string): HTMLInputElement {
  return h('input', 'fw-range', { type: 'range', 'aria-label': label });
}

/** An empty <select>; its options come from the schema or the kernel's folder lists. */
export function selectInput(hook: string, attrs: Record<string, string> = {}): HTMLSelectElement {
  return h('select', 'fw-input', { 'data-fw': hook, ...attrs });
}

/**
 * JupyterLab's notebook cancels a plain Enter typed into a textarea inside a cell's output
 * (it guards Shift+Enter): keep Enter inside our text fields.
 */
export function keepEnter(b: Binder, el: HTMLElement): void {
  b.listen(el, 'keydown', (ev: KeyboardEvent) => {
    if (ev.key === 'Enter' && !ev.ctrlKey && !ev.metaKey && !ev.altKey) ev.stopPropagation();
  });
}
