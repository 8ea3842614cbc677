/**
 * The Models section: the base model with Refresh (which says what it found), the hint shown
 * while no model is found, the LoRA slots the schema describes, and the memory meter with
 * Free memory.
 */

import type { PanelSchema } from '../common/schema';
import type { PanelActions } from './actions';
import type { Binder } from './bind';
import { loraSlots } from './controls';
import { field, h } from './dom';
import { section, selectInput } from './form';
import { loraSlotsField } from './schema';

/** How long Refresh's "Found …" stays on screen. */
export const REFRESH_NOTE_MS = 4000;

/** Refresh, and a line saying what it found (or why it failed), shown for a moment. */
function refreshControl(b: Binder, actions: PanelActions): { button: HTMLButtonElement; note: HTMLElement } {
  const button = h('button', 'fw-button fw-small', { type: 'button', 'data-fw': 'refresh', title: 'Look for new model files' }, ['Refresh']);
  const note = h('div', 'fw-hint', { 'data-fw': 'refresh-status', role: 'status' });
  note.hidden = true;
  const closing = new AbortController();
  let clear: ReturnType<typeof setTimeout> | undefined;
  const say = (text: string, failed: boolean): void => {
    note.textContent = text;
    note.hidden = !text;
    note.classList.toggle('fw-hint-error', failed);
    if (clear !== undefined) clearTimeout(clear);
    clear = text ? setTimeout(() => say('', false), REFRESH_NOTE_MS) : undefined;
  };
  b.listen(button, 'click', () => {
    button.disabled = true;
    say('Looking for models, LoRAs and styles…', false);
    actions.refresh(closing.signal).then(
      found => say(found, false),
      (err: unknown) => {
        if (!closing.signal.aborted) say(`Refresh failed. ${err instanceof Error ? err.message : String(err)}`, true);
      }
    ).finally(() => {
      button.disabled = false;
    });
  });
  b.own(() => {
    closing.abort();
    if (clear !== undefined) clearTimeout(clear);
  });
  return { button, note };
}

/** The memory meter (click to measure) and Free memory. */
function memoryRow(b: Binder, actions: PanelActions): HTMLElement {
  const meter = h('button', 'fw-meter', { type: 'button', 'data-fw': 'memory', title: 'Memory in use: click to update' });
  b.listen(meter, 'click', () => actions.measureMemory());
  const gib = (n: number | null | undefined): string => (n ? `${(n / 1024 ** 3).toFixed(1)} GB` : '');
  const show = (): void => {
    const mem = b.model.get('memory') ?? {};
    const vram = mem.vram_total ? `VRAM ${gib(mem.vram_used ?? 0) || '0.0 GB'} / ${gib(mem.vram_total)}` : 'no GPU';
    meter.textContent = mem.rss ? `RAM ${gib(mem.rss)} · ${vram}` : 'Memory: click to measure';
  };
  b.watch('memory', show);
  show();
  const free = h('button', 'fw-button fw-small', { type: 'button', 'data-fw': 'free-memory', title: 'Unload models and give GPU and RAM back' }, ['Free memory']);
  b.listen(free, 'click', () => actions.freeMemory());
  return h('div', 'fw-row fw-memory', {}, [meter, free]);
}

export function modelsSection(b: Binder, schema: PanelSchema, actions: PanelActions): HTMLElement {
  const base = selectInput('base-model');
  b.select('base_model', base, () => ['', ...(b.model.get('choices').models ?? [])], v => (v === '' ? 'Choose a model' : v));
  const refresh = refreshControl(b, actions);
  const hint = h('div', 'fw-hint', { 'data-fw': 'models-hint' });
  const showHint = (): void => {
    hint.textContent = b.model.get('choices').models_hint ?? '';
    hint.hidden = !hint.textContent;
  };
  b.watch('choices', showHint);
  showHint();
  return section('Models', true, [
    field('Base model', h('div', 'fw-row', {}, [base, refresh.button])),
    refresh.note,
    hint,
    h('div', 'fw-label', {}, ['LoRAs']),
    loraSlots(b, loraSlotsField(schema)),
    memoryRow(b, actions)
  ], 'models');
}
