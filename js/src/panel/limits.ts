/**
 * The page's own checks of what the user typed or pasted, against the limits the schema gives.
 * Each check either passes the value on (normalised) or says, in one sentence, what was refused
 * and what is allowed. The kernel checks everything again (fooocus_widgets/checks.py); these keep
 * the page from holding, sending or saving a value the kernel would refuse. `fitsSchema` is the
 * same idea for whole saved fields: the state mirror writes only values that pass it.
 */

import type { FieldSchema } from '../common/schema';
import { clampStep } from './dom';
import type { NumberBounds, WholeTextBounds } from './schema';

/** A value that may be committed, or why it may not. */
export type Verdict<T> = { ok: true; value: T } | { ok: false; problem: string };

const pass = <T>(value: T): Verdict<T> => ({ ok: true, value });
const fail = <T>(problem: string): Verdict<T> => ({ ok: false, problem });

/** 32768 -> "32,768" (lengths and counts, never seeds: those are copied as digits). */
export const grouped = (n: number): string => n.toLocaleString('en-US');

/** The value as the message shows it: short ones whole, long ones cut, with their length. */
export function shownValue(text: string): string {
  return text.length <= 32 ? text : `${text.slice(0, 24)}… (${grouped(text.length)} characters)`;
}

/** The sentence the panel shows for a refused edit: what, why, and that nothing changed. */
export function refusal(problem: string, kept?: string): string {
  return kept === undefined ? `${problem} It was not applied.` : `${problem} It was not applied; ${kept}.`;
}

/** Text up to `maxLength` characters (prompts). */
export function checkText(label: string, text: string, maxLength: number): Verdict<string> {
  if (text.length <= maxLength) return pass(text);
  return fail(`The ${label} is ${grouped(text.length)} characters; allowed: at most ${grouped(maxLength)}.`);
}

/** What a number field allows, in the kernel's words ("whole numbers from 1 to 32"). */
export function allowedNumbers(bounds: NumberBounds): string {
  return `${bounds.whole ? 'whole numbers' : 'numbers'} from ${bounds.min} to ${bounds.max}`;
}

/**
 * A number input's text. `badInput` is the browser's flag for text that is no number at all
 * (a number input then reports ""). In range, a fractional value is snapped to the step the
 * input offers; out of range it is refused, never clamped to a value the user did not enter.
 */
export function checkNumber(label: string, text: string, bounds: NumberBounds, badInput = false): Verdict<number> {
  const allowed = allowedNumbers(bounds);
  const typed = text.trim();
  if (badInput) return fail(`The ${label} is not a number; allowed: ${allowed}.`);
  if (typed === '') return fail(`The ${label} is empty; allowed: ${allowed}.`);
  const n = Number(typed);
  if (!Number.isFinite(n)) return fail(`The ${label} ${shownValue(typed)} is not a number; allowed: ${allowed}.`);
  if (bounds.whole && !Number.isInteger(n)) {
    return fail(`The ${label} ${shownValue(typed)} is not a whole number; allowed: ${allowed}.`);
  }
  if (n < bounds.min || n > bounds.max) return fail(`The ${label} ${shownValue(typed)} is out of range; allowed: ${allowed}.`);
  return pass(clampStep(n, bounds.min, bounds.max, bounds.step));
}

/** A seed as typed: decimal digits only, within the bounds (as decimal text, without leading zeros). */
export function checkSeed(text: string, bounds: WholeTextBounds): Verdict<string> {
  const typed = text.trim();
  const allowed = `whole numbers from ${bounds.min} to ${bounds.max}`;
  if (typed === '') return fail(`The seed is empty; allowed: ${allowed}.`);
  if (!/^\d+$/.test(typed)) return fail(`The seed ${shownValue(typed)} is not a whole number; allowed: ${allowed}, digits only.`);
  // no BigInt of an absurdly long string: more digits than the largest bound is out of range anyway
  const digits = String(bounds.max).length;
  const seed = typed.replace(/^0+(?=\d)/, '');
  if (seed.length > digits || BigInt(seed) > bounds.max || BigInt(seed) < bounds.min) {
    return fail(`The seed ${shownValue(typed)} is out of range; allowed: ${allowed}.`);
  }
  return pass(seed);
}

const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const HASH = /^[0-9a-f]{64}$/;
const SIZE = /^(\d{1,5})\*(\d{1,5})$/;
const isObject = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && !Array.isArray(value);

function fitsWhole(field: Extract<FieldSchema, { kind: 'int' }>, value: unknown): boolean {
  const text = typeof value === 'number' && Number.isInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || !/^-?\d{1,40}$/.test(text)) return false;
  if (!field.as_text && typeof value !== 'number') return false;
  const n = BigInt(text);
  return n >= BigInt(field.min) && n <= BigInt(field.max);
}

/**
 * Whether `value` passes the field's check as the schema describes it (the page's copy of
 * fooocus_widgets/checks.py). Kinds this page does not know pass: the kernel decides on those.
 */
export function fitsSchema(field: FieldSchema, value: unknown): boolean {
  switch (field.kind) {
    case 'text':
      return typeof value === 'string' && value.length <= field.max_length;
    case 'name':
      return (
        typeof value === 'string' &&
        value.length <= field.max_length &&
        !CONTROL_CHARACTERS.test(value) &&
        !/[\n\r]/.test(value) &&
        (!field.required || value !== '')
      );
    case 'choice':
      return typeof value === 'string' && field.choices.includes(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'int':
      return fitsWhole(field, value);
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) && value >= field.min && value <= field.max;
    case 'size': {
      const sides = typeof value === 'string' ? SIZE.exec(value) : null;
      return !!sides && [sides[1], sides[2]].every(side => {
        const n = Number(side);
        return n % field.multiple === 0 && n >= field.min_side && n <= field.max_side;
      });
    }
    case 'hash':
      return (field.optional && value === '') || (typeof value === 'string' && HASH.test(value));
    case 'list':
      return (
        Array.isArray(value) &&
        value.length <= field.max_items &&
        value.every(item => fitsSchema(field.item, item)) &&
        (!field.unique || new Set(value.map(item => JSON.stringify(item))).size === value.length)
      );
    case 'record':
      return isObject(value) && Object.entries(field.fields).every(([name, f]) => !(name in value) || fitsSchema(f, value[name]));
    case 'slots':
      return Array.isArray(value) && value.length <= field.count && value.every(slot => fitsSchema(field.item, slot));
    default:
      return true;
  }
}
