/** Routes: the organization's phone lines, API keys and audit log. */
import { z } from 'zod';
import {
  apiKeyCreateSchema,
  apiKeySchema,
  auditEventSchema,
  auditQuery,
  issuedApiKeySchema,
} from '../activity-schemas.js';
import { MAX_LIVE_API_KEYS } from '../api-keys.js';
import { keysetQuery, pageOf } from '../pagination.js';
import { type AdminRoute, defineRoute } from '../route.js';
import { phoneLineCreateSchema, phoneLineSchema, phoneLineUpdateSchema } from '../schemas.js';
import { apiKeyParams, phoneLineParams } from './params.js';

const PHONE_LINES = '/v1/phone-lines';
const API_KEYS = '/v1/api-keys';
const pageQuery = z.strictObject(keysetQuery);

/** Phone line, API key and audit routes. */
export const organizationRoutes: AdminRoute[] = [
  defineRoute({
    method: 'get',
    path: PHONE_LINES,
    tag: 'Phone lines',
    summary: 'List phone lines',
    query: pageQuery,
    success: { status: 200, description: 'A page of phone lines, oldest first', schema: pageOf(phoneLineSchema) },
    handler: async ({ scope, query }) => ({ body: await scope.phoneLines.list(query) }),
  }),
  defineRoute({
    method: 'post',
    path: PHONE_LINES,
    tag: 'Phone lines',
    summary: 'Register a phone line',
    description: 'A Twilio number of yours, routed to one household or (without householdId) to a choice.',
    body: phoneLineCreateSchema,
    success: { status: 201, description: 'The new phone line', schema: phoneLineSchema },
    handler: async ({ scope, body }) => ({ status: 201, body: await scope.phoneLines.create({ phoneLine: body }) }),
  }),
  defineRoute({
    method: 'get',
    path: `${PHONE_LINES}/:phoneLineId`,
    tag: 'Phone lines',
    summary: 'Get a phone line',
    params: phoneLineParams,
    success: { status: 200, description: 'The phone line', schema: phoneLineSchema },
    handler: async ({ scope, params }) => ({ body: await scope.phoneLines.get(params) }),
  }),
  defineRoute({
    method: 'patch',
    path: `${PHONE_LINES}/:phoneLineId`,
    tag: 'Phone lines',
    summary: 'Re-route or relabel a phone line',
    params: phoneLineParams,
    body: phoneLineUpdateSchema,
    success: { status: 200, description: 'The updated phone line', schema: phoneLineSchema },
    handler: async ({ scope, params, body }) => ({ body: await scope.phoneLines.update({ ...params, changes: body }) }),
  }),
  defineRoute({
    method: 'delete',
    path: `${PHONE_LINES}/:phoneLineId`,
    tag: 'Phone lines',
    summary: 'Remove a phone line',
    params: phoneLineParams,
    success: { status: 204, description: 'Removed' },
    handler: async ({ scope, params }) => {
      await scope.phoneLines.delete(params);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'get',
    path: API_KEYS,
    tag: 'API keys',
    summary: 'List API keys',
    description: 'Prefixes, names and usage; never the keys themselves.',
    query: pageQuery,
    success: { status: 200, description: 'A page of keys, oldest first', schema: pageOf(apiKeySchema) },
    handler: async ({ scope, query }) => ({ body: await scope.apiKeys.list(query) }),
  }),
  defineRoute({
    method: 'post',
    path: API_KEYS,
    tag: 'API keys',
    summary: 'Create an API key',
    description:
      'The response carries the whole key, once. Only a hash is stored. ' +
      `An organization holds at most ${MAX_LIVE_API_KEYS} unrevoked keys: beyond that, 409 until one is revoked.`,
    body: apiKeyCreateSchema,
    success: { status: 201, description: 'The new key, shown once', schema: issuedApiKeySchema },
    handler: async ({ scope, body }) => ({ status: 201, body: await scope.apiKeys.create(body) }),
  }),
  defineRoute({
    method: 'delete',
    path: `${API_KEYS}/:keyId`,
    tag: 'API keys',
    summary: 'Revoke an API key',
    description: 'Takes effect on the next request. The key stays listed, with `revokedAt`.',
    params: apiKeyParams,
    success: { status: 200, description: 'The revoked key', schema: apiKeySchema },
    handler: async ({ scope, params }) => ({ body: await scope.apiKeys.revoke(params) }),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/audit',
    tag: 'Audit',
    summary: 'Read the audit log',
    description: 'Every admin write: who (key id and prefix), what (action and resource) and when; newest first.',
    query: auditQuery,
    success: { status: 200, description: 'A page of audit events, newest first', schema: pageOf(auditEventSchema) },
    handler: async ({ scope, query }) => ({ body: await scope.audit.list(query) }),
  }),
];
