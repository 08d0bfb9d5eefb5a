/** zod schemas for escalations as operators see them: the episode, its acknowledgements and pages. */
import { z } from 'zod';
import { keysetQuery } from './pagination.js';
import { storedText, timestamp, uuid } from './schemas.js';

const escalationStatusSchema = z.enum(['open', 'acknowledged', 'resolved', 'exhausted']);

export const escalationListQuery = z.strictObject({
  ...keysetQuery,
  status: escalationStatusSchema.optional(),
  householdId: uuid.optional().describe('Only this household’s escalations'),
});

export const escalationSchema = z
  .object({
    id: z.uuid(),
    householdId: z.uuid(),
    callId: z.uuid().nullable(),
    policyId: z.uuid().nullable(),
    severity: z.enum(['low', 'medium', 'high', 'critical']),
    reason: z.string(),
    summary: z.string().nullable(),
    status: escalationStatusSchema,
    level: z.number().int().describe('The policy level paged last (0: none yet)'),
    acknowledgedBy: z.string().nullable(),
    acknowledgedAt: timestamp.nullable(),
    outcome: z.string().nullable(),
    instructions: z
      .string()
      .nullable()
      .describe('The responder’s instructions for next time; in the household’s context'),
    resolvedAt: timestamp.nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Escalation' });

export const escalationAckSchema = z
  .object({
    via: z.enum(['link', 'admin', 'sms', 'voice']),
    by: z.string(),
    first: z.boolean().describe('True for the acknowledgement that stopped the paging'),
    createdAt: timestamp,
  })
  .meta({ id: 'EscalationAck' });

export const pageOutSchema = z
  .object({
    id: z.uuid(),
    staffId: z.uuid().nullable(),
    level: z.number().int(),
    channel: z.enum(['sms', 'voice', 'webhook']),
    status: z.enum(['queued', 'sent', 'delivered', 'failed', 'acknowledged', 'cancelled']),
    providerSid: z.string().nullable(),
    error: z.string().nullable(),
    errorCode: z.number().int().nullable(),
    attempts: z.number().int(),
    createdAt: timestamp,
  })
  .meta({ id: 'Page' });

export const escalationDetailSchema = escalationSchema
  .extend({ acks: z.array(escalationAckSchema), pages: z.array(pageOutSchema) })
  .meta({ id: 'EscalationDetail' });

export const ackOutSchema = z
  .object({ first: z.boolean().describe('False when someone acknowledged first'), escalation: escalationSchema })
  .meta({ id: 'EscalationAckResult' });

const instructions = storedText()
  .trim()
  .min(1)
  .max(2000)
  .optional()
  .describe('What to do next time, e.g. "if the breathing worsens again, call 999 and then me"');

export const resolveBodySchema = z
  .strictObject({ outcome: storedText().trim().min(1).max(2000).describe('How it ended'), instructions })
  .meta({ id: 'EscalationResolve' });

/**
 * With an admin key, the body is optional; without one, `staffId` and `token` come from the
 * acknowledgement link of a page, and acknowledge as the person it was sent to.
 */
export const ackBodySchema = z
  .strictObject({
    instructions,
    staffId: uuid.optional().describe('From the page’s link: who it was sent to (with `token`, no API key)'),
    token: z.string().min(1).max(200).optional().describe('From the page’s link: its signed token'),
  })
  .refine((body) => (body.staffId === undefined) === (body.token === undefined), {
    message: 'give staffId and token together (from the page’s link), or neither with an API key',
    path: ['token'],
  })
  .meta({ id: 'EscalationAck' });
export type AckBody = z.output<typeof ackBodySchema>;

export type EscalationListQuery = z.output<typeof escalationListQuery>;
export type EscalationOut = z.infer<typeof escalationSchema>;
export type EscalationDetailOut = z.infer<typeof escalationDetailSchema>;
export type ResolveBody = z.output<typeof resolveBodySchema>;
