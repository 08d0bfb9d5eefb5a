/**
 * The Letta-compatible API: the routes `@letta-ai/letta-client` calls, on Hearth's API keys and
 * tenancy, translated onto households, members, blocks, recall and archival memory. Every route
 * validates its input with the schemas in `schemas.ts` and answers in Letta's shapes; errors are
 * `{ "detail": … }`.
 */
import express from 'express';
import { z } from 'zod';
import type { ApiAccess, Scope } from '../admin/index.js';
import { storedText } from '../admin/schemas.js';
import type { TextChannel } from '../calls/index.js';
import type { PrismaClient } from '../db/index.js';
import { ConflictError, NotFoundError, NotImplementedError, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type AgentDeps, blockFields, HUMAN, LettaAgents, lettaBlock } from './agents.js';
import { LettaArchival } from './archival.js';
import { identityCreate, identityListQuery, LettaIdentities } from './identities.js';
import { LettaMessages, textOf } from './messages.js';
import {
  agentBlockListQuery,
  agentCreate,
  agentListQuery,
  agentParams,
  agentToolListQuery,
  agentUpdate,
  blockChanges,
  blockInput,
  blockListQuery,
  includeQuery,
  messageCreate,
  messageListQuery,
  passageCreate,
  passageListQuery,
  passageSearchQuery,
  toolListQuery,
} from './schemas.js';
import { ToolCatalog } from './tools.js';
import { idOf, lettaErrors, lettaId, lettaRoute, pageInMemory } from './wire.js';

export interface LettaRouterOptions {
  prisma: PrismaClient;
  /** The admin API's keys, limits and organization scope. */
  access: ApiAccess;
  /** Messages run as text conversations. */
  conversations: TextChannel;
  logger: Logger;
  embedding: AgentDeps['embedding'];
  defaultModel: string;
  contextWindow: number;
}

/** What Letta has and Hearth does not, with what to do instead. */
const UNSUPPORTED: readonly { paths: string[]; feature: string }[] = [
  { paths: ['/v1/templates', '/v1/agents/:agentId/template'], feature: 'Templates' },
  {
    paths: [
      '/v1/folders',
      '/v1/sources',
      '/v1/agents/:agentId/folders',
      '/v1/agents/:agentId/sources',
      '/v1/agents/:agentId/files',
    ],
    feature: 'Folders, sources and files',
  },
  { paths: ['/v1/runs', '/v1/jobs', '/v1/agents/:agentId/runs'], feature: 'Runs and background jobs' },
  { paths: ['/v1/groups', '/v1/agents/:agentId/groups'], feature: 'Groups and sleep-time agents' },
  { paths: ['/v1/messages/batches', '/v1/batches'], feature: 'Batches' },
  {
    paths: ['/v1/sandbox-config', '/v1/providers', '/v1/models', '/v1/embeddings'],
    feature: 'Sandboxes, providers and model lists',
  },
];

/** Path prefixes the Letta API answers behind an API key; an unknown route under them gets Letta's 404. */
const LETTA_PREFIXES = ['/v1/agents', '/v1/blocks', '/v1/tools', '/v1/identities'];

const blockParams = z.strictObject({ blockId: idOf('block') });
const agentBlockParams = agentParams.extend({ label: storedText().max(100) });
const agentBlockIdParams = agentParams.extend({ blockId: idOf('block') });
const passageParams = agentParams.extend({ passageId: idOf('passage') });
const toolParams = z.strictObject({ toolId: idOf('tool') });
const agentToolParams = agentParams.extend({ toolId: idOf('tool') });
const identityParams = agentParams.extend({ identityId: idOf('identity') });
const identityIdParams = z.strictObject({ identityId: idOf('identity') });

/** The router; mount it next to the admin API, before the catch-all 404. */
export function createLettaRouter(options: LettaRouterOptions): express.Router {
  const { prisma, access, conversations, logger } = options;
  const catalog = new ToolCatalog(conversations.tools);
  const deps: AgentDeps = { ...options, catalog };
  const messages = new LettaMessages({ prisma, conversations, catalog, logger });
  const scopeOf = (req: express.Request): Scope => access.scopeOf(req);
  const agents = (req: express.Request) => new LettaAgents(deps, scopeOf(req));
  const archival = (req: express.Request) => new LettaArchival(deps, scopeOf(req));

  const router = express.Router();
  // Unauthenticated, as on Letta's server: a load balancer's check.
  router.get('/v1/health', lettaRoute({ handler: async () => ({ version: 'hearth', status: 'ok' }) }));
  router.use(LETTA_PREFIXES, ...access.guard);

  // ---------------------------------------------------------------- agents
  router.post('/v1/agents', lettaRoute({ body: agentCreate, handler: ({ req, body }) => agents(req).create(body) }));
  router.get(
    '/v1/agents',
    lettaRoute({
      query: agentListQuery,
      handler: ({ req, query }) =>
        agents(req).list({
          ...query,
          ...(query.match_all_tags === undefined ? {} : { matchAllTags: query.match_all_tags }),
        }),
    }),
  );
  router.get(
    '/v1/agents/:agentId',
    lettaRoute({
      params: agentParams,
      query: includeQuery,
      handler: ({ req, params }) => agents(req).get(params.agentId),
    }),
  );
  router.patch(
    '/v1/agents/:agentId',
    lettaRoute({
      params: agentParams,
      body: agentUpdate,
      handler: ({ req, params, body }) => agents(req).update(params.agentId, body),
    }),
  );
  router.delete(
    '/v1/agents/:agentId',
    lettaRoute({ params: agentParams, handler: ({ req, params }) => agents(req).delete(params.agentId) }),
  );

  // ---------------------------------------------------------------- core memory
  router.get(
    '/v1/agents/:agentId/core-memory',
    lettaRoute({
      params: agentParams,
      handler: async ({ req, params }) => ({
        blocks: await agents(req).blocks(params.agentId),
        file_blocks: [],
        prompt_template: null,
      }),
    }),
  );
  router.get(
    '/v1/agents/:agentId/core-memory/blocks',
    lettaRoute({
      params: agentParams,
      query: agentBlockListQuery,
      handler: async ({ req, params, query }) => pageInMemory(await agents(req).blocks(params.agentId), query, 'block'),
    }),
  );
  for (const [action, attach] of [
    ['attach', true],
    ['detach', false],
  ] as const) {
    router.patch(
      `/v1/agents/:agentId/core-memory/blocks/${action}/:blockId`,
      lettaRoute({
        params: agentBlockIdParams,
        handler: async ({ req, params }) => {
          const scope = scopeOf(req);
          const target = { householdId: params.agentId, blockId: params.blockId };
          if (attach && (await scope.blocks.byId(params)).label === HUMAN) {
            throw new ConflictError(
              `A block labelled "${HUMAN}" cannot be attached: an agent's "${HUMAN}" is its main member's.`,
            );
          }
          if (attach) await scope.blocks.attach(target);
          else await scope.blocks.detach(target);
          return agents(req).get(params.agentId);
        },
      }),
    );
  }
  router.get(
    '/v1/agents/:agentId/core-memory/blocks/:label',
    lettaRoute({
      params: agentBlockParams,
      handler: async ({ req, params }) => {
        const { label, ...owner } = await agents(req).blockRef(params.agentId, params.label);
        return lettaBlock(await scopeOf(req).blocks.get({ owner, label }), params.label);
      },
    }),
  );
  router.patch(
    '/v1/agents/:agentId/core-memory/blocks/:label',
    lettaRoute({
      params: agentBlockParams,
      body: blockChanges,
      handler: async ({ req, params, body }) => {
        const { label, ...owner } = await agents(req).blockRef(params.agentId, params.label);
        if (body.label !== undefined && body.label !== params.label) {
          throw new NotImplementedError('Renaming a block is not supported: create a block with the new label.');
        }
        const block = await scopeOf(req).blocks.update({ owner, label, changes: blockFields(body) });
        return lettaBlock(block, params.label);
      },
    }),
  );

  // ---------------------------------------------------------------- standalone blocks
  router.post(
    '/v1/blocks',
    lettaRoute({
      body: blockInput,
      handler: async ({ req, body }) => {
        if (body.label === HUMAN) {
          throw new ValidationError(
            `label: "${HUMAN}" is each agent's own block (its main member's); choose another label.`,
          );
        }
        return lettaBlock(
          await scopeOf(req).blocks.createStandalone({ block: { label: body.label, ...blockFields(body) } }),
        );
      },
    }),
  );
  router.get(
    '/v1/blocks',
    lettaRoute({
      query: blockListQuery,
      handler: async ({ req, query }) =>
        (await scopeOf(req).blocks.listOrganization(query)).map((block) => lettaBlock(block)),
    }),
  );
  router.get(
    '/v1/blocks/:blockId',
    lettaRoute({
      params: blockParams,
      handler: async ({ req, params }) => lettaBlock(await scopeOf(req).blocks.byId(params)),
    }),
  );
  router.patch(
    '/v1/blocks/:blockId',
    lettaRoute({
      params: blockParams,
      body: blockChanges,
      handler: async ({ req, params, body }) => {
        if (body.label !== undefined) {
          const current = await scopeOf(req).blocks.byId(params);
          if (current.label !== body.label) {
            throw new NotImplementedError('Renaming a block is not supported: create a block with the new label.');
          }
        }
        return lettaBlock(await scopeOf(req).blocks.updateById({ ...params, changes: blockFields(body) }));
      },
    }),
  );
  router.delete(
    '/v1/blocks/:blockId',
    lettaRoute({ params: blockParams, handler: ({ req, params }) => scopeOf(req).blocks.deleteById(params) }),
  );

  // ---------------------------------------------------------------- messages
  const sendMessage = (forceStream: boolean) =>
    lettaRoute({
      params: agentParams,
      body: messageCreate,
      handler: async ({ req, res, params, body }) => {
        const scope = scopeOf(req);
        const household = await scope.households.get({ householdId: params.agentId });
        const { text, senderId } = textOf(body);
        const memberId = senderId ?? (await new LettaAgents(deps, scope).mainMember(params.agentId));
        if (!memberId) {
          throw new NotFoundError(
            `Agent ${lettaId('agent', household.id)} has no identities to speak as: create one with POST /v1/identities/.`,
          );
        }
        const turn = {
          organizationId: scope.principal.organizationId,
          householdId: household.id,
          memberId,
          text,
          chosenTools: household.agentSettings.letta?.tools ?? [],
          types: body.include_return_message_types,
          streamTokens: body.stream_tokens,
        };
        if (forceStream || body.streaming) {
          await messages.stream(turn, req, res);
          return undefined;
        }
        return messages.send(turn);
      },
    });
  router.post('/v1/agents/:agentId/messages', sendMessage(false));
  router.post('/v1/agents/:agentId/messages/stream', sendMessage(true));
  router.get(
    '/v1/agents/:agentId/messages',
    lettaRoute({
      params: agentParams,
      query: messageListQuery,
      handler: async ({ req, params, query }) => {
        const household = await scopeOf(req).households.get({ householdId: params.agentId });
        return messages.list({
          ...query,
          organizationId: scopeOf(req).principal.organizationId,
          householdId: params.agentId,
          chosenTools: household.agentSettings.letta?.tools ?? [],
        });
      },
    }),
  );

  // ---------------------------------------------------------------- archival memory
  router.post(
    '/v1/agents/:agentId/archival-memory',
    lettaRoute({
      params: agentParams,
      body: passageCreate,
      handler: ({ req, params, body }) => archival(req).create({ householdId: params.agentId, ...body }),
    }),
  );
  router.get(
    '/v1/agents/:agentId/archival-memory',
    lettaRoute({
      params: agentParams,
      query: passageListQuery,
      handler: ({ req, params, query }) => archival(req).list({ householdId: params.agentId, ...query }),
    }),
  );
  router.get(
    '/v1/agents/:agentId/archival-memory/search',
    lettaRoute({
      params: agentParams,
      query: passageSearchQuery,
      handler: ({ req, params, query }) =>
        archival(req).search({
          householdId: params.agentId,
          query: query.query,
          tags: query.tags,
          tagMatch: query.tag_match_mode,
          topK: query.top_k,
          start: query.start_datetime,
          end: query.end_datetime,
        }),
    }),
  );
  router.delete(
    '/v1/agents/:agentId/archival-memory/:passageId',
    lettaRoute({
      params: passageParams,
      handler: ({ req, params }) => archival(req).delete({ householdId: params.agentId, passageId: params.passageId }),
    }),
  );

  // ---------------------------------------------------------------- tools
  router.get(
    '/v1/tools',
    lettaRoute({
      query: toolListQuery,
      handler: async ({ query }) => {
        const names = new Set([...(query.names ?? []), ...(query.name ? [query.name] : [])]);
        const tools = catalog
          .all()
          .filter((tool) => names.size === 0 || names.has(tool.name))
          .filter((tool) => tool.name.includes(query.search ?? ''));
        return pageInMemory(tools, query, 'tool');
      },
    }),
  );
  router.get(
    '/v1/tools/:toolId',
    lettaRoute({
      params: toolParams,
      handler: async ({ params }) => {
        const tool = catalog.byId(params.toolId);
        if (!tool) throw new NotFoundError(`No tool ${lettaId('tool', params.toolId)}; list them with GET /v1/tools/.`);
        return tool;
      },
    }),
  );
  router.all(['/v1/tools', '/v1/tools/:toolId'], () => {
    throw new NotImplementedError(
      `Custom tools are not supported: Hearth runs its own tools (${catalog
        .all()
        .map((tool) => tool.name)
        .join(', ')}), not uploaded source code.`,
    );
  });
  router.get(
    '/v1/agents/:agentId/tools',
    lettaRoute({
      params: agentParams,
      query: agentToolListQuery,
      handler: async ({ req, params, query }) =>
        pageInMemory((await agents(req).get(params.agentId)).tools, query, 'tool'),
    }),
  );
  for (const [action, attach] of [
    ['attach', true],
    ['detach', false],
  ] as const) {
    router.patch(
      `/v1/agents/:agentId/tools/${action}/:toolId`,
      lettaRoute({
        params: agentToolParams,
        handler: ({ req, params }) => agents(req).setTool(params.agentId, params.toolId, attach),
      }),
    );
  }

  // ---------------------------------------------------------------- identities
  const identities = (req: express.Request) => new LettaIdentities(prisma, scopeOf(req));
  router.post(
    '/v1/identities',
    lettaRoute({ body: identityCreate, handler: ({ req, body }) => identities(req).create(body) }),
  );
  router.get(
    '/v1/identities',
    lettaRoute({ query: identityListQuery, handler: ({ req, query }) => identities(req).list(query) }),
  );
  router.get(
    '/v1/identities/:identityId',
    lettaRoute({ params: identityIdParams, handler: ({ req, params }) => identities(req).get(params.identityId) }),
  );
  router.delete(
    '/v1/identities/:identityId',
    lettaRoute({ params: identityIdParams, handler: ({ req, params }) => identities(req).delete(params.identityId) }),
  );
  router.patch(
    '/v1/agents/:agentId/identities/attach/:identityId',
    lettaRoute({
      params: identityParams,
      handler: async ({ req, params }) => {
        const agent = await agents(req).get(params.agentId);
        if (!agent.identity_ids.includes(lettaId('identity', params.identityId))) {
          throw new NotFoundError(
            `No identity ${lettaId('identity', params.identityId)} on agent ${agent.id}: an identity is a member of ` +
              'one household, and attaching cannot move it. Create it for this agent with POST /v1/identities/.',
          );
        }
        return agent;
      },
    }),
  );
  router.patch('/v1/agents/:agentId/identities/detach/:identityId', () => {
    throw new NotImplementedError(
      'Detaching an identity is not supported: an identity is a member of one household. ' +
        'Delete it with DELETE /v1/identities/{identity_id}, which erases the member.',
    );
  });

  for (const { paths, feature } of UNSUPPORTED) {
    router.all(
      paths.flatMap((path) => [path, `${path}/*rest`]),
      () => {
        throw new NotImplementedError(`${feature} are not supported by Hearth's Letta-compatible API.`);
      },
    );
  }
  router.all(
    LETTA_PREFIXES.flatMap((path) => [path, `${path}/*rest`]),
    (req) => {
      throw new NotFoundError(`No route ${req.method} ${req.path} in Hearth's Letta-compatible API.`);
    },
  );
  // Only errors raised in this router reach it: the admin API keeps its own error shape.
  router.use(lettaErrors);
  return router;
}
