/**
 * Administration: the admin REST API under `/v1` (bearer API keys, organization-scoped data
 * access, cursor pagination, audit, OpenAPI at `/v1/openapi.json`, reference at `/docs`),
 * organizations and API keys for the CLI, and the demo seed.
 *
 * @example
 * // Every /v1 route, the text channel's among them, with auth, tenancy, rate limits and OpenAPI:
 * const admin = createAdminRouter({ prisma: db.prisma, memory, bodyLimitBytes: 1_048_576, rateLimitPerMinute: 600, conversations });
 * app.use(admin.router);
 */
export { createApiKey, type IssuedApiKey, parseApiKey, verifyApiKey } from './api-keys.js';
export { createOrganization } from './organizations.js';
export { type AdminApi, type AdminRouterOptions, type ApiAccess, createAdminRouter } from './router.js';
export { type Principal, type Scope, scopedDb, systemPrincipal } from './scope/index.js';
export { DEMO_ORGANIZATION_NAME, type DemoSeed, describeDemo, seedDemo } from './seed.js';
