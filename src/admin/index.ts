/**
 * Administration: the admin REST API under `/v1` (bearer API keys, organization-scoped data
 * access, cursor pagination, audit, OpenAPI at `/v1/openapi.json`, reference at `/docs`),
 * organizations and API keys for the CLI, and the demo seed.
 *
 * @example
 * // Mount another /v1 route with the same auth, tenancy, rate limit, validation and OpenAPI entry:
 * const sendMessage = defineRoute({
 *   method: 'post', path: '/v1/households/:householdId/messages', tag: 'Agent', summary: 'Send a text message',
 *   params: z.object({ householdId: uuid }), body: messageSchema, // uuid: schemas.ts, read in lower case
 *   success: { status: 200, description: 'The reply', schema: replySchema },
 *   handler: async ({ scope, params, body }) => {
 *     const household = await scope.households.get(params); // 404 for another organization's household
 *     return { body: await agent.reply({ organizationId: scope.principal.organizationId, household, body }) };
 *   },
 * });
 * createServer({ config, logger, db, memory, adminRoutes: [sendMessage] });
 */
export { createApiKey, type IssuedApiKey, parseApiKey, verifyApiKey } from './api-keys.js';
export { createOrganization } from './organizations.js';
export { type AdminRoute, defineRoute, type Reply, type RouteContext } from './route.js';
export { type AdminApi, type AdminRouterOptions, createAdminRouter } from './router.js';
export { type Principal, type Scope, scopedDb, systemPrincipal } from './scope/index.js';
export { DEMO_ORGANIZATION_NAME, type DemoSeed, describeDemo, seedDemo } from './seed.js';
