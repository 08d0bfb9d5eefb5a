/** Routes: archival passages, recall search, and calls with their transcripts. */
import { callDetailSchema, callListQuery, callSchema } from '../activity-schemas.js';
import {
  passageCreateSchema,
  passageHitSchema,
  passageListQuery,
  passageSchema,
  passageSearchQuery,
  recallHitSchema,
  recallQuery,
} from '../memory-schemas.js';
import { pageOf } from '../pagination.js';
import { type AdminRoute, defineRoute } from '../route.js';
import { callParams, householdParams, passageParams } from './params.js';

const HOUSEHOLD = '/v1/households/:householdId';

/** Passage, recall and call routes. */
export const archiveRoutes: AdminRoute[] = [
  defineRoute({
    method: 'get',
    path: `${HOUSEHOLD}/passages`,
    tag: 'Archival memory',
    summary: 'List passages',
    params: householdParams,
    query: passageListQuery,
    success: { status: 200, description: 'A page of passages, oldest first', schema: pageOf(passageSchema) },
    handler: async ({ scope, params, query }) => ({ body: await scope.archive.listPassages({ ...params, ...query }) }),
  }),
  defineRoute({
    method: 'get',
    path: `${HOUSEHOLD}/passages/search`,
    tag: 'Archival memory',
    summary: 'Search passages',
    description: "Hybrid search (full text weighted by word rarity + embeddings), as the agent's archival search.",
    params: householdParams,
    query: passageSearchQuery,
    success: { status: 200, description: 'A page of hits, best first', schema: pageOf(passageHitSchema) },
    handler: async ({ scope, params, query }) => ({
      body: await scope.archive.searchPassages({ ...params, ...query }),
    }),
  }),
  defineRoute({
    method: 'post',
    path: `${HOUSEHOLD}/passages`,
    tag: 'Archival memory',
    summary: 'Add a passage',
    params: householdParams,
    body: passageCreateSchema,
    success: { status: 201, description: 'The stored passage', schema: passageSchema },
    handler: async ({ scope, params, body }) => ({
      status: 201,
      body: await scope.archive.createPassage({ ...params, passage: body }),
    }),
  }),
  defineRoute({
    method: 'delete',
    path: `${HOUSEHOLD}/passages/:passageId`,
    tag: 'Archival memory',
    summary: 'Delete a passage',
    params: passageParams,
    success: { status: 204, description: 'Deleted' },
    handler: async ({ scope, params }) => {
      await scope.archive.deletePassage(params);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'get',
    path: `${HOUSEHOLD}/recall`,
    tag: 'Calls',
    summary: "Search the household's calls",
    description: "Hybrid search over every turn of every call, as the agent's conversation search.",
    params: householdParams,
    query: recallQuery,
    success: { status: 200, description: 'A page of hits, best first', schema: pageOf(recallHitSchema) },
    handler: async ({ scope, params, query }) => ({ body: await scope.archive.searchRecall({ ...params, ...query }) }),
  }),
  defineRoute({
    method: 'get',
    path: `${HOUSEHOLD}/calls`,
    tag: 'Calls',
    summary: 'List calls',
    params: householdParams,
    query: callListQuery,
    success: { status: 200, description: 'A page of calls, newest first', schema: pageOf(callSchema) },
    handler: async ({ scope, params, query }) => ({ body: await scope.calls.list({ ...params, ...query }) }),
  }),
  defineRoute({
    method: 'get',
    path: `${HOUSEHOLD}/calls/:callId`,
    tag: 'Calls',
    summary: 'Get a call with its transcript',
    description: 'The call, its transcript and tool calls, its summary, and the memory edits it made.',
    params: callParams,
    success: { status: 200, description: 'The call', schema: callDetailSchema },
    handler: async ({ scope, params }) => ({ body: await scope.calls.get(params) }),
  }),
];
