/** Routes: memory probes, their runs, and the memory health reports. */
import {
  householdHealthSchema,
  organizationHealthSchema,
  probeCreateSchema,
  probeListQuery,
  probeRunListQuery,
  probeRunSchema,
  probeSchema,
  probeUpdateSchema,
} from '../health-schemas.js';
import { pageOf } from '../pagination.js';
import { type AdminRoute, defineRoute } from '../route.js';
import { uuid } from '../schemas.js';
import { householdParams } from './params.js';

const PROBES = '/v1/households/:householdId/probes';
const PROBE = `${PROBES}/:probeId`;
const probeParams = householdParams.extend({ probeId: uuid.describe('Probe id') });

export const probeRoutes: AdminRoute[] = [
  defineRoute({
    method: 'get',
    path: PROBES,
    tag: 'Memory health',
    summary: 'List probes',
    params: householdParams,
    query: probeListQuery,
    success: {
      status: 200,
      description: 'A page of probes, oldest first, each with its last run',
      schema: pageOf(probeSchema),
    },
    handler: async ({ scope, params, query }) => ({ body: await scope.probes.list({ ...params, ...query }) }),
  }),
  defineRoute({
    method: 'post',
    path: PROBES,
    tag: 'Memory health',
    summary: 'Add a probe',
    description:
      'A question the agent should answer from earlier sessions, and what a right answer contains (answer probes, ' +
      'asked through the agent: they need a model) or what the searches must find (retrieval probes). It runs ' +
      'within a minute, then every intervalMinutes; two failures in a row send `memory.probe_failed`.',
    params: householdParams,
    body: probeCreateSchema,
    success: { status: 201, description: 'The probe', schema: probeSchema },
    handler: async ({ scope, params, body }) => ({
      status: 201,
      body: await scope.probes.create({ ...params, probe: body }),
    }),
  }),
  defineRoute({
    method: 'get',
    path: PROBE,
    tag: 'Memory health',
    summary: 'Get a probe',
    params: probeParams,
    success: { status: 200, description: 'The probe with its last run', schema: probeSchema },
    handler: async ({ scope, params }) => ({ body: await scope.probes.get(params) }),
  }),
  defineRoute({
    method: 'patch',
    path: PROBE,
    tag: 'Memory health',
    summary: 'Change a probe',
    params: probeParams,
    body: probeUpdateSchema,
    success: { status: 200, description: 'The probe', schema: probeSchema },
    handler: async ({ scope, params, body }) => ({ body: await scope.probes.update({ ...params, changes: body }) }),
  }),
  defineRoute({
    method: 'delete',
    path: PROBE,
    tag: 'Memory health',
    summary: 'Delete a probe and its runs',
    params: probeParams,
    success: { status: 204, description: 'Deleted' },
    handler: async ({ scope, params }) => {
      await scope.probes.delete(params);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'post',
    path: `${PROBE}/run`,
    tag: 'Memory health',
    summary: 'Run a probe now',
    description:
      'Asks the probe now and stores the run. It writes nothing to memory or recall and never escalates. ' +
      'An answer probe without a model configured is a 503.',
    params: probeParams,
    success: { status: 200, description: 'The run', schema: probeRunSchema },
    handler: async ({ scope, params }) => ({ body: await scope.probes.run(params) }),
  }),
  defineRoute({
    method: 'get',
    path: `${PROBE}/runs`,
    tag: 'Memory health',
    summary: "List a probe's runs",
    params: probeParams,
    query: probeRunListQuery,
    success: { status: 200, description: 'A page of runs, newest first', schema: pageOf(probeRunSchema) },
    handler: async ({ scope, params, query }) => ({ body: await scope.probes.runs({ ...params, ...query }) }),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/households/:householdId/memory/health',
    tag: 'Memory health',
    summary: "A household's memory health",
    description:
      'Per block its fill and 30-day growth; archival counts by month and tag and likely duplicate passages; the ' +
      'last consolidation; the probe pass rate by day and the failing probes with their last answers.',
    params: householdParams,
    success: { status: 200, description: 'The report', schema: householdHealthSchema },
    handler: async ({ scope, params }) => ({ body: await scope.probes.householdReport(params) }),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/memory/health',
    tag: 'Memory health',
    summary: "The organization's households that need a look",
    description: 'Households whose latest probe run failed, or with a block over 90 % of its limit.',
    success: { status: 200, description: 'The summary', schema: organizationHealthSchema },
    handler: async ({ scope }) => ({ body: await scope.probes.organizationReport() }),
  }),
];
