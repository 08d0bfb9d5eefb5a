/**
 * zod schemas for a household's memory as operators see it: core-memory blocks and their
 * revisions, archival passages, recall hits, and the query filters of those lists.
 */
import { z } from 'zod';
import { MEMORY_LIMITS } from '../memory/index.js';
import { keysetQuery, rankedQuery, versionQuery } from './pagination.js';
import { fromTime, PG_INT_MAX, storedText, timestamp, toTime, uuid } from './schemas.js';

// The edge checks the memory engine's own limits (MEMORY_LIMITS), so a client gets the field-level
// 400 the OpenAPI document announces; whether a value fits its block's charLimit is the engine's to say.
const {
  blockLabelPattern,
  blockLabelMaxLength,
  charLimitMin,
  charLimitMax,
  blockDescriptionMaxLength,
  passageTextMaxLength,
  tagMaxLength,
  tagsMax,
} = MEMORY_LIMITS;

export const blockLabel = z
  .string()
  .max(blockLabelMaxLength)
  .regex(blockLabelPattern, `must be 1-${blockLabelMaxLength} lowercase letters, digits or "_", starting with a letter`)
  .describe('Block label: lowercase letters, digits and "_", starting with a letter (e.g. routines)');

const blockFields = {
  value: storedText().max(charLimitMax).describe('The text the agent sees; at most charLimit characters'),
  description: storedText().max(blockDescriptionMaxLength).describe('Tells the agent what belongs in this block'),
  charLimit: z.number().int().min(charLimitMin).max(charLimitMax).describe('Most characters the value may hold'),
  readOnly: z.boolean().describe('Whether the agent may edit it (operators always may)'),
  private: z.boolean().describe("Shown only to the owning member's verified calls"),
};

export const blockCreateSchema = z
  .strictObject({
    label: blockLabel,
    value: blockFields.value.optional(),
    description: blockFields.description.optional(),
    charLimit: blockFields.charLimit.optional(),
    readOnly: blockFields.readOnly.optional(),
    private: blockFields.private.optional(),
  })
  .meta({ id: 'BlockCreate' });

export const blockUpdateSchema = z
  .strictObject({
    value: blockFields.value.optional(),
    description: blockFields.description.optional(),
    charLimit: blockFields.charLimit.optional(),
    readOnly: blockFields.readOnly.optional(),
    private: blockFields.private.optional(),
  })
  .refine((value) => Object.keys(value).length > 0, 'send at least one field to change')
  .meta({ id: 'BlockUpdate' });

export const rollbackSchema = z
  .strictObject({ toVersion: z.number().int().min(1).max(PG_INT_MAX).describe('The version whose value to restore') })
  .meta({ id: 'BlockRollback' });

export const blockSchema = z
  .object({
    id: z.uuid(),
    householdId: z
      .uuid()
      .nullable()
      .describe(
        'The household that owns the block; another household for a block attached to this one, null for a standalone block',
      ),
    memberId: z.uuid().nullable().describe('null for a shared block, else the member whose block it is'),
    label: z.string(),
    value: z.string(),
    description: z.string(),
    charLimit: z.number().int(),
    readOnly: z.boolean(),
    private: z.boolean(),
    version: z.number().int().describe('Send it back in If-Match to update'),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Block' });

export const revisionSourceSchema = z.enum(['agent_tool', 'consolidation', 'admin', 'rollback', 'system']);

export const revisionSchema = z
  .object({
    version: z.number().int(),
    value: z.string(),
    diff: z.string().describe('Unified diff against the previous version'),
    source: revisionSourceSchema,
    detail: z.string().nullable().describe('The tool or admin action that wrote it'),
    callId: z.uuid().nullable(),
    memberId: z.uuid().nullable(),
    actor: z.string().nullable().describe('API key id for admin edits'),
    createdAt: timestamp,
  })
  .meta({ id: 'BlockRevision' });

const tag = storedText().trim().min(1).max(tagMaxLength);
const tagList = z
  .string()
  .transform((raw) => raw.split(',').map((part) => part.trim()))
  .pipe(z.array(tag).max(tagsMax))
  .describe('Comma-separated tags; passages carrying any of them');
const searchText = storedText().trim().min(1).max(1000).describe('What to search for');

export const passageCreateSchema = z
  .strictObject({
    text: storedText().trim().min(1).max(passageTextMaxLength).describe('A distilled, self-contained fact'),
    tags: z.array(tag).max(tagsMax).optional(),
    memberId: uuid.optional().describe("Limit the fact to one member's calls; omit for the whole household"),
  })
  .meta({ id: 'PassageCreate' });

export const passageSchema = z
  .object({
    id: z.uuid(),
    householdId: z.uuid(),
    memberId: z.uuid().nullable(),
    text: z.string(),
    tags: z.array(z.string()),
    embeddingModel: z.string(),
    sourceCallId: z.uuid().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Passage' });

export const passageHitSchema = passageSchema
  .extend({ score: z.number().describe('Fused rank score; higher is better') })
  .meta({ id: 'PassageHit' });

export const passageListQuery = z.strictObject({
  ...keysetQuery,
  memberId: uuid.optional().describe("Only this member's passages"),
  tags: tagList.optional(),
  from: fromTime.optional(),
  to: toTime.optional(),
});

export const passageSearchQuery = z.strictObject({
  ...rankedQuery,
  q: searchText,
  memberId: uuid.optional().describe("Search this member's passages and the household's"),
  tags: tagList.optional(),
  from: fromTime.optional(),
  to: toTime.optional(),
});

export const messageRoleSchema = z.enum(['system', 'user', 'assistant', 'tool']);

export const recallQuery = z.strictObject({
  ...rankedQuery,
  q: searchText,
  memberId: uuid.optional().describe("Only this member's calls; omit for the whole household"),
  roles: z
    .string()
    .transform((raw) => raw.split(',').map((part) => part.trim()))
    .pipe(z.array(messageRoleSchema).max(4))
    .optional()
    .describe('Comma-separated roles, e.g. user,assistant'),
  from: fromTime.optional(),
  to: toTime.optional(),
});

export const recallHitSchema = z
  .object({
    id: z.uuid(),
    callId: z.uuid().nullable(),
    memberId: z.uuid().nullable(),
    role: messageRoleSchema,
    content: z.string(),
    createdAt: timestamp,
    score: z.number(),
  })
  .meta({ id: 'RecallHit' });

export const historyQuery = z.strictObject({ ...versionQuery });

export type BlockCreate = z.output<typeof blockCreateSchema>;
export type BlockUpdate = z.output<typeof blockUpdateSchema>;
export type BlockOut = z.infer<typeof blockSchema>;
export type RevisionOut = z.infer<typeof revisionSchema>;
export type PassageCreate = z.output<typeof passageCreateSchema>;
export type PassageOut = z.infer<typeof passageSchema>;
export type PassageHitOut = z.infer<typeof passageHitSchema>;
export type PassageListQuery = z.output<typeof passageListQuery>;
export type PassageSearchQuery = z.output<typeof passageSearchQuery>;
export type RecallQuery = z.output<typeof recallQuery>;
export type RecallHitOut = z.infer<typeof recallHitSchema>;
