/**
 * Routes: core-memory blocks, the same set for a household's shared blocks
 * (`/v1/households/:householdId/blocks`) and for a member's own
 * (`/v1/households/:householdId/members/:memberId/blocks`).
 */
import { z } from 'zod';
import {
  blockCreateSchema,
  blockSchema,
  blockUpdateSchema,
  historyQuery,
  revisionSchema,
  rollbackSchema,
} from '../memory-schemas.js';
import { keysetQuery, pageOf } from '../pagination.js';
import { type AdminRoute, defineRoute } from '../route.js';
import type { BlockOwner } from '../scope/index.js';
import { householdBlockParams, householdParams, memberBlockParams, memberParams } from './params.js';

type OwnerParams = { householdId: string; memberId?: string };
type ParamsSchema = z.ZodObject & z.ZodType<OwnerParams>;

const pageQuery = z.strictObject(keysetQuery);

function ownerOf(params: OwnerParams): BlockOwner {
  return { householdId: params.householdId, memberId: params.memberId ?? null };
}

function ownerBlockRoutes<P extends ParamsSchema, L extends ParamsSchema & z.ZodType<{ label: string }>>(options: {
  collection: string;
  params: P;
  labelParams: L;
  tag: string;
  whose: string;
}): AdminRoute[] {
  const { collection, params, labelParams, tag, whose } = options;
  const block = `${collection}/:label`;
  return [
    defineRoute({
      method: 'get',
      path: collection,
      tag,
      summary: `List ${whose} blocks`,
      params,
      query: pageQuery,
      success: { status: 200, description: 'A page of blocks, oldest first', schema: pageOf(blockSchema) },
      handler: async ({ scope, params, query }) => ({
        body: await scope.blocks.list({ owner: ownerOf(params), ...query }),
      }),
    }),
    defineRoute({
      method: 'post',
      path: collection,
      tag,
      summary: `Create one of ${whose} blocks`,
      params,
      body: blockCreateSchema,
      success: { status: 201, description: 'The new block (version 1)', schema: blockSchema, etag: true },
      handler: async ({ scope, params, body }) => {
        const created = await scope.blocks.create({ owner: ownerOf(params), block: body });
        return { status: 201, body: created, etag: created.version };
      },
    }),
    defineRoute({
      method: 'get',
      path: block,
      tag,
      summary: `Read one of ${whose} blocks`,
      params: labelParams,
      success: { status: 200, description: 'The block; ETag is its version', schema: blockSchema, etag: true },
      handler: async ({ scope, params }) => {
        const found = await scope.blocks.get({ owner: ownerOf(params), label: params.label });
        return { body: found, etag: found.version };
      },
    }),
    defineRoute({
      method: 'patch',
      path: block,
      tag,
      summary: `Correct one of ${whose} blocks`,
      description:
        'Compare-and-swap: send the version you read as `If-Match`. A stale version gets 412 (read it again ' +
        'and reapply your change); no If-Match gets 428. Live calls of the household see the change at once.',
      params: labelParams,
      body: blockUpdateSchema,
      ifMatch: 'required',
      success: { status: 200, description: 'The updated block', schema: blockSchema, etag: true },
      handler: async ({ scope, params, body, ifMatch }) => {
        const updated = await scope.blocks.update({
          owner: ownerOf(params),
          label: params.label,
          expectedVersion: ifMatch as number,
          changes: body,
        });
        return { body: updated, etag: updated.version };
      },
    }),
    defineRoute({
      method: 'delete',
      path: block,
      tag,
      summary: `Delete one of ${whose} blocks`,
      description: 'The default blocks (persona, household, caller) cannot be deleted (409).',
      params: labelParams,
      success: { status: 204, description: 'Deleted' },
      handler: async ({ scope, params }) => {
        await scope.blocks.delete({ owner: ownerOf(params), label: params.label });
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get',
      path: `${block}/history`,
      tag,
      summary: `History of one of ${whose} blocks`,
      description:
        'Every version, newest first, with its source (agent tool, consolidation, admin…), call, actor and diff.',
      params: labelParams,
      query: historyQuery,
      success: { status: 200, description: 'A page of revisions, newest first', schema: pageOf(revisionSchema) },
      handler: async ({ scope, params, query }) => ({
        body: await scope.blocks.history({
          owner: ownerOf(params),
          label: params.label,
          limit: query.limit,
          before: query.cursor,
        }),
      }),
    }),
    defineRoute({
      method: 'post',
      path: `${block}/rollback`,
      tag,
      summary: `Roll one of ${whose} blocks back`,
      description: 'Restores the value of `toVersion` as a new version; If-Match, when sent, must be current.',
      params: labelParams,
      body: rollbackSchema,
      ifMatch: 'optional',
      success: { status: 200, description: 'The block at its new version', schema: blockSchema, etag: true },
      handler: async ({ scope, params, body, ifMatch }) => {
        const restored = await scope.blocks.rollback({
          owner: ownerOf(params),
          label: params.label,
          toVersion: body.toVersion,
          expectedVersion: ifMatch,
        });
        return { body: restored, etag: restored.version };
      },
    }),
  ];
}

/** Block routes for shared and member blocks. */
export const blockRoutes: AdminRoute[] = [
  ...ownerBlockRoutes({
    collection: '/v1/households/:householdId/blocks',
    params: householdParams,
    labelParams: householdBlockParams,
    tag: 'Memory blocks',
    whose: "the household's shared",
  }),
  ...ownerBlockRoutes({
    collection: '/v1/households/:householdId/members/:memberId/blocks',
    params: memberParams,
    labelParams: memberBlockParams,
    tag: 'Memory blocks',
    whose: "a member's",
  }),
];
