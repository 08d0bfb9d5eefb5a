/**
 * zod schemas for what happened: calls with their transcripts and memory edits, API keys,
 * and the audit log of admin writes.
 */
import { z } from 'zod';
import { messageRoleSchema, revisionSourceSchema } from './memory-schemas.js';
import { keysetQuery } from './pagination.js';
import { fromTime, storedText, timestamp, toTime, uuid } from './schemas.js';

export const callStatusSchema = z.enum(['ringing', 'in_progress', 'completed', 'failed']);

export const callListQuery = z.strictObject({
  ...keysetQuery,
  memberId: uuid.optional().describe("Only this member's calls"),
  status: callStatusSchema.optional(),
  from: fromTime.optional().describe('Only calls that started at or after this time (ISO 8601)'),
  to: toTime.optional().describe('Only calls that started before this time (ISO 8601)'),
});

export const callSchema = z
  .object({
    id: z.uuid(),
    householdId: z.uuid(),
    memberId: z.uuid().nullable().describe('null when the caller was not a known member'),
    channel: z.enum(['voice', 'text']),
    fromNumber: z.string().nullable(),
    toNumber: z.string().nullable(),
    callerVerified: z.boolean(),
    status: callStatusSchema,
    startedAt: timestamp,
    endedAt: timestamp.nullable(),
    summary: z.string().nullable().describe('Written after the call by consolidation'),
    consolidatedAt: timestamp.nullable(),
  })
  .meta({ id: 'Call' });

export const messageSchema = z
  .object({
    id: z.uuid(),
    role: messageRoleSchema,
    content: z.string(),
    memberId: z.uuid().nullable(),
    toolName: z.string().nullable(),
    toolArgs: z.unknown().describe('Arguments of a tool call, as the model sent them'),
    toolCallId: z.string().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Message' });

export const memoryEditSchema = z
  .object({
    blockId: z.uuid(),
    label: z.string(),
    memberId: z.uuid().nullable().describe("The block's member; null for a shared block"),
    version: z.number().int(),
    source: revisionSourceSchema,
    detail: z.string().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'MemoryEdit' });

export const callDetailSchema = callSchema
  .extend({
    transcript: z.array(messageSchema).describe('Every turn and tool call, oldest first'),
    toolCalls: z.array(messageSchema).describe('The transcript entries that are tool calls or results'),
    memoryEdits: z.array(memoryEditSchema).describe('Block revisions written during or after this call'),
  })
  .meta({ id: 'CallDetail' });

export const apiKeyCreateSchema = z
  .strictObject({ name: storedText().trim().min(1).max(100).default('default').describe('To tell keys apart') })
  .meta({ id: 'ApiKeyCreate' });

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().describe('The visible start of the key, e.g. hth_k3j5v2mq7x4a'),
    createdAt: timestamp,
    lastUsedAt: timestamp.nullable().describe('Updated at most once a minute'),
    revokedAt: timestamp.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const issuedApiKeySchema = apiKeySchema
  .extend({ key: z.string().describe('The whole key. Shown only in this response; store it now.') })
  .meta({ id: 'IssuedApiKey' });

export const auditQuery = z.strictObject({
  ...keysetQuery,
  resourceType: storedText().min(1).max(50).optional().describe('e.g. household, member, block'),
});

export const auditEventSchema = z
  .object({
    id: z.uuid(),
    actor: z.string().describe('API key id, or "system" for the CLI and seeds'),
    actorPrefix: z.string().nullable().describe('The acting key prefix'),
    action: z.string().describe('e.g. household.create, block.update'),
    resourceType: z.string(),
    resourceId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).describe('Ids and changed field names, never personal data'),
    createdAt: timestamp,
  })
  .meta({ id: 'AuditEvent' });

export type CallListQuery = z.output<typeof callListQuery>;
export type CallOut = z.infer<typeof callSchema>;
export type CallDetailOut = z.infer<typeof callDetailSchema>;
export type MessageOut = z.infer<typeof messageSchema>;
export type ApiKeyOut = z.infer<typeof apiKeySchema>;
export type IssuedApiKeyOut = z.infer<typeof issuedApiKeySchema>;
export type AuditQuery = z.output<typeof auditQuery>;
export type AuditEventOut = z.infer<typeof auditEventSchema>;
