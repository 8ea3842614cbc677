/**
 * The shape of the panel's `schema` trait: each saved field's kind, limits, step, choices and
 * default, as `fooocus_widgets/state.py` declares them (see `checks.py` `describe()`). The page
 * takes every bound and choice list from the trait, so none is written in TypeScript.
 */

export interface TextSchema {
  kind: 'text';
  max_length: number;
}

export interface NameSchema {
  kind: 'name';
  max_length: number;
  /** "" is not allowed. */
  required: boolean;
}

export interface ChoiceSchema {
  kind: 'choice';
  choices: string[];
}

export interface BoolSchema {
  kind: 'bool';
}

export interface IntSchema {
  kind: 'int';
  /** Decimal text when beyond a JS number's exact range (`as_text`). */
  min: number | string;
  max: number | string;
  step: number;
  /** The value travels as decimal text (seeds up to 2**63-1). */
  as_text: boolean;
}

export interface FloatSchema {
  kind: 'float';
  min: number;
  max: number;
  /** The granularity the inputs offer. */
  step: number;
}

export interface SizeSchema {
  kind: 'size';
  min_side: number;
  max_side: number;
  multiple: number;
  /** The sizes offered in the dropdown ("width*height"). */
  choices: string[];
}

export interface HashSchema {
  kind: 'hash';
  optional: boolean;
}

export interface ListSchema {
  kind: 'list';
  max_items: number;
  unique: boolean;
  item: FieldSchema;
}

export interface RecordSchema {
  kind: 'record';
  fields: Record<string, FieldSchema & { default: unknown }>;
}

export interface SlotsSchema {
  kind: 'slots';
  count: number;
  item: RecordSchema;
}

export type FieldSchema =
  | TextSchema
  | NameSchema
  | ChoiceSchema
  | BoolSchema
  | IntSchema
  | FloatSchema
  | SizeSchema
  | HashSchema
  | ListSchema
  | RecordSchema
  | SlotsSchema;

/** The whole trait. */
export interface PanelSchema {
  schema_version: number;
  fields: Record<string, FieldSchema & { default: unknown }>;
}
