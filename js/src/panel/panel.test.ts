/** One view of the panel: hooks, bindings, limits from the schema, Refresh, cleanup. */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FakeModel, testSchema } from '../testing/fake-model';
import { hook, mountPanel } from '../testing/mount';
import { isValidSeed } from './controls';
import type { PanelModel } from './model';
import { REFRESH_NOTE_MS } from './models-section';
import { wholeTextField } from './schema';

let el: HTMLElement;
let model: FakeModel;
let cleanup: () => void;

function mount(overrides: Partial<PanelModel> = {}): void {
  ({ model, el, cleanup } = mountPanel(overrides));
}

const q = <T extends HTMLElement = HTMLElement>(name: string): T => hook<T>(el, name);

function type(input: HTMLInputElement | HTMLTextAreaElement, value: string, event = 'input'): void {
  input.value = value;
  input.dispatchEvent(new Event(event, { bubbles: true }));
}

beforeEach(() => {
  vi.useFakeTimers();
  localStorage.clear();
});
afterEach(() => {
  cleanup?.();
  el?.remove();
  vi.useRealTimers();
});

describe('panel', () => {
  it('carries the panel key and every documented hook', () => {
    mount({ key: 'cell-42' });
    expect(el.querySelector('[data-fw-panel]')?.getAttribute('data-fw-panel')).toBe('cell-42');
    const hooks = [
      'prompt', 'negative-prompt', 'styles', 'performance', 'aspect-ratio', 'image-number', 'seed',
      'random-seed', 'base-model', 'guidance-scale', 'sampler', 'generate', 'stop', 'skip', 'progress',
      'gallery', 'error'
    ];
    for (let i = 0; i < 5; i++) hooks.push(`lora-${i}-enabled`, `lora-${i}-file`, `lora-${i}-weight`);
    for (const hook of hooks) expect(el.querySelector(`[data-fw="${hook}"]`), hook).not.toBeNull();
  });

  it('sends typed prompt text after the debounce, and at once when Generate is clicked', () => {
    mount();
    type(q<HTMLTextAreaElement>('prompt'), 'a red fox');
    expect(model.get('prompt')).toBe('');
    vi.advanceTimersByTime(200);
    expect(model.get('prompt')).toBe('a red fox');
    type(q<HTMLTextAreaElement>('prompt'), 'a blue fox');
    q('generate').click();
    expect(model.get('prompt')).toBe('a blue fox');
    expect(model.sent).toEqual([{ type: 'generate' }]);
  });

  it('shows values the kernel sets', () => {
    mount();
    model.kernelSets('prompt', 'from the kernel');
    model.kernelSets('sampler', 'Euler a');
    model.kernelSets('guidance_scale', 7.5);
    expect(q<HTMLTextAreaElement>('prompt').value).toBe('from the kernel');
    expect(q<HTMLSelectElement>('sampler').value).toBe('Euler a');
    expect(q<HTMLInputElement>('guidance-scale').value).toBe('7.5');
  });

  it('refuses numbers out of range, says why, and shows the last valid value again', () => {
    mount();
    const count = q<HTMLInputElement>('image-number');
    type(count, '99', 'change');
    expect(model.get('image_number')).toBe(2);
    expect(count.value).toBe('2');
    expect(model.get('error')).toBe(
      'The image number 99 is out of range; allowed: whole numbers from 1 to 32. It was not applied; the image number stays 2.'
    );
  });

  it('takes bounds and step from the schema the kernel sent, and checks against them', () => {
    const schema = testSchema();
    schema.fields.image_number = { kind: 'int', min: 2, max: 7, step: 1, as_text: false, default: 3 };
    mount({ schema, image_number: 3 });
    const count = q<HTMLInputElement>('image-number');
    expect([count.min, count.max, count.step]).toEqual(['2', '7', '1']);
    type(count, '8', 'change');
    expect(model.get('image_number')).toBe(3);
    expect(model.get('error')).toContain('allowed: whole numbers from 2 to 7');
    type(count, '7', 'change');
    expect(model.get('image_number')).toBe(7);
    expect(count.value).toBe('7');
    type(count, '1', 'change');
    expect(model.get('image_number')).toBe(7);
  });

  it('offers the schema’s choices and LoRA slots', () => {
    const schema = testSchema();
    schema.fields.sampler = { kind: 'choice', choices: ['Euler', 'LCM'], default: 'Euler' };
    const loras = schema.fields.loras;
    if (loras?.kind !== 'slots') throw new Error('loras');
    schema.fields.loras = { ...loras, count: 2 };
    mount({ schema, sampler: 'Euler' });
    expect([...q<HTMLSelectElement>('sampler').options].map(o => o.value)).toEqual(['Euler', 'LCM']);
    expect(el.querySelectorAll('[data-fw-lora]').length).toBe(2);
    expect(q<HTMLInputElement>('lora-1-weight').max).toBe('2');
  });

  it('says clearly when the kernel sent a schema it does not understand', () => {
    const schema = testSchema();
    schema.fields.image_number = { kind: 'choice', choices: ['1'], default: '1' };
    expect(() => mount({ schema })).toThrow(/fields\.image_number is a "choice" field, not "int" or "float"/);
    expect(model.listenerCount()).toBe(0); // nothing left running behind the error
    cleanup = () => {};
  });

  it('picks styles in order, searches, and keeps unknown picks visible', () => {
    mount({ styles: ['Gone Style'] });
    const styles = q('styles');
    const box = (name: string): HTMLInputElement => {
      const found = styles.querySelector<HTMLInputElement>(`input[data-style="${name}"]`);
      if (!found) throw new Error(name);
      return found;
    };
    expect(styles.textContent).toContain('Gone Style (not found)');
    box('Watercolor').checked = true;
    box('Watercolor').dispatchEvent(new Event('change', { bubbles: true }));
    box('Cinematic').checked = true;
    box('Cinematic').dispatchEvent(new Event('change', { bubbles: true }));
    expect(model.get('styles')).toEqual(['Gone Style', 'Watercolor', 'Cinematic']);
    type(styles.querySelector<HTMLInputElement>('[data-fw="style-search"]')!, 'water');
    expect([...styles.querySelectorAll('input[data-style]')].map(b => (b as HTMLInputElement).dataset.style)).toEqual([
      'Watercolor'
    ]);
  });

  it('edits one LoRA slot without touching the others', () => {
    mount();
    const file = q<HTMLSelectElement>('lora-2-file');
    file.value = 'detail.safetensors';
    file.dispatchEvent(new Event('change'));
    type(q<HTMLInputElement>('lora-2-weight'), '-0.257', 'change');
    const slots = model.get('loras');
    expect(slots[2]).toEqual({ enabled: true, file: 'detail.safetensors', weight: -0.26 });
    expect(slots[0]).toEqual({ enabled: true, file: '', weight: 1 });
  });

  it('accepts seeds up to 2**63-1 as text and refuses others', () => {
    mount({ random_seed: false });
    const seed = q<HTMLInputElement>('seed');
    type(seed, '9223372036854775807', 'change');
    expect(model.get('seed')).toBe('9223372036854775807');
    type(seed, '9223372036854775808', 'change');
    expect(model.get('seed')).toBe('9223372036854775807');
    expect(seed.value).toBe('9223372036854775807');
    expect(model.get('error')).toMatch(/^The seed 9223372036854775808 is out of range; allowed: whole numbers from 0 to 9223372036854775807\./);
    const bounds = wholeTextField(testSchema(), 'seed');
    expect(isValidSeed('12a', bounds)).toBe(false);
    expect(isValidSeed('-1', bounds)).toBe(false);
    expect(isValidSeed('0', bounds)).toBe(true);
  });

  it('shows errors as text, hidden when empty', () => {
    mount();
    const box = q('error');
    expect(box.hidden).toBe(true);
    model.kernelSets('error', '<b>model.safetensors</b> is damaged');
    expect(box.hidden).toBe(false);
    expect(box.querySelector('b')).toBeNull();
    expect(box.textContent).toContain('<b>model.safetensors</b> is damaged');
  });

  it('says what Refresh found, or why it failed, for a moment', async () => {
    mount();
    const refresh = q<HTMLButtonElement>('refresh');
    const status = q('refresh-status');
    refresh.click();
    expect(refresh.disabled).toBe(true);
    const asked = model.sentOf('refresh') as { id: string }[];
    model.emit('msg:custom', { type: 'refreshed', id: asked[0]?.id, models: 1, loras: 0, styles: 2 });
    await vi.advanceTimersByTimeAsync(0);
    expect(status.textContent).toBe('Found 1 model, 0 LoRAs, 2 styles.');
    expect(refresh.disabled).toBe(false);
    await vi.advanceTimersByTimeAsync(REFRESH_NOTE_MS);
    expect(status.hidden).toBe(true);

    refresh.click();
    const again = model.sentOf('refresh') as { id: string }[];
    model.emit('msg:custom', { type: 'refused', id: again[1]?.id, reason: 'the models folder is not readable' });
    await vi.advanceTimersByTimeAsync(0);
    expect(status.textContent).toBe('Refresh failed. The kernel refused "refresh": the models folder is not readable');
  });

  it('takes every model listener off again when the view goes', () => {
    mount();
    expect(model.listenerCount()).toBeGreaterThan(10);
    cleanup();
    expect(model.listenerCount()).toBe(0);
    cleanup = () => {};
  });
});
