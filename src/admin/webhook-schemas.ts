/** zod schemas for the organization's webhook endpoints and their delivery log. */
import { z } from 'zod';
import { endpointEventTypeSchema, webhookUrlSchema } from '../escalation/index.js';
import { keysetQuery } from './pagination.js';
import { someField, timestamp, uuid } from './schemas.js';

const eventTypes = z
  .array(endpointEventTypeSchema)
  .max(10)
  .refine((types) => new Set(types).size === types.length, 'must not repeat an event type')
  .describe('The events sent to it; empty: every event');

export const endpointCreateSchema = z
  .strictObject({
    url: webhookUrlSchema.max(2000).describe('Where events are POSTed, signed per Standard Webhooks'),
    eventTypes: eventTypes.default([]),
  })
  .meta({ id: 'WebhookEndpointCreate' });

export const endpointUpdateSchema = someField(
  z.strictObject({
    url: webhookUrlSchema.max(2000).optional(),
    eventTypes: eventTypes.optional(),
    enabled: z.boolean().optional().describe('A disabled endpoint gets nothing; its pending deliveries fail'),
  }),
).meta({ id: 'WebhookEndpointUpdate' });

export const endpointSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    eventTypes: z.array(z.string()),
    enabled: z.boolean(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'WebhookEndpoint' });

export const endpointCreatedSchema = endpointSchema
  .extend({
    secret: z.string().describe('The signing secret (`whsec_…`), shown this once: verify `webhook-signature` with it'),
  })
  .meta({ id: 'WebhookEndpointCreated' });

const deliveryStatusSchema = z.enum(['pending', 'succeeded', 'failed']);

export const deliveryListQuery = z.strictObject({
  ...keysetQuery,
  endpointId: uuid.optional().describe('Only this endpoint’s deliveries'),
  status: deliveryStatusSchema.optional(),
});

export const deliverySchema = z
  .object({
    id: z.uuid(),
    endpointId: z.uuid(),
    eventType: z.string(),
    /** The `webhook-id` header: the same on every attempt and replay, for receivers to drop duplicates. */
    messageId: z.string().describe('The `webhook-id` of every attempt'),
    status: deliveryStatusSchema,
    attempts: z.number().int(),
    nextAttemptAt: timestamp.nullable().describe('When the next attempt is due, while pending'),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'WebhookDelivery' });

export const deliveryDetailSchema = deliverySchema
  .extend({
    payload: z.unknown().describe('The body sent: `{ type, timestamp, data }`'),
    log: z.array(
      z.object({
        statusCode: z.number().int().nullable(),
        latencyMs: z.number().int(),
        error: z.string().nullable(),
        createdAt: timestamp,
      }),
    ),
  })
  .meta({ id: 'WebhookDeliveryDetail' });

export type EndpointCreate = z.output<typeof endpointCreateSchema>;
export type EndpointUpdate = z.output<typeof endpointUpdateSchema>;
export type EndpointView = z.infer<typeof endpointSchema>;
export type DeliveryListQuery = z.output<typeof deliveryListQuery>;
export type DeliveryView = z.infer<typeof deliverySchema>;
export type DeliveryDetailView = z.infer<typeof deliveryDetailSchema>;
