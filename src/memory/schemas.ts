/**
 * The block model (after Letta's `schemas/block.py`): one zod schema, with the create and
 * update shapes derived from it, and the null-byte rule applied before Postgres sees text.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';

/** Labels are what the model types in tool calls: short, lowercase, no spaces. */
const BLOCK_LABEL_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
/** Largest character limit a block may have; larger blocks belong in archival memory. */
const MAX_BLOCK_CHAR_LIMIT = 20_000;
const MAX_DESCRIPTION_CHARS = 1000;

/** Postgres rejects NUL in text; models and transcripts occasionally produce it. */
export function stripNullBytes(text: string): string {
  return text.replaceAll('\u0000', '');
}

const text = (max?: number) => {
  const base = z.string().transform(stripNullBytes);
  return max === undefined ? base : base.pipe(z.string().max(max));
};

/** A block's fields as operators and the engine set them. */
export const blockSchema = z.object({
  label: z
    .string()
    .regex(BLOCK_LABEL_PATTERN, 'a label is 1-40 lowercase letters, digits or underscores, starting with a letter'),
  value: text(),
  description: text(MAX_DESCRIPTION_CHARS),
  charLimit: z.number().int().min(1).max(MAX_BLOCK_CHAR_LIMIT),
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
