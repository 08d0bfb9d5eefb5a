/**
 * zod schemas for a household's memory as operators see it: core-memory blocks and their
 * revisions, archival passages, recall hits, and the query filters of those lists.
 */
import { z } from 'zod';
import { keysetQuery, rankedQuery, versionQuery } from './pagination.js';
import { fromTime, timestamp, toTime } from './schemas.js';

// Lengths, limits and the label rule are the memory engine's to enforce (its ValidationError
// becomes a 400 naming the field); the edge checks types and refuses unknown fields.
export const blockLabel = z
  .string()
  .min(1)
  .max(64)
  .describe('Block label: lowercase letters, digits and "_", starting with a letter (e.g. routines)');

const blockFields = {
  value: z.string().describe('The text the agent sees; at most charLimit characters'),
  description: z.string().describe('Tells the agent what belongs in this block'),
  charLimit: z.number().int().min(1).describe('Most characters the value may hold'),
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
  .strictObject({ toVersion: z.number().int().min(1).describe('The version whose value to restore') })
  .meta({ id: 'BlockRollback' });

export const blockSchema = z
  .object({
    id: z.uuid(),
    householdId: z.uuid(),
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

const tag = z.string().trim().min(1).max(50);
const tagList = z
  .string()
  .transform((raw) => raw.split(',').map((part) => part.trim()))
  .pipe(z.array(tag).max(20))
  .describe('Comma-separated tags; passages carrying any of them');
const searchText = z.string().trim().min(1).max(1000).describe('What to search for');

export const passageCreateSchema = z
  .strictObject({
    text: z.string().trim().min(1).max(10_000).describe('A distilled, self-contained fact'),
    tags: z.array(tag).max(20).optional(),
    memberId: z.uuid().optional().describe("Limit the fact to one member's calls; omit for the whole household"),
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
  memberId: z.uuid().optional().describe("Only this member's passages"),
  tags: tagList.optional(),
  from: fromTime.optional(),
  to: toTime.optional(),
});

export const passageSearchQuery = z.strictObject({
  ...rankedQuery,
  q: searchText,
  memberId: z.uuid().optional().describe("Search this member's passages and the household's"),
  tags: tagList.optional(),
  from: fromTime.optional(),
  to: toTime.optional(),
});

export const messageRoleSchema = z.enum(['system', 'user', 'assistant', 'tool']);

export const recallQuery = z.strictObject({
  ...rankedQuery,
  q: searchText,
  memberId: z.uuid().optional().describe("Only this member's calls; omit for the whole household"),
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
