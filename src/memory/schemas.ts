/**
 * The block model (after Letta's `schemas/block.py`): one zod schema, with the create and
 * update shapes derived from it, and the null-byte rules applied before Postgres sees text.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import {
  BLOCK_LABEL_PATTERN,
  MAX_BLOCK_CHAR_LIMIT,
  MAX_BLOCK_DESCRIPTION_CHARS,
  MIN_BLOCK_CHAR_LIMIT,
} from './limits.js';

/** Why text with a NUL is refused, for operators and the model alike. */
export const NUL_REFUSAL = 'must not contain the NUL character (\\u0000); remove it and send the text again';

/**
 * Text that is stored as sent. Postgres rejects NUL (\u0000) in text; a value with one is
 * refused rather than stripped, so nobody reads back other text than they wrote.
 */
export function nulFree() {
  return z.string().refine((text) => !text.includes('\u0000'), NUL_REFUSAL);
}

/**
 * Postgres rejects NUL in text; models and transcripts occasionally produce it. Only for what is
 * recorded (a transcript must not lose its turn over one character), never for what is written
 * to memory: that is refused (`nulFree`).
 */
export function stripNullBytes(text: string): string {
  return text.replaceAll('\u0000', '');
}

/** `stripNullBytes` over every string (keys too) of a JSON value; jsonb rejects NUL as text does. */
export function stripNullBytesDeep(value: z.core.util.JSONType): z.core.util.JSONType {
  if (typeof value === 'string') return stripNullBytes(value);
  if (Array.isArray(value)) return value.map(stripNullBytesDeep);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [stripNullBytes(key), stripNullBytesDeep(item)]),
  );
}

const text = (max?: number) => (max === undefined ? nulFree() : nulFree().max(max));

/** A block's fields as operators and the engine set them. */
export const blockSchema = z.object({
  label: z
    .string()
    .regex(BLOCK_LABEL_PATTERN, 'a label is 1-40 lowercase letters, digits or underscores, starting with a letter'),
  value: text(),
  description: text(MAX_BLOCK_DESCRIPTION_CHARS),
  charLimit: z.number().int().min(MIN_BLOCK_CHAR_LIMIT).max(MAX_BLOCK_CHAR_LIMIT),
  readOnly: z.boolean(),
  private: z.boolean(),
});

/** A new block: a label, everything else optional (defaults from the table). */
export const blockCreateSchema = blockSchema.partial().required({ label: true });

/** An update: any field but the label. */
export const blockChangesSchema = blockSchema.omit({ label: true }).partial();
/** The parsed fields of an update. */
export type BlockChangesInput = z.infer<typeof blockChangesSchema>;

/** Parses with `schema`, turning a failure into a `ValidationError` that names each bad field. */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new ValidationError(describeIssues(parsed.error), { details: parsed.error.issues });
}

/** `label: expected string; charLimit: too big` — short enough for a model or an operator. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return `${where}${issue.message.replace(/^Invalid input: /, '')}`;
    })
    .join('; ');
}
