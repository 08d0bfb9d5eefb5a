/**
 * The admin API as one express router: every route gets bearer-key auth (with its limit on failed
 * authentication), the per-key rate limit, the JSON body, validation and the organization-scoped
 * data layer, in that order; the OpenAPI document and the reference page are public.
 *
 * @example
 * const admin = createAdminRouter({ prisma: db.prisma, memory, bodyLimitBytes: 1_048_576, rateLimitPerMinute: 600 });
 * app.use(admin.router);
 */
import express from 'express';
import type { TextChannel } from '../calls/index.js';
import type { PrismaClient } from '../db/index.js';
import { jsonBody } from '../http.js';
import type { MemoryEngine } from '../memory/index.js';
import { principalOf, requireApiKey } from './auth.js';
import { renderDocsPage } from './docs.js';
import { buildOpenApiDocument, DOCS_PATH, OPENAPI_PATH, type OpenApiDocument } from './openapi.js';
import { limitFailedAuth, rateLimitPerKey } from './rate-limit.js';
import type { AdminRoute } from './route.js';
import { archiveRoutes } from './routes/archive.js';
import { blockRoutes } from './routes/blocks.js';
import { conversationRoutes } from './routes/conversations.js';
import { escalationRoutes } from './routes/escalations.js';
import { householdRoutes } from './routes/households.js';
import { organizationRoutes } from './routes/organization.js';
import { probeRoutes } from './routes/probes.js';
import { rosterRoutes } from './routes/roster.js';
import { webhookRoutes } from './routes/webhooks.js';
import { type Scope, type ScopeOptions, scopedDb } from './scope/index.js';

/** Every route the admin API serves itself. */
const ADMIN_ROUTES: readonly AdminRoute[] = [
  ...householdRoutes,
  ...blockRoutes,
  ...archiveRoutes,
  ...organizationRoutes,
  ...rosterRoutes,
  ...escalationRoutes,
  ...probeRoutes,
  ...webhookRoutes,
];

const DEFAULT_AUTH_FAILURES_PER_MINUTE = 30;

export interface AdminRouterOptions {
  prisma: PrismaClient;
  memory: MemoryEngine;
  /** Largest JSON body accepted, read only once the request is authenticated. */
  bodyLimitBytes: number;
  /** Requests per minute per API key. */
  rateLimitPerMinute: number;
  /** Failed authentications per minute, per client address and per key prefix, before failures get 429 (default 30). */
  authFailuresPerMinute?: number;
  /** The text channel behind `POST /v1/households/:householdId/messages`; without it those routes are not served. */
  conversations?: TextChannel;
  /** The escalation desk: queues the webhooks admin changes write, replays deliveries, seals secrets. */
  escalation?: ScopeOptions['escalation'];
  /** Memory health: runs probes on demand. */
  health?: ScopeOptions['health'];
}

/** What every API on Hearth's keys shares: authentication, the per-key limit, the body, the scope. */
export interface ApiAccess {
  /** Middleware, in order: the bearer key (with its limit on failed attempts), the per-key rate limit, the JSON body. */
  readonly guard: express.RequestHandler[];
  /** The organization-scoped data layer of an authenticated request. */
  scopeOf(req: express.Request): Scope;
}

export interface AdminApi {
  readonly router: express.Router;
  /** The same keys, limits and tenancy for another API (the Letta-compatible one). */
  readonly access: ApiAccess;
  /** Built on first use: it costs a quarter of a second that start-up need not pay. */
  readonly document: OpenApiDocument;
}

/** Builds the router (its OpenAPI document when first asked for); a route defined twice is a start-up error. */
export function createAdminRouter(options: AdminRouterOptions): AdminApi {
  const routes = [...ADMIN_ROUTES, ...(options.conversations ? conversationRoutes(options.conversations) : [])];
  const seen = new Set<string>();
  for (const route of routes) {
    const key = `${route.method.toUpperCase()} ${route.path}`;
    if (seen.has(key)) throw new Error(`Admin route ${key} is defined twice`);
    seen.add(key);
  }

  let document: OpenApiDocument | undefined;
  let docsPage: string | undefined;
  const documented = () => {
    document ??= buildOpenApiDocument({ routes });
    return document;
  };
  const router = express.Router();
  router.get(OPENAPI_PATH, (_req, res) => {
    res.json(documented());
  });
  router.get(DOCS_PATH, (_req, res) => {
    docsPage ??= renderDocsPage(documented());
    res.type('html').send(docsPage);
  });

  const access = apiAccess(options);
  for (const route of routes) {
    router[route.method](route.path, ...access.guard, async function adminRoute(req, res) {
      const reply = await route.run({ req, scope: access.scopeOf(req) });
      // Admin responses carry household data: never cache them in between.
      res.setHeader('Cache-Control', 'no-store');
      if (reply.etag !== undefined) res.setHeader('ETag', `"${reply.etag}"`);
      res.status(reply.status ?? 200);
      if (reply.body === undefined) res.end();
      else res.json(reply.body);
    });
  }
  return {
    router,
    access,
    get document() {
      return documented();
    },
  };
}

function apiAccess(options: AdminRouterOptions): ApiAccess {
  const { prisma, memory } = options;
  const failures = limitFailedAuth({
    failuresPerMinute: options.authFailuresPerMinute ?? DEFAULT_AUTH_FAILURES_PER_MINUTE,
  });
  return {
    // The body is read after authentication: a body nobody is allowed to send is never parsed.
    guard: [
      requireApiKey({ prisma, failures }),
      rateLimitPerKey({ limitPerMinute: options.rateLimitPerMinute }),
      ...jsonBody(options.bodyLimitBytes),
    ],
    scopeOf: (req) =>
      scopedDb({
        prisma,
        memory,
        principal: principalOf(req),
        escalation: options.escalation,
        health: options.health,
      }),
  };
}
