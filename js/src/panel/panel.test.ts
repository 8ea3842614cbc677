import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RenderProps } from '@anywidget/types';
import { defaultValues, FakeModel } from '../testing/fake-model';
import { isValidSeed } from './controls';
import type { PanelModel } from './model';
import widget from './index';

let el: HTMLElement;
let model: FakeModel;
let cleanup: () => void;

function mount(overrides: Partial<PanelModel> = {}): void {
  model = new FakeModel(defaultValues(overrides));
  el = document.createElement('div');
  document.body.append(el);
  cleanup = widget.render({ model, el } as unknown as RenderProps<PanelModel>) as () => void;
}

function q<T extends HTMLElement = HTMLElement>(hook: string): T {
  const found = el.querySelector<T>(`[data-fw="${hook}"]`);
  if (!found) throw new Error(`no [data-fw="${hook}"]`);
  return found;
}

function type(input: HTMLInputElement | HTMLTextAreaElement, value: string, event = 'input'): void {
  input.value = value;
  input.dispatchEvent(new Event(event, { bubbles: true }));
}

beforeEach(() => vi.useFakeTimers());
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

  it('clamps numbers to their range before sending', () => {
    mount();
    type(q<HTMLInputElement>('image-number'), '99', 'change');
    expect(model.get('image_number')).toBe(32);
    expect(q<HTMLInputElement>('image-number').value).toBe('32');
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
    type(seed, '9223372036854775807');
    expect(model.get('seed')).toBe('9223372036854775807');
    type(seed, '9223372036854775808');
    expect(seed.getAttribute('aria-invalid')).toBe('true');
    expect(model.get('seed')).toBe('9223372036854775807');
    expect(isValidSeed('12a')).toBe(false);
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

  it('takes every model listener off again when the view goes', () => {
    mount();
    expect(model.listenerCount()).toBeGreaterThan(10);
    cleanup();
    expect(model.listenerCount()).toBe(0);
    cleanup = () => {};
  });
});
