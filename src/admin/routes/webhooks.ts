/** Routes: the organization's webhook endpoints, and the delivery log with replay. */
import { z } from 'zod';
import { keysetQuery, pageOf } from '../pagination.js';
import { type AdminRoute, defineRoute } from '../route.js';
import { uuid } from '../schemas.js';
import {
  deliveryDetailSchema,
  deliveryListQuery,
  deliverySchema,
  endpointCreatedSchema,
  endpointCreateSchema,
  endpointSchema,
  endpointUpdateSchema,
} from '../webhook-schemas.js';

const ENDPOINTS = '/v1/webhook-endpoints';
const DELIVERIES = '/v1/webhook-deliveries';
const endpointParams = z.object({ endpointId: uuid.describe('Webhook endpoint id') });
const deliveryParams = z.object({ deliveryId: uuid.describe('Webhook delivery id') });

export const webhookRoutes: AdminRoute[] = [
  defineRoute({
    method: 'get',
    path: ENDPOINTS,
    tag: 'Webhooks',
    summary: 'List webhook endpoints',
    query: z.strictObject(keysetQuery),
    success: { status: 200, description: 'A page of endpoints, oldest first', schema: pageOf(endpointSchema) },
    handler: async ({ scope, query }) => ({ body: await scope.webhooks.listEndpoints(query) }),
  }),
  defineRoute({
    method: 'post',
    path: ENDPOINTS,
    tag: 'Webhooks',
    summary: 'Add a webhook endpoint',
    description:
      'Escalation events (`escalation.created`, `.acknowledged`, `.level_exhausted`, `.resolved`) and ' +
      '`memory.probe_failed` are POSTed to it, ' +
      'signed per Standard Webhooks with the secret in this response, which is not shown again.',
    body: endpointCreateSchema,
    success: { status: 201, description: 'The endpoint and its signing secret', schema: endpointCreatedSchema },
    handler: async ({ scope, body }) => ({
      status: 201,
      body: await scope.webhooks.createEndpoint({ endpoint: body }),
    }),
  }),
  defineRoute({
    method: 'patch',
    path: `${ENDPOINTS}/:endpointId`,
    tag: 'Webhooks',
    summary: 'Change a webhook endpoint',
    params: endpointParams,
    body: endpointUpdateSchema,
    success: { status: 200, description: 'The endpoint', schema: endpointSchema },
    handler: async ({ scope, params, body }) => ({
      body: await scope.webhooks.updateEndpoint({ ...params, changes: body }),
    }),
  }),
  defineRoute({
    method: 'delete',
    path: `${ENDPOINTS}/:endpointId`,
    tag: 'Webhooks',
    summary: 'Remove a webhook endpoint and its delivery log',
    params: endpointParams,
    success: { status: 204, description: 'Removed' },
    handler: async ({ scope, params }) => {
      await scope.webhooks.deleteEndpoint(params);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'get',
    path: DELIVERIES,
    tag: 'Webhooks',
    summary: 'List webhook deliveries',
    query: deliveryListQuery,
    success: { status: 200, description: 'A page of deliveries, newest first', schema: pageOf(deliverySchema) },
    handler: async ({ scope, query }) => ({ body: await scope.webhooks.listDeliveries(query) }),
  }),
  defineRoute({
    method: 'get',
    path: `${DELIVERIES}/:deliveryId`,
    tag: 'Webhooks',
    summary: 'Get a delivery with every attempt (status, latency, error)',
    params: deliveryParams,
    success: { status: 200, description: 'The delivery', schema: deliveryDetailSchema },
    handler: async ({ scope, params }) => ({ body: await scope.webhooks.getDelivery(params) }),
  }),
  defineRoute({
    method: 'post',
    path: `${DELIVERIES}/:deliveryId/replay`,
    tag: 'Webhooks',
    summary: 'Send a delivery again',
    description:
      'Sends it now with the same `webhook-id` (receivers drop what they have seen), then retries on the usual ' +
      'schedule if it fails. 409 while it is still pending.',
    params: deliveryParams,
    success: { status: 200, description: 'The delivery, pending again', schema: deliverySchema },
    handler: async ({ scope, params }) => ({ body: await scope.webhooks.replayDelivery(params) }),
  }),
];
