/**
 * Routes: the text channel, where an operator's key speaks as a member of one of its households.
 * Thin: the routes check the household and member are the organization's, then call the channel.
 */
import { z } from 'zod';
import type { TextChannel } from '../../calls/index.js';
import { type AdminRoute, defineRoute } from '../route.js';
import { storedText, uuid } from '../schemas.js';
import { householdParams } from './params.js';

const messageBody = z.strictObject({
  memberId: uuid.describe('The member speaking'),
  text: storedText().trim().min(1).max(4000).describe('What they say'),
  conversationId: uuid
    .optional()
    .describe('Continue this conversation; omit to start a new one (its id comes back in the reply)'),
});

const replySchema = z
  .object({
    conversationId: z.uuid(),
    reply: z.string().describe("The agent's answer"),
    stopReason: z.enum(['answered', 'step_limit']),
    toolCalls: z
      .array(
        z.object({
          name: z.string(),
          arguments: z.string().describe('As the model sent them (JSON text)'),
          ok: z.boolean(),
          output: z.string().describe('What the tool told the model'),
        }),
      )
      .describe('Tools the agent used for this reply, in order'),
  })
  .meta({ id: 'AgentReply' });

/** `POST /v1/households/:householdId/messages` and `…/conversations/:conversationId/end`. */
export function conversationRoutes(conversations: TextChannel): AdminRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/households/:householdId/messages',
      tag: 'Agent',
      summary: 'Send a text message to the household agent',
      description:
        'The same agent, memory and tools as a phone call. The reply comes once the agent has answered, ' +
        'with the tools it used (memory edits among them).',
      params: householdParams,
      body: messageBody,
      success: { status: 200, description: "The agent's reply", schema: replySchema },
      handler: async ({ scope, params, body }) => {
        await scope.members.get({ householdId: params.householdId, memberId: body.memberId });
        const result = await conversations.send({ householdId: params.householdId, ...body });
        return {
          body: {
            conversationId: result.conversationId,
            reply: result.reply,
            stopReason: result.stopReason,
            toolCalls: result.toolCalls.map(({ name, arguments: args, ok, output }) => ({
              name,
              arguments: args,
              ok,
              output,
            })),
          },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/households/:householdId/conversations/:conversationId/end',
      tag: 'Agent',
      summary: 'End a text conversation',
      description: "Marks it completed and queues its consolidation into the household's memory (once).",
      params: householdParams.extend({ conversationId: uuid.describe('Conversation id') }),
      success: {
        status: 200,
        description: 'Ended',
        schema: z.object({ conversationId: z.uuid(), status: z.literal('completed') }),
      },
      handler: async ({ scope, params }) => {
        await scope.households.get(params);
        const ended = await conversations.end(params);
        return { body: { conversationId: ended.conversationId, status: 'completed' } };
      },
    }),
  ];
}
