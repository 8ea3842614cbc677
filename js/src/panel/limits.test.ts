/** The page's own checks: what they let through, and the sentence they give for what they refuse. */

import { describe, expect, it } from 'vitest';
import { testSchema } from '../testing/fake-model';
import { checkNumber, checkSeed, checkText, fitsSchema, refusal, shownValue } from './limits';
import { numberField, wholeTextField } from './schema';

const schema = testSchema();
const field = (name: string) => {
  const found = schema.fields[name];
  if (!found) throw new Error(name);
  return found;
};

describe('checkText', () => {
  it('lets text up to the limit through and names the length and the limit otherwise', () => {
    expect(checkText('prompt', 'a'.repeat(32_768), 32_768)).toEqual({ ok: true, value: 'a'.repeat(32_768) });
    expect(checkText('prompt', 'a'.repeat(200_000), 32_768)).toEqual({
      ok: false,
      problem: 'The prompt is 200,000 characters; allowed: at most 32,768.'
    });
  });
});

describe('checkNumber', () => {
  const count = numberField(schema, 'image_number');
  const guidance = numberField(schema, 'guidance_scale');

  it('passes numbers in range, snapped to the step', () => {
    expect(checkNumber('image number', '32', count)).toEqual({ ok: true, value: 32 });
    expect(checkNumber('guidance scale', ' 7.46 ', guidance)).toEqual({ ok: true, value: 7.5 });
  });

  it('refuses, never clamps, what is out of range, fractional for a whole number, empty or no number', () => {
    const problem = (text: string, badInput = false): string => {
      const verdict = checkNumber('image number', text, count, badInput);
      if (verdict.ok) throw new Error(`${text} passed`);
      return verdict.problem;
    };
    expect(problem('33')).toBe('The image number 33 is out of range; allowed: whole numbers from 1 to 32.');
    expect(problem('0')).toContain('is out of range');
    expect(problem('2.5')).toBe('The image number 2.5 is not a whole number; allowed: whole numbers from 1 to 32.');
    expect(problem('')).toBe('The image number is empty; allowed: whole numbers from 1 to 32.');
    expect(problem('', true)).toBe('The image number is not a number; allowed: whole numbers from 1 to 32.');
    expect(problem('1e999')).toContain('is not a number');
    const over = checkNumber('guidance scale', '30.04', guidance);
    expect(over.ok ? over.value : over.problem).toBe('The guidance scale 30.04 is out of range; allowed: numbers from 1 to 30.');
  });
});

describe('checkSeed', () => {
  const bounds = wholeTextField(schema, 'seed');

  it('passes digits up to the maximum, without leading zeros', () => {
    expect(checkSeed('9223372036854775807', bounds)).toEqual({ ok: true, value: '9223372036854775807' });
    expect(checkSeed('007', bounds)).toEqual({ ok: true, value: '7' });
    expect(checkSeed('0', bounds)).toEqual({ ok: true, value: '0' });
  });

  it('refuses a seed past the maximum, signs, letters and nothing, saying what is allowed', () => {
    const problem = (text: string): string => {
      const verdict = checkSeed(text, bounds);
      if (verdict.ok) throw new Error(`${text} passed`);
      return verdict.problem;
    };
    expect(problem('99999999999999999999999')).toBe(
      'The seed 99999999999999999999999 is out of range; allowed: whole numbers from 0 to 9223372036854775807.'
    );
    expect(problem('9223372036854775808')).toContain('is out of range');
    expect(problem('-1')).toContain('is not a whole number');
    expect(problem('12a')).toContain('digits only');
    expect(problem('')).toBe('The seed is empty; allowed: whole numbers from 0 to 9223372036854775807.');
    // a pasted wall of digits is shown cut, with its length, and never parsed as a BigInt
    expect(problem('9'.repeat(100_000))).toContain('999999999999999999999999… (100,000 characters) is out of range');
  });
});

describe('messages', () => {
  it('cut long values and say nothing was applied', () => {
    expect(shownValue('short')).toBe('short');
    expect(shownValue('x'.repeat(40))).toBe(`${'x'.repeat(24)}… (40 characters)`);
    expect(refusal('The seed is empty.')).toBe('The seed is empty. It was not applied.');
    expect(refusal('The seed is empty.', 'the seed stays 5')).toBe('The seed is empty. It was not applied; the seed stays 5.');
  });
});

describe('fitsSchema', () => {
  it('checks each kind the way the kernel does', () => {
    expect(fitsSchema(field('prompt'), 'a'.repeat(32_768))).toBe(true);
    expect(fitsSchema(field('prompt'), 'a'.repeat(32_769))).toBe(false);
    expect(fitsSchema(field('prompt'), 5)).toBe(false);
    expect(fitsSchema(field('base_model'), 'two\nlines')).toBe(false);
    expect(fitsSchema(field('seed'), '9223372036854775807')).toBe(true);
    expect(fitsSchema(field('seed'), '9223372036854775808')).toBe(false);
    expect(fitsSchema(field('seed'), '12a')).toBe(false);
    expect(fitsSchema(field('image_number'), 32)).toBe(true);
    expect(fitsSchema(field('image_number'), 33)).toBe(false);
    expect(fitsSchema(field('image_number'), '3')).toBe(false);
    expect(fitsSchema(field('guidance_scale'), Number.NaN)).toBe(false);
    expect(fitsSchema(field('sampler'), 'Euler a')).toBe(true);
    expect(fitsSchema(field('sampler'), 'Nope')).toBe(false);
    expect(fitsSchema(field('aspect_ratio'), '1024*1024')).toBe(true);
    expect(fitsSchema(field('aspect_ratio'), '1004*1000')).toBe(false); // 1004 is no multiple of 8
    expect(fitsSchema(field('aspect_ratio'), '8192*1024')).toBe(false);
    expect(fitsSchema(field('styles'), ['Sharp', 'Sharp'])).toBe(false);
    expect(fitsSchema(field('styles'), ['Sharp', 'Enhance'])).toBe(true);
    expect(fitsSchema(field('last_results'), ['f'.repeat(64)])).toBe(true);
    expect(fitsSchema(field('last_results'), ['F'.repeat(64)])).toBe(false);
    const slot = { enabled: true, file: 'a.safetensors', weight: 1 };
    expect(fitsSchema(field('loras'), [slot, slot])).toBe(true);
    expect(fitsSchema(field('loras'), [{ ...slot, weight: 2.5 }])).toBe(false);
    expect(fitsSchema(field('input_image'), { enabled: false, mode: 'Vary (Subtle)', image: '' })).toBe(true);
    expect(fitsSchema(field('input_image'), { enabled: false, mode: 'Paint', image: '' })).toBe(false);
  });
});
