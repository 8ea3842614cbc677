/**
 * The page never holds a value the kernel would refuse: limits are checked as the user types or
 * pastes, numbers are committed on blur or Enter only, a refusal is said in the error area with
 * the last valid value shown again, and a value the kernel sends back replaces the page's.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FakeModel } from '../testing/fake-model';
import { hook, mountPanel } from '../testing/mount';
import type { PanelModel } from './model';

let el: HTMLElement;
let model: FakeModel;
let cleanup: () => void;

function mount(overrides: Partial<PanelModel> = {}): void {
  ({ model, el, cleanup } = mountPanel(overrides));
}

const q = <T extends HTMLElement = HTMLElement>(name: string): T => hook<T>(el, name);

/** What the browser does for an edit: beforeinput, the new value, input. */
function edit(input: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  input.dispatchEvent(new Event('beforeinput', { bubbles: true, cancelable: true }));
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

/** Typing key by key: one input event per character. */
function typeKeys(input: HTMLInputElement, text: string): void {
  for (const ch of text) edit(input, input.value + ch);
}

const change = (input: HTMLInputElement): boolean => input.dispatchEvent(new Event('change', { bubbles: true }));

/** A plain Enter; returns whether it reached the element's parent (the notebook would see it). */
function pressEnter(input: HTMLInputElement): boolean {
  let reached = false;
  const parent = input.parentElement ?? el;
  const spy = (): void => {
    reached = true;
  };
  parent.addEventListener('keydown', spy);
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
  parent.removeEventListener('keydown', spy);
  return reached;
}

const errorText = (): string => q('error').textContent ?? '';

beforeEach(() => {
  vi.useFakeTimers();
  localStorage.clear();
});
afterEach(() => {
  cleanup?.();
  el?.remove();
  vi.useRealTimers();
});

describe('text limits', () => {
  it('refuses a paste past max_length at once, keeps the last valid text and says why', () => {
    mount({ prompt: 'a red fox' });
    const prompt = q<HTMLTextAreaElement>('prompt');
    expect(prompt.maxLength).toBe(-1); // no attribute: the browser would cut a paste silently
    prompt.setSelectionRange(2, 5);
    edit(prompt, 'a '.concat('x'.repeat(200_000), ' fox'));
    expect(prompt.value).toBe('a red fox');
    expect([prompt.selectionStart, prompt.selectionEnd]).toEqual([2, 5]);
    expect(q('error').hidden).toBe(false);
    expect(errorText()).toContain('The prompt is 200,006 characters; allowed: at most 32,768. It was not applied.');
    vi.advanceTimersByTime(1000);
    expect(model.get('prompt')).toBe('a red fox'); // nothing of it reaches the kernel
  });

  it('takes its refusal back at the next valid edit, but never an error someone else set', () => {
    mount();
    const prompt = q<HTMLTextAreaElement>('prompt');
    edit(prompt, 'x'.repeat(32_769));
    expect(model.get('error')).toContain('The prompt is 32,769 characters');
    edit(prompt, 'x'.repeat(32_768)); // exactly the limit
    vi.advanceTimersByTime(200);
    expect(model.get('prompt')).toHaveLength(32_768);
    expect(model.get('error')).toBe('');

    edit(prompt, 'y'.repeat(40_000));
    model.kernelSets('error', 'The model file is damaged.');
    edit(prompt, 'ok');
    vi.advanceTimersByTime(200);
    expect(model.get('error')).toBe('The model file is damaged.');
  });

  it('limits the negative prompt by its own max_length', () => {
    mount();
    const negative = q<HTMLTextAreaElement>('negative-prompt');
    edit(negative, 'n'.repeat(32_769));
    expect(negative.value).toBe('');
    expect(errorText()).toContain('The negative prompt is 32,769 characters; allowed: at most 32,768.');
  });
});

describe('numbers are committed on blur or Enter, never keystroke by keystroke', () => {
  it('sends nothing while a seed is typed key by key, refuses it past the maximum, takes a valid one on Enter', () => {
    mount({ random_seed: false, seed: '42' });
    const seed = q<HTMLInputElement>('seed');
    seed.value = '';
    const saves = model.saves;
    typeKeys(seed, '999999999999999999'); // 18 nines: still a valid seed, but not what is being typed
    expect(seed.getAttribute('aria-invalid')).toBeNull();
    typeKeys(seed, '99999');
    expect(seed.getAttribute('aria-invalid')).toBe('true');
    expect(seed.title).toContain('is out of range');
    expect(model.saves).toBe(saves);
    expect(model.get('seed')).toBe('42');

    change(seed); // Tab: the browser's change event
    expect(model.get('seed')).toBe('42');
    expect(seed.value).toBe('42');
    expect(seed.getAttribute('aria-invalid')).toBeNull();
    expect(errorText()).toContain(
      'The seed 99999999999999999999999 is out of range; allowed: whole numbers from 0 to 9223372036854775807. It was not applied; the seed stays 42.'
    );

    seed.value = '';
    typeKeys(seed, '1234567');
    expect(model.get('seed')).toBe('42');
    expect(pressEnter(seed)).toBe(false); // kept from the notebook
    expect(model.get('seed')).toBe('1234567');
    expect(model.get('error')).toBe(''); // the seed's refusal is taken back
  });

  it('does not let the kernel’s seed overwrite a seed being typed', () => {
    mount({ random_seed: false, seed: '1' });
    const seed = q<HTMLInputElement>('seed');
    typeKeys(seed, '23');
    model.kernelSets('seed', '7');
    expect(seed.value).toBe('123');
    change(seed);
    expect(model.get('seed')).toBe('123');
    model.kernelSets('seed', '8');
    expect(seed.value).toBe('8');
  });

  it('commits a typed number on change or Enter, not on input', () => {
    mount();
    const count = q<HTMLInputElement>('image-number');
    edit(count, '3');
    expect(model.get('image_number')).toBe(2);
    change(count);
    expect(model.get('image_number')).toBe(3);
    edit(count, '33');
    expect(count.getAttribute('aria-invalid')).toBe('true');
    expect(model.get('image_number')).toBe(3);
    expect(pressEnter(count)).toBe(false);
    expect(model.get('image_number')).toBe(3);
    expect(count.value).toBe('3');
    expect(errorText()).toContain('The image number 33 is out of range; allowed: whole numbers from 1 to 32.');
    edit(count, '4');
    pressEnter(count);
    expect(model.get('image_number')).toBe(4);
  });

  it('refuses a guidance scale typed out of range, but the slider commits as it moves', () => {
    mount();
    const guidance = q<HTMLInputElement>('guidance-scale');
    const slider = guidance.parentElement?.querySelector<HTMLInputElement>('input[type="range"]');
    if (!slider) throw new Error('no slider');
    edit(guidance, '31');
    change(guidance);
    expect(model.get('guidance_scale')).toBe(4);
    expect(guidance.value).toBe('4');
    expect(errorText()).toContain('The guidance scale 31 is out of range; allowed: numbers from 1 to 30.');
    slider.value = '7.5';
    slider.dispatchEvent(new Event('input', { bubbles: true }));
    expect(model.get('guidance_scale')).toBe(7.5);
    expect(guidance.value).toBe('7.5');
  });

  it('refuses a CLIP skip that is not a whole number', () => {
    mount();
    const clipSkip = q<HTMLInputElement>('clip-skip');
    edit(clipSkip, '2.5');
    change(clipSkip);
    expect(model.get('clip_skip')).toBe(2);
    expect(errorText()).toContain('The CLIP skip 2.5 is not a whole number; allowed: whole numbers from 1 to 12.');
  });

  it('refuses a LoRA weight out of range, naming the slot, and leaves every slot as it was', () => {
    mount();
    const before = model.get('loras');
    const weight = q<HTMLInputElement>('lora-1-weight');
    edit(weight, '2.5');
    expect(model.get('loras')).toBe(before);
    change(weight);
    expect(model.get('loras')).toBe(before);
    expect(weight.value).toBe('1');
    expect(errorText()).toContain(
      'The LoRA 2 weight 2.5 is out of range; allowed: numbers from -2 to 2. It was not applied; the LoRA 2 weight stays 1.'
    );
    edit(weight, '-0.5');
    pressEnter(weight);
    expect(model.get('loras')[1]?.weight).toBe(-0.5);
    expect(model.get('error')).toBe('');
  });
});

describe('a value the kernel sends back', () => {
  it('replaces the page’s text, cancels its pending send, and is what a later refusal restores', () => {
    mount({ prompt: 'accepted' });
    const prompt = q<HTMLTextAreaElement>('prompt');
    edit(prompt, 'typed');
    const saves = model.saves;
    model.kernelSets('prompt', 'from the kernel');
    expect(prompt.value).toBe('from the kernel');
    vi.advanceTimersByTime(1000);
    expect(model.get('prompt')).toBe('from the kernel');
    expect(model.saves).toBe(saves); // the typed text was not sent after all
    edit(prompt, 'z'.repeat(40_000));
    expect(prompt.value).toBe('from the kernel');
  });

  it('shows in number inputs and the seed', () => {
    mount({ random_seed: false });
    model.kernelSets('image_number', 5);
    model.kernelSets('seed', '9223372036854775807');
    model.kernelSets('error', 'The image number 40 is out of range; allowed: whole numbers from 1 to 32.');
    expect(q<HTMLInputElement>('image-number').value).toBe('5');
    expect(q<HTMLInputElement>('seed').value).toBe('9223372036854775807');
    expect(errorText()).toContain('The image number 40 is out of range');
  });
});

describe('marks while typing', () => {
  it('marks a number or seed only once its text would be refused, not while it is empty', () => {
    mount({ random_seed: false });
    const weight = q<HTMLInputElement>('lora-0-weight');
    edit(weight, '');
    expect(weight.getAttribute('aria-invalid')).toBeNull();
    edit(weight, '-3');
    expect(weight.getAttribute('aria-invalid')).toBe('true');
    expect(weight.title).toBe('The LoRA 1 weight -3 is out of range; allowed: numbers from -2 to 2.');
    edit(weight, '-1');
    expect(weight.getAttribute('aria-invalid')).toBeNull();
    expect(weight.hasAttribute('title')).toBe(false);
    const seed = q<HTMLInputElement>('seed');
    edit(seed, '');
    expect(seed.getAttribute('aria-invalid')).toBeNull();
    edit(seed, '4x');
    expect(seed.getAttribute('aria-invalid')).toBe('true');
    expect(model.get('loras')[0]?.weight).toBe(1); // nothing committed by typing
  });
});
