/**
 * The panel's composite controls: the style picker with search, the LoRA slots and the seed.
 * Each builds its DOM once and keeps it in step with the model through a `Binder`; their limits
 * (slot count, weights, the seed's range) come from the schema. Typed weights and seeds are
 * committed on blur or Enter and refused (said in the error area, the last valid value shown
 * again) when they break those limits.
 */

import { clampStep, h, markInvalid, setOptions } from './dom';
import type { Binder } from './bind';
import { checkNumber, checkSeed, refusal } from './limits';
import type { LoraSlotFields } from './model';
import type { LoraSlotsSchema, WholeTextBounds } from './schema';

/** True when `text` is a whole number within `bounds`, written in decimal digits only. */
export function isValidSeed(text: string, bounds: WholeTextBounds): boolean {
  return checkSeed(text, bounds).ok;
}

/** Styles: a search box over checkboxes; the order of picking is the order of applying. */
export function stylePicker(b: Binder): HTMLElement {
  const search = h('input', 'fw-input fw-style-search', {
    type: 'search',
    placeholder: 'Search styles',
    'data-fw': 'style-search',
    'aria-label': 'Search styles'
  });
  const count = h('span', 'fw-style-count');
  const list = h('div', 'fw-style-list', { role: 'group', 'aria-label': 'Styles' });

  const render = (): void => {
    const selected = b.model.get('styles');
    const known = b.model.get('choices').styles ?? [];
    const query = search.value.trim().toLowerCase();
    // picked styles first (in picking order), then the rest; unknown picks stay visible
    const names = [...selected, ...known.filter(n => !selected.includes(n))];
    const rows = names
      .filter(name => !query || name.toLowerCase().includes(query))
      .map(name => {
        const box = h('input', '', { type: 'checkbox', 'data-style': name });
        box.checked = selected.includes(name);
        const text = known.includes(name) ? name : `${name} (not found)`;
        return h('label', 'fw-style', {}, [box, h('span', '', {}, [text])]);
      });
    list.replaceChildren(...rows);
    count.textContent = `${selected.length} selected`;
  };
  b.listen(list, 'change', (ev: Event) => {
    const box = ev.target as HTMLInputElement;
    const name = box.dataset.style;
    if (name === undefined) return;
    const current = b.model.get('styles');
    b.commit('styles', box.checked ? [...current.filter(n => n !== name), name] : current.filter(n => n !== name));
    render();
  });
  b.listen(search, 'input', render);
  b.watch('styles', render);
  b.watch('choices', render);
  render();
  return h('div', 'fw-styles', { 'data-fw': 'styles' }, [h('div', 'fw-row', {}, [search, count]), list]);
}

/** The LoRA slots (as many as the schema says): enabled, file, weight within the schema's bounds. */
export function loraSlots(b: Binder, slots: LoraSlotsSchema): HTMLElement {
  const { min, max, step } = slots.weight;
  const bounds = { min: String(min), max: String(max), step: String(step) };
  const rows = Array.from({ length: slots.count }, (_unused, i) => {
    const enabled = h('input', '', { type: 'checkbox', 'data-fw': `lora-${i}-enabled`, 'aria-label': `LoRA ${i + 1} enabled` });
    const file = h('select', 'fw-input', { 'data-fw': `lora-${i}-file`, 'aria-label': `LoRA ${i + 1} file` });
    const range = h('input', 'fw-range', { type: 'range', ...bounds, 'aria-label': `LoRA ${i + 1} weight slider` });
    const weight = h('input', 'fw-input fw-number', {
      type: 'number', ...bounds, 'data-fw': `lora-${i}-weight`, 'aria-label': `LoRA ${i + 1} weight`
    });
    const slot = (): LoraSlotFields => b.model.get('loras')[i] ?? slots.defaultSlot;
    const update = (patch: Partial<LoraSlotFields>): void => {
      const current = b.model.get('loras');
      const all = Array.from({ length: slots.count }, (_unused2, j) => current[j] ?? slots.defaultSlot);
      b.commit('loras', all.map((s, j) => (j === i ? { ...s, ...patch } : s)));
    };
    const show = (): void => {
      const s = slot();
      enabled.checked = s.enabled;
      setOptions(file, ['', ...(b.model.get('choices').loras ?? [])], s.file, v => (v === '' ? 'None' : v));
      weight.value = String(s.weight);
      range.value = String(s.weight);
      markInvalid(weight, null);
    };
    b.listen(enabled, 'change', () => update({ enabled: enabled.checked }));
    b.listen(file, 'change', () => update({ file: file.value }));
    const label = `LoRA ${i + 1} weight`;
    const hook = `lora-${i}-weight`;
    const typedWeight = (): ReturnType<typeof checkNumber> =>
      checkNumber(label, weight.value, slots.weight, weight.validity.badInput);
    const takeWeight = (w: number): void => {
      if (w !== slot().weight) update({ weight: w });
      b.settle(hook);
    };
    b.listen(range, 'input', () => {
      const n = range.valueAsNumber;
      if (Number.isFinite(n)) takeWeight(clampStep(n, min, max, step));
    });
    b.listen(weight, 'input', () => {
      const verdict = typedWeight(); // "" (a partial "-") is not marked while typing
      markInvalid(weight, verdict.ok || weight.value === '' ? null : verdict.problem);
    });
    b.onCommit(weight, () => {
      const verdict = typedWeight();
      if (verdict.ok) takeWeight(verdict.value);
      else b.refuse(hook, refusal(verdict.problem, `the ${label} stays ${slot().weight}`));
      show(); // the weight as committed (snapped to the step), or the last valid one
    });
    b.watch('loras', show);
    b.watch('choices', show);
    show();
    return h('div', 'fw-lora', { 'data-fw-lora': String(i) }, [enabled, file, range, weight]);
  });
  return h('div', 'fw-loras', { 'data-fw': 'loras' }, rows);
}

/**
 * Random-seed switch and the seed itself (as text: it can exceed a JS number's exact range).
 * The seed is committed on blur or Enter, never keystroke by keystroke (a long number typed
 * key by key would otherwise send each of its prefixes); while it is typed, the field is marked
 * as soon as its text would be refused.
 */
export function seedControl(b: Binder, bounds: WholeTextBounds): HTMLElement {
  const random = h('input', '', { type: 'checkbox', 'data-fw': 'random-seed' });
  const seed = h('input', 'fw-input fw-seed', {
    type: 'text', inputmode: 'numeric', autocomplete: 'off', 'data-fw': 'seed', 'aria-label': 'Seed'
  });
  /** The field holds typed text that is not committed yet: the model's seed must not replace it. */
  let typing = false;
  const show = (): void => {
    random.checked = b.model.get('random_seed');
    seed.disabled = random.checked;
    if (typing) return;
    seed.value = b.model.get('seed');
    markInvalid(seed, null);
  };
  b.checkbox('random_seed', random);
  b.listen(random, 'change', show);
  b.listen(seed, 'input', () => {
    typing = true;
    const verdict = checkSeed(seed.value, bounds);
    markInvalid(seed, verdict.ok || seed.value.trim() === '' ? null : verdict.problem);
  });
  b.onCommit(seed, () => {
    typing = false;
    const verdict = checkSeed(seed.value, bounds);
    if (verdict.ok) b.accept('seed', verdict.value);
    else b.refuse('seed', refusal(verdict.problem, `the seed stays ${b.model.get('seed')}`));
    show(); // the seed as committed, or the last valid one
  });
  b.listen(seed, 'blur', () => {
    typing = false; // text left as it was at focus fires no change: show the model's seed
    show();
  });
  b.watch('seed', show);
  b.watch('random_seed', show);
  show();
  return h('div', 'fw-row fw-seed-row', {}, [
    h('label', 'fw-check', {}, [random, h('span', '', {}, ['Random seed'])]),
    seed
  ]);
}
