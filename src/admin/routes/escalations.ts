/** Routes: escalations — the episodes, acknowledging them with an admin key, and resolving them. */
import { z } from 'zod';
import { ValidationError } from '../../errors.js';
import {
  ackBodySchema,
  ackOutSchema,
  escalationDetailSchema,
  escalationListQuery,
  escalationSchema,
  resolveBodySchema,
} from '../escalation-schemas.js';
import { pageOf } from '../pagination.js';
import { type AdminRoute, defineRoute } from '../route.js';
import { uuid } from '../schemas.js';

const ESCALATIONS = '/v1/escalations';
const escalationParams = z.object({ escalationId: uuid.describe('Escalation id') });

export const escalationRoutes: AdminRoute[] = [
  defineRoute({
    method: 'get',
    path: ESCALATIONS,
    tag: 'Escalations',
    summary: 'List escalations',
    query: escalationListQuery,
    success: { status: 200, description: 'A page of escalations, newest first', schema: pageOf(escalationSchema) },
    handler: async ({ scope, query }) => ({ body: await scope.escalations.list(query) }),
  }),
  defineRoute({
    method: 'get',
    path: `${ESCALATIONS}/:escalationId`,
    tag: 'Escalations',
    summary: 'Get an escalation with its acknowledgements and pages',
    params: escalationParams,
    success: { status: 200, description: 'The escalation', schema: escalationDetailSchema },
    handler: async ({ scope, params }) => ({ body: await scope.escalations.get(params) }),
  }),
  defineRoute({
    method: 'post',
    path: `${ESCALATIONS}/:escalationId/ack`,
    tag: 'Escalations',
    summary: 'Acknowledge an escalation',
    description:
      'The first acknowledgement stops the paging; one after it is recorded and answered with `first: false`, not ' +
      'refused. With an admin key, or with no key and the `staffId` and `token` of a page’s acknowledgement link ' +
      '(which acknowledges as that person). Instructions left here reach the household’s next call.',
    params: escalationParams,
    body: ackBodySchema,
    success: { status: 200, description: 'Who acknowledged first, and the escalation', schema: ackOutSchema },
    handler: async ({ scope, params, body }) => {
      if (body.token !== undefined) {
        throw new ValidationError('With an API key, leave out staffId and token: the key acknowledges.');
      }
      return { body: await scope.escalations.acknowledge({ ...params, instructions: body.instructions }) };
    },
  }),
  defineRoute({
    method: 'post',
    path: `${ESCALATIONS}/:escalationId/resolve`,
    tag: 'Escalations',
    summary: 'Resolve an escalation with its outcome',
    description:
      'The outcome and any instructions for next time are compiled into the household’s context, so the next ' +
      'caller meets an agent that knows this episode. 409 when it is resolved already.',
    params: escalationParams,
    body: resolveBodySchema,
    success: { status: 200, description: 'The resolved escalation', schema: escalationSchema },
    handler: async ({ scope, params, body }) => ({
      body: await scope.escalations.resolve({ ...params, resolution: body }),
    }),
  }),
];
