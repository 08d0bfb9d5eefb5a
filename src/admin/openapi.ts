/**
 * The OpenAPI 3.1 document, generated from the routes' own zod schemas (no hand-written copy),
 * plus the few public operational paths the server serves beside the admin API.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { MEMORY_LIMITS } from '../memory/index.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './pagination.js';
import type { AdminRoute } from './route.js';

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

export const OPENAPI_PATH = '/v1/openapi.json';
export const DOCS_PATH = '/docs';

const API_VERSION = '1.0.0';
const DESCRIPTION = [
  "Hearth's admin API: households, their members and phone lines, what the agent remembers about them,",
  'and their calls. Authenticate with `Authorization: Bearer <API key>`; each key belongs to one',
  `organization and sees only its data. Lists take \`limit\` (1–${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE};`,
  `searches at most ${MEMORY_LIMITS.searchLimitMax}, block history at most ${MEMORY_LIMITS.historyLimitMax})`,
  "and `cursor` (the previous page's `nextCursor`). Errors are",
  '`{ "error": { "code", "message", "details" } }`.',
].join(' ');

function registerOperationalPaths(registry: OpenAPIRegistry): void {
  const status = z.object({ status: z.string() });
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    tags: ['Operations'],
    summary: 'Liveness',
    security: [],
    responses: { 200: { description: 'The process is up', content: { 'application/json': { schema: status } } } },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    tags: ['Operations'],
    summary: 'Readiness',
    security: [],
    responses: {
      200: { description: 'Migrated and the database answers', content: { 'application/json': { schema: status } } },
      503: {
        description: 'Not ready, with the reason',
        content: { 'application/json': { schema: status.extend({ reason: z.string() }) } },
      },
    },
  });
  registry.registerPath({
    method: 'get',
    path: OPENAPI_PATH,
    tags: ['Operations'],
    summary: 'This OpenAPI document',
    security: [],
    responses: {
      200: { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: z.object({}) } } },
    },
  });
  registry.registerPath({
    method: 'get',
    path: DOCS_PATH,
    tags: ['Operations'],
    summary: 'Readable API reference',
    security: [],
    responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: z.string() } } } },
  });
}

/** Builds the document for `routes` (the admin routes and any mounted beside them). */
export function buildOpenApiDocument(input: { routes: readonly AdminRoute[] }): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key, `hth_<prefix>_<secret>`, from `hearth apikey create` or POST /v1/api-keys',
  });
  for (const route of input.routes) registry.registerPath(route.openapi);
  registerOperationalPaths(registry);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Hearth admin API', version: API_VERSION, description: DESCRIPTION },
    security: [{ apiKey: [] }],
  });
}
