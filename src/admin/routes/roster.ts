/** Routes: the on-call roster — staff, their shifts — and escalation policies. */
import { z } from 'zod';
import { keysetQuery, pageOf } from '../pagination.js';
import {
  policyCreateSchema,
  policySchema,
  policyUpdateSchema,
  shiftCreateSchema,
  shiftListQuery,
  shiftSchema,
  staffCreateSchema,
  staffSchema,
  staffUpdateSchema,
} from '../roster-schemas.js';
import { type AdminRoute, defineRoute } from '../route.js';
import { uuid } from '../schemas.js';

const STAFF = '/v1/on-call-staff';
const SHIFTS = '/v1/on-call-shifts';
const POLICIES = '/v1/escalation-policies';
const pageQuery = z.strictObject(keysetQuery);
const staffParams = z.object({ staffId: uuid.describe('On-call staff id') });
const shiftParams = z.object({ shiftId: uuid.describe('On-call shift id') });
const policyParams = z.object({ policyId: uuid.describe('Escalation policy id') });

/** Staff, shift and policy routes. */
export const rosterRoutes: AdminRoute[] = [
  defineRoute({
    method: 'get',
    path: STAFF,
    tag: 'On-call roster',
    summary: 'List on-call staff',
    query: pageQuery,
    success: { status: 200, description: 'A page of staff, oldest first', schema: pageOf(staffSchema) },
    handler: async ({ scope, query }) => ({ body: await scope.roster.listStaff(query) }),
  }),
  defineRoute({
    method: 'post',
    path: STAFF,
    tag: 'On-call roster',
    summary: 'Add someone who can be paged',
    description: 'A nurse, a relative, a doctor: reachable by phone (SMS and voice pages), e-mail or a webhook.',
    body: staffCreateSchema,
    success: { status: 201, description: 'The new member of staff', schema: staffSchema },
    handler: async ({ scope, body }) => ({ status: 201, body: await scope.roster.createStaff({ staff: body }) }),
  }),
  defineRoute({
    method: 'get',
    path: `${STAFF}/:staffId`,
    tag: 'On-call roster',
    summary: 'Get a member of on-call staff',
    params: staffParams,
    success: { status: 200, description: 'The member of staff', schema: staffSchema },
    handler: async ({ scope, params }) => ({ body: await scope.roster.getStaff(params) }),
  }),
  defineRoute({
    method: 'patch',
    path: `${STAFF}/:staffId`,
    tag: 'On-call roster',
    summary: 'Change how someone is reached',
    params: staffParams,
    body: staffUpdateSchema,
    success: { status: 200, description: 'The updated member of staff', schema: staffSchema },
    handler: async ({ scope, params, body }) => ({
      body: await scope.roster.updateStaff({ ...params, changes: body }),
    }),
  }),
  defineRoute({
    method: 'delete',
    path: `${STAFF}/:staffId`,
    tag: 'On-call roster',
    summary: 'Remove someone from the roster',
    description: 'Their shifts go with them. Refused (400) while a policy names them.',
    params: staffParams,
    success: { status: 204, description: 'Removed' },
    handler: async ({ scope, params }) => {
      await scope.roster.deleteStaff(params);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'get',
    path: SHIFTS,
    tag: 'On-call roster',
    summary: 'List shifts, or who is on call at a moment',
    query: shiftListQuery,
    success: { status: 200, description: 'A page of shifts, earliest start first', schema: pageOf(shiftSchema) },
    handler: async ({ scope, query }) => ({ body: await scope.roster.listShifts(query) }),
  }),
  defineRoute({
    method: 'post',
    path: SHIFTS,
    tag: 'On-call roster',
    summary: 'Put someone on call for a time',
    description: 'A policy level that pages "whoever is on call" pages the staff whose shift covers that moment.',
    body: shiftCreateSchema,
    success: { status: 201, description: 'The new shift', schema: shiftSchema },
    handler: async ({ scope, body }) => ({ status: 201, body: await scope.roster.createShift({ shift: body }) }),
  }),
  defineRoute({
    method: 'delete',
    path: `${SHIFTS}/:shiftId`,
    tag: 'On-call roster',
    summary: 'Remove a shift',
    params: shiftParams,
    success: { status: 204, description: 'Removed' },
    handler: async ({ scope, params }) => {
      await scope.roster.deleteShift(params);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'get',
    path: POLICIES,
    tag: 'Escalation policies',
    summary: 'List escalation policies',
    query: pageQuery,
    success: { status: 200, description: 'A page of policies, oldest first', schema: pageOf(policySchema) },
    handler: async ({ scope, query }) => ({ body: await scope.policies.list(query) }),
  }),
  defineRoute({
    method: 'post',
    path: POLICIES,
    tag: 'Escalation policies',
    summary: 'Create an escalation policy',
    description:
      'Ordered levels: who is paged, on which channels, how long to wait for an acknowledgement, and how often ' +
      'to repeat a level before the next. Named staff must be this organization’s.',
    body: policyCreateSchema,
    success: { status: 201, description: 'The new policy', schema: policySchema },
    handler: async ({ scope, body }) => ({ status: 201, body: await scope.policies.create({ policy: body }) }),
  }),
  defineRoute({
    method: 'get',
    path: `${POLICIES}/:policyId`,
    tag: 'Escalation policies',
    summary: 'Get an escalation policy',
    params: policyParams,
    success: { status: 200, description: 'The policy', schema: policySchema },
    handler: async ({ scope, params }) => ({ body: await scope.policies.get(params) }),
  }),
  defineRoute({
    method: 'patch',
    path: `${POLICIES}/:policyId`,
    tag: 'Escalation policies',
    summary: 'Rename a policy or replace its levels',
    params: policyParams,
    body: policyUpdateSchema,
    success: { status: 200, description: 'The updated policy', schema: policySchema },
    handler: async ({ scope, params, body }) => ({ body: await scope.policies.update({ ...params, changes: body }) }),
  }),
  defineRoute({
    method: 'delete',
    path: `${POLICIES}/:policyId`,
    tag: 'Escalation policies',
    summary: 'Delete an escalation policy',
    params: policyParams,
    success: { status: 204, description: 'Deleted' },
    handler: async ({ scope, params }) => {
      await scope.policies.delete(params);
      return { status: 204 };
    },
  }),
];
