/** Routes: households and their members (with PINs). */
import { z } from 'zod';
import { keysetQuery, pageOf } from '../pagination.js';
import { type AdminRoute, defineRoute } from '../route.js';
import {
  householdCreateSchema,
  householdSchema,
  householdUpdateSchema,
  memberCreateSchema,
  memberSchema,
  memberUpdateSchema,
  pinSchema,
} from '../schemas.js';
import { householdParams, memberParams } from './params.js';

const HOUSEHOLDS = '/v1/households';
const HOUSEHOLD = `${HOUSEHOLDS}/:householdId`;
const MEMBERS = `${HOUSEHOLD}/members`;
const MEMBER = `${MEMBERS}/:memberId`;
const pageQuery = z.strictObject(keysetQuery);

/** Household and member routes. */
export const householdRoutes: AdminRoute[] = [
  defineRoute({
    method: 'get',
    path: HOUSEHOLDS,
    tag: 'Households',
    summary: 'List households',
    query: pageQuery,
    success: { status: 200, description: 'A page of households, oldest first', schema: pageOf(householdSchema) },
    handler: async ({ scope, query }) => ({ body: await scope.households.list(query) }),
  }),
  defineRoute({
    method: 'post',
    path: HOUSEHOLDS,
    tag: 'Households',
    summary: 'Create a household',
    description: 'Creates the household with its default memory blocks (persona, household).',
    body: householdCreateSchema,
    success: { status: 201, description: 'The new household', schema: householdSchema },
    handler: async ({ scope, body }) => ({ status: 201, body: await scope.households.create({ household: body }) }),
  }),
  defineRoute({
    method: 'get',
    path: HOUSEHOLD,
    tag: 'Households',
    summary: 'Get a household',
    params: householdParams,
    success: { status: 200, description: 'The household', schema: householdSchema },
    handler: async ({ scope, params }) => ({ body: await scope.households.get(params) }),
  }),
  defineRoute({
    method: 'patch',
    path: HOUSEHOLD,
    tag: 'Households',
    summary: 'Update a household',
    params: householdParams,
    body: householdUpdateSchema,
    success: { status: 200, description: 'The updated household', schema: householdSchema },
    handler: async ({ scope, params, body }) => ({ body: await scope.households.update({ ...params, changes: body }) }),
  }),
  defineRoute({
    method: 'delete',
    path: HOUSEHOLD,
    tag: 'Households',
    summary: 'Erase a household',
    description:
      'Deletes the household and everything of it: members, memory blocks and their history, calls, ' +
      'transcripts, passages, escalations. Phone lines routed to it stay, routed to no household.',
    params: householdParams,
    success: { status: 204, description: 'Erased' },
    handler: async ({ scope, params }) => {
      await scope.households.delete(params);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'get',
    path: MEMBERS,
    tag: 'Members',
    summary: "List a household's members",
    params: householdParams,
    query: pageQuery,
    success: { status: 200, description: 'A page of members, oldest first', schema: pageOf(memberSchema) },
    handler: async ({ scope, params, query }) => ({ body: await scope.members.list({ ...params, ...query }) }),
  }),
  defineRoute({
    method: 'post',
    path: MEMBERS,
    tag: 'Members',
    summary: 'Add a member',
    description: 'Adds the member with their own `caller` memory block. Phone numbers are unique per organization.',
    params: householdParams,
    body: memberCreateSchema,
    success: { status: 201, description: 'The new member', schema: memberSchema },
    handler: async ({ scope, params, body }) => ({
      status: 201,
      body: await scope.members.create({ ...params, member: body }),
    }),
  }),
  defineRoute({
    method: 'get',
    path: MEMBER,
    tag: 'Members',
    summary: 'Get a member',
    params: memberParams,
    success: { status: 200, description: 'The member', schema: memberSchema },
    handler: async ({ scope, params }) => ({ body: await scope.members.get(params) }),
  }),
  defineRoute({
    method: 'patch',
    path: MEMBER,
    tag: 'Members',
    summary: 'Update a member',
    params: memberParams,
    body: memberUpdateSchema,
    success: { status: 200, description: 'The updated member', schema: memberSchema },
    handler: async ({ scope, params, body }) => ({ body: await scope.members.update({ ...params, changes: body }) }),
  }),
  defineRoute({
    method: 'delete',
    path: MEMBER,
    tag: 'Members',
    summary: 'Erase a member',
    description:
      'Deletes the member and everything of theirs: their calls and transcripts, their own blocks and ' +
      'history, their passages. Shared household memory stays.',
    params: memberParams,
    success: { status: 204, description: 'Erased' },
    handler: async ({ scope, params }) => {
      await scope.members.delete(params);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'put',
    path: `${MEMBER}/pin`,
    tag: 'Members',
    summary: "Set or reset a member's PIN",
    description: 'The PIN is stored hashed and never returned; `hasPin` tells whether one is set.',
    params: memberParams,
    body: pinSchema,
    success: { status: 204, description: 'PIN set' },
    handler: async ({ scope, params, body }) => {
      await scope.members.setPin({ ...params, pin: body.pin });
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'delete',
    path: `${MEMBER}/pin`,
    tag: 'Members',
    summary: "Remove a member's PIN",
    params: memberParams,
    success: { status: 204, description: 'PIN removed' },
    handler: async ({ scope, params }) => {
      await scope.members.clearPin(params);
      return { status: 204 };
    },
  }),
];
