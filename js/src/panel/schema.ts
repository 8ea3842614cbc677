/**
 * Typed readers of the `schema` trait: every bound, step, choice list and default the panel
 * shows comes from here, so none is written in TypeScript. Each reader checks the shape it
 * expects and throws a `SchemaError` naming the field when the kernel sent something else.
 */

import type {
  FieldSchema,
  FloatSchema,
  IntSchema,
  PanelSchema,
  RecordSchema,
  SlotsSchema
} from '../common/schema';
import type { LoraSlotFields, StateKey } from '../common/state-fields';

/** The kernel's schema is not what this front end understands. */
export class SchemaError extends Error {
  constructor(where: string, problem: string) {
    super(`The panel's schema from the kernel does not fit this front end: ${where} ${problem}.`);
    this.name = 'SchemaError';
  }
}

/** Bounds and step of a number input (and its range slider). */
export interface NumberBounds {
  min: number;
  max: number;
  step: number;
  /** Only whole numbers are allowed (an `int` field). */
  whole: boolean;
}

/** Bounds of a whole number that travels as decimal text (the seed). */
export interface WholeTextBounds {
  min: bigint;
  max: bigint;
}

/** The LoRA slots: how many, the weight's bounds and what a fresh slot holds. */
export interface LoraSlotsSchema {
  count: number;
  weight: NumberBounds;
  defaultSlot: LoraSlotFields;
}

type Kind = FieldSchema['kind'];
type OfKind<K extends Kind> = Extract<FieldSchema, { kind: K }>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && !Array.isArray(value);

/** The trait as a `PanelSchema` (checked down to `fields`). */
export function readSchema(value: unknown): PanelSchema {
  if (!isObject(value)) throw new SchemaError('the schema', 'is missing (is the kernel side older than this page?)');
  if (typeof value.schema_version !== 'number') throw new SchemaError('schema_version', 'is not a number');
  if (!isObject(value.fields)) throw new SchemaError('fields', 'is not an object');
  // the members each reader needs are checked where they are read
  return value as unknown as PanelSchema;
}

function fieldOf(schema: PanelSchema, name: string): FieldSchema & { default: unknown } {
  const field = schema.fields[name];
  if (!isObject(field)) throw new SchemaError(`fields.${name}`, 'is missing');
  return field;
}

function expectKind<K extends Kind>(field: FieldSchema, kinds: readonly K[], where: string): OfKind<K> {
  if (!(kinds as readonly Kind[]).includes(field.kind)) {
    throw new SchemaError(where, `is a "${String(field.kind)}" field, not ${kinds.map(k => `"${k}"`).join(' or ')}`);
  }
  return field as OfKind<K>;
}

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function boundsOf(field: IntSchema | FloatSchema, where: string): NumberBounds {
  const { min, max, step } = field;
  if (!finite(min) || !finite(max) || min > max) throw new SchemaError(where, 'has no numeric min ≤ max');
  if (!finite(step) || step <= 0) throw new SchemaError(where, 'has no positive step');
  return { min, max, step, whole: field.kind === 'int' };
}

/** Bounds and step of a number field (`int` within a JS number's range, or `float`). */
export function numberBoundsOf(field: FieldSchema, where: string): NumberBounds {
  const number = expectKind(field, ['int', 'float'], where);
  if (number.kind === 'int' && number.as_text) throw new SchemaError(where, 'travels as text, not as a number');
  return boundsOf(number, where);
}

/** Bounds and step of a top-level number field (image number, guidance scale, CLIP skip…). */
export function numberField(schema: PanelSchema, name: StateKey): NumberBounds {
  return numberBoundsOf(fieldOf(schema, name), `fields.${name}`);
}

/** Bounds of a whole number that travels as decimal text (the seed). */
export function wholeTextField(schema: PanelSchema, name: StateKey): WholeTextBounds {
  const where = `fields.${name}`;
  const field = expectKind(fieldOf(schema, name), ['int'], where);
  const asBig = (value: unknown, bound: string): bigint => {
    if (!(finite(value) && Number.isInteger(value)) && !(typeof value === 'string' && /^-?\d+$/.test(value))) {
      throw new SchemaError(`${where}.${bound}`, 'is not a whole number');
    }
    return BigInt(value);
  };
  const bounds = { min: asBig(field.min, 'min'), max: asBig(field.max, 'max') };
  if (bounds.min > bounds.max) throw new SchemaError(where, 'has min > max');
  return bounds;
}

/** Does this field's value travel as decimal text (seeds beyond a JS number's range)? */
export function travelsAsText(schema: PanelSchema, name: StateKey): boolean {
  const field = schema.fields[name];
  return !!field && field.kind === 'int' && field.as_text;
}

/** The values a `choice` field (or the offered sizes of a `size` field) may take, in order. */
export function choicesOf(field: FieldSchema, where: string): readonly string[] {
  const listed = expectKind(field, ['choice', 'size'], where);
  const { choices } = listed;
  if (!Array.isArray(choices) || !choices.length || !choices.every(c => typeof c === 'string')) {
    throw new SchemaError(`${where}.choices`, 'is not a list of text');
  }
  return choices;
}

/** The values a top-level choice field offers (performance, aspect ratio, sampler…). */
export function choiceField(schema: PanelSchema, name: StateKey): readonly string[] {
  return choicesOf(fieldOf(schema, name), `fields.${name}`);
}

/** The most characters a text field holds (prompts). */
export function textMaxLength(schema: PanelSchema, name: StateKey): number {
  const where = `fields.${name}`;
  const field = expectKind(fieldOf(schema, name), ['text', 'name'], where);
  if (!finite(field.max_length) || field.max_length < 0) throw new SchemaError(`${where}.max_length`, 'is not a length');
  return field.max_length;
}

function recordDefaults(item: RecordSchema, where: string): Record<string, unknown> {
  if (!isObject(item.fields)) throw new SchemaError(`${where}.fields`, 'is not an object');
  return Object.fromEntries(Object.entries(item.fields).map(([name, field]) => [name, field.default]));
}

/** The LoRA slots: count, weight bounds and the fresh slot, from `fields.loras`. */
export function loraSlotsField(schema: PanelSchema): LoraSlotsSchema {
  const where = 'fields.loras';
  const slots: SlotsSchema = expectKind(fieldOf(schema, 'loras'), ['slots'], where);
  if (!Number.isInteger(slots.count) || slots.count < 0) throw new SchemaError(`${where}.count`, 'is not a count');
  const item = expectKind(slots.item, ['record'], `${where}.item`);
  const fresh = recordDefaults(item, `${where}.item`);
  const { enabled, file, weight } = fresh;
  if (typeof enabled !== 'boolean' || typeof file !== 'string' || !finite(weight)) {
    throw new SchemaError(`${where}.item`, 'has no boolean "enabled", text "file" and number "weight" defaults');
  }
  const weightField = item.fields.weight;
  if (!weightField) throw new SchemaError(`${where}.item.fields.weight`, 'is missing');
  return {
    count: slots.count,
    weight: numberBoundsOf(weightField, `${where}.item.fields.weight`),
    defaultSlot: { ...fresh, enabled, file, weight }
  };
}
