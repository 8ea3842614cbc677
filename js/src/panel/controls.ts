/**
 * The panel's composite controls: the style picker with search, the LoRA slots and the seed.
 * Each builds its DOM once and keeps it in step with the model through a `Binder`.
 */

import { clampStep, h, setOptions } from './dom';
import type { Binder } from './bind';
import type { LoraSlotModel } from './model';

const MAX_SEED = (1n << 63n) - 1n;

/** True when `text` is a whole number from 0 to 2**63-1 written in decimal digits. */
export function isValidSeed(text: string): boolean {
  return /^\d{1,19}$/.test(text) && BigInt(text) <= MAX_SEED;
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

/** The five LoRA slots: enabled, file, weight (−2…2, step 0.01). */
export function loraSlots(b: Binder): HTMLElement {
  const rows = b.model.get('loras').map((_slot, i) => {
    const enabled = h('input', '', { type: 'checkbox', 'data-fw': `lora-${i}-enabled`, 'aria-label': `LoRA ${i + 1} enabled` });
    const file = h('select', 'fw-input', { 'data-fw': `lora-${i}-file`, 'aria-label': `LoRA ${i + 1} file` });
    const range = h('input', 'fw-range', { type: 'range', min: '-2', max: '2', step: '0.01', 'aria-label': `LoRA ${i + 1} weight slider` });
    const weight = h('input', 'fw-input fw-number', {
      type: 'number', min: '-2', max: '2', step: '0.01', 'data-fw': `lora-${i}-weight`, 'aria-label': `LoRA ${i + 1} weight`
    });
    const slot = (): LoraSlotModel => b.model.get('loras')[i] ?? { enabled: true, file: '', weight: 1 };
    const update = (patch: Partial<LoraSlotModel>): void => {
      const slots = b.model.get('loras').map((s, j) => (j === i ? { ...s, ...patch } : s));
      b.commit('loras', slots);
    };
    const show = (): void => {
      const s = slot();
      enabled.checked = s.enabled;
      setOptions(file, ['', ...(b.model.get('choices').loras ?? [])], s.file, v => (v === '' ? 'None' : v));
      weight.value = String(s.weight);
      range.value = String(s.weight);
    };
    b.listen(enabled, 'change', () => update({ enabled: enabled.checked }));
    b.listen(file, 'change', () => update({ file: file.value }));
    const takeWeight = (source: HTMLInputElement): void => {
      const n = source.valueAsNumber;
      if (!Number.isFinite(n)) return;
      const w = clampStep(n, -2, 2, 0.01);
      weight.value = String(w);
      range.value = String(w);
      if (w !== slot().weight) update({ weight: w });
    };
    b.listen(range, 'input', () => takeWeight(range));
    b.listen(weight, 'change', () => takeWeight(weight));
    b.watch('loras', show);
    b.watch('choices', show);
    show();
    return h('div', 'fw-lora', { 'data-fw-lora': String(i) }, [enabled, file, range, weight]);
  });
  return h('div', 'fw-loras', { 'data-fw': 'loras' }, rows);
}

/** Random-seed switch and the seed itself (as text: it can exceed a JS number's exact range). */
export function seedControl(b: Binder): HTMLElement {
  const random = h('input', '', { type: 'checkbox', 'data-fw': 'random-seed' });
  const seed = h('input', 'fw-input fw-seed', {
    type: 'text', inputmode: 'numeric', autocomplete: 'off', 'data-fw': 'seed', 'aria-label': 'Seed'
  });
  const show = (): void => {
    random.checked = b.model.get('random_seed');
    seed.disabled = random.checked;
    if (seed !== document.activeElement || seed.value === '') seed.value = b.model.get('seed');
    seed.removeAttribute('aria-invalid');
  };
  b.checkbox('random_seed', random);
  b.listen(random, 'change', show);
  b.listen(seed, 'input', () => {
    const text = seed.value.trim();
    if (isValidSeed(text)) {
      seed.removeAttribute('aria-invalid');
      if (text !== b.model.get('seed')) b.commit('seed', String(BigInt(text)));
    } else {
      seed.setAttribute('aria-invalid', 'true');
      seed.title = 'A seed is a whole number from 0 to 9223372036854775807';
    }
  });
  b.listen(seed, 'blur', show);
  b.watch('seed', show);
  b.watch('random_seed', show);
  show();
  return h('div', 'fw-row fw-seed-row', {}, [
    h('label', 'fw-check', {}, [random, h('span', '', {}, ['Random seed'])]),
    seed
  ]);
}
