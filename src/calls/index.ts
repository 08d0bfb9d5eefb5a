/**
 * Calls: the lifecycle every channel shares — start a call, run one turn at a time (across
 * instances), end it by hand or once idle, and queue its consolidation — and the text channel
 * built on it. The voice bridge is the next channel: it starts and ends calls here and runs its
 * turns through `CallLifecycle.turn`.
 *
 * @example
 * const calls = new CallLifecycle({ prisma, memory, queue, logger, idleSeconds: 30 * 60 });
 * await queue.register(idleCallJob(calls));
 * const conversations = new TextChannel({ calls, prisma, memory, provider, logger, maxSteps: 8 });
 * const { conversationId, reply } = await conversations.send({ householdId, memberId, text: 'Hello' });
 * await conversations.end({ householdId, conversationId }); // queues the consolidation, once
 */
export { END_IDLE_CALL_JOB, idleCallJob } from './idle.js';
export { CallLifecycle, type CallLifecycleDeps, CallLimitError, type CallTurn } from './lifecycle.js';
export { type ConversationReply, TextChannel, type TextChannelDeps } from './text-channel.js';
