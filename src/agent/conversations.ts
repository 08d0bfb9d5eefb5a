/**
 * The text channel: the same agent, memory and loop as a phone call, over text. A conversation
 * is a `Call` with channel `text`; its turns are in recall as they happen, so another instance
 * (or this one after a restart) can continue it. Ending it enqueues consolidation, as hanging
 * up does.
 */

import { z } from 'zod';
import type { Call, PrismaClient } from '../db/index.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { JobQueue, JobType } from '../jobs/index.js';
import type { Logger } from '../logger.js';
import type { MemoryEngine } from '../memory/index.js';
import { callScope } from './call-scope.js';
import { enqueueConsolidation } from './consolidation.js';
import { AgentSession, type TurnResult } from './loop.js';
import { householdModel, type ModelMessage, type ModelProvider } from './model.js';

/** Live sessions kept per process; older ones are rebuilt from recall when they speak again. */
const MAX_LIVE_SESSIONS = 500;
/** Longest a turn may hold its conversation: every step's model budget, with room to spare. */
const TURN_LEASE_MS = 15 * 60_000;

export const END_IDLE_CONVERSATION_JOB = 'end-idle-conversation';

export interface ConversationDeps {
  prisma: PrismaClient;
  memory: MemoryEngine;
  provider: ModelProvider;
  queue: Pick<JobQueue, 'send'>;
  logger: Logger;
  /** Model calls per turn (HEARTH_AGENT_MAX_STEPS). */
  maxSteps: number;
  /** A conversation quiet this long is ended (and consolidated) even if nobody ends it. */
  idleSeconds: number;
}

export interface ConversationReply extends TurnResult {
  conversationId: string;
}

/** Starts, continues and ends text conversations between a household member and the agent. */
export class Conversations {
  readonly #deps: ConversationDeps;
  readonly #sessions = new Map<string, AgentSession>();
  /** Spoken turns each live session has seen, to notice turns answered elsewhere. */
  readonly #spoken = new Map<string, number>();

  constructor(deps: ConversationDeps) {
    this.#deps = deps;
  }

  /**
   * Sends one message as `memberId` and returns the agent's reply and the tools it used. Without
   * `conversationId` a new conversation starts. The member is taken as verified: whoever sends
   * on their behalf (an operator's key, the local CLI) is trusted with their memory.
   */
  async send(input: {
    householdId: string;
    memberId: string;
    text: string;
    conversationId?: string;
    onTextDelta?: (delta: string) => void;
    /** Cancels the turn (the caller hung up, the user pressed Ctrl-C). */
    signal?: AbortSignal;
  }): Promise<ConversationReply> {
    const call = input.conversationId
      ? await this.#openConversation({ ...input, conversationId: input.conversationId })
      : await this.#startConversation(input);
    if (!(await this.#claimTurn(call.id))) {
      throw new ConflictError(`Conversation ${call.id} is still answering the previous message; wait for its reply.`);
    }
    try {
      const session = await this.#sessionFor(call);
      const result = await session.turn({ text: input.text, onTextDelta: input.onTextDelta, signal: input.signal });
      this.#spoken.set(call.id, await this.#spokenTurns(call.id));
      return { conversationId: call.id, ...result };
    } finally {
      await this.#deps.prisma.call.update({ where: { id: call.id }, data: { turnLeaseUntil: null } });
    }
  }

  /**
   * One turn at a time per conversation, across every instance: the turn holds a lease on the
   * call row (one that outlives a crashed instance runs out by itself).
   */
  async #claimTurn(callId: string): Promise<boolean> {
    const now = new Date();
    const claimed = await this.#deps.prisma.call.updateMany({
      where: { id: callId, OR: [{ turnLeaseUntil: null }, { turnLeaseUntil: { lt: now } }] },
      data: { turnLeaseUntil: new Date(now.getTime() + TURN_LEASE_MS) },
    });
    return claimed.count === 1;
  }

  #answering(call: Call): boolean {
    return call.turnLeaseUntil !== null && call.turnLeaseUntil.getTime() > Date.now();
  }

  /** Spoken turns in recall: a cached session whose count differs missed turns another instance answered. */
  #spokenTurns(callId: string): Promise<number> {
    return this.#deps.prisma.message.count({ where: { callId, role: { in: ['user', 'assistant'] } } });
  }

  /** Starts a conversation for `memberId` before its first message (so its id is known even if that turn fails). */
  async start(input: { householdId: string; memberId: string }): Promise<{ conversationId: string }> {
    return { conversationId: (await this.#startConversation(input)).id };
  }

  /**
   * Ends a conversation and queues its consolidation; ending it twice is harmless. The job id is
   * null when consolidation is already queued or done.
   */
  async end(input: {
    householdId: string;
    conversationId: string;
  }): Promise<{ conversationId: string; consolidationJobId: string | null }> {
    const call = await this.#find(input);
    // Ending mid-turn would consolidate a transcript without its reply.
    if (this.#answering(call)) {
      throw new ConflictError(`Conversation ${call.id} is still answering; end it once the reply is back.`);
    }
    this.#sessions.delete(call.id);
    this.#spoken.delete(call.id);
    if (call.status !== 'completed') {
      await this.#deps.prisma.call.update({
        where: { id: call.id },
        data: { status: 'completed', endedAt: new Date() },
      });
    }
    const consolidationJobId = call.consolidatedAt ? null : await enqueueConsolidation(this.#deps.queue, call.id);
    return { conversationId: call.id, consolidationJobId };
  }

  async #startConversation(input: { householdId: string; memberId: string }): Promise<Call> {
    const member = await this.#deps.prisma.member.findFirst({
      where: { id: input.memberId, householdId: input.householdId },
    });
    if (!member) throw new NotFoundError(`No member ${input.memberId} in household ${input.householdId}.`);
    const call = await this.#deps.prisma.call.create({
      data: {
        organizationId: member.organizationId,
        householdId: member.householdId,
        memberId: member.id,
        channel: 'text',
        status: 'in_progress',
        callerVerified: true,
      },
    });
    await this.#watchIdle(call.id, this.#deps.idleSeconds);
    return call;
  }

  /**
   * Ends the conversation if it has been quiet for the idle time; otherwise checks again when
   * it would be. Run by the `end-idle-conversation` job, so that a chat nobody ends is still
   * consolidated.
   */
  async endIfIdle(input: { conversationId: string }): Promise<'ended' | 'active' | 'gone'> {
    const call = await this.#deps.prisma.call.findUnique({ where: { id: input.conversationId } });
    if (!call || call.consolidatedAt) return 'gone';
    if (call.status === 'completed') {
      // Ended, but perhaps before its consolidation was queued (a crash in between): queue it again.
      await this.end({ householdId: call.householdId, conversationId: call.id });
      return 'ended';
    }
    const last = await this.#deps.prisma.message.findFirst({
      where: { callId: call.id },
      orderBy: { createdAt: 'desc' },
      select: { createdAt: true },
    });
    const quietSeconds = (Date.now() - (last?.createdAt ?? call.startedAt).getTime()) / 1000;
    if (quietSeconds < this.#deps.idleSeconds || this.#answering(call)) {
      await this.#watchIdle(call.id, this.#deps.idleSeconds - quietSeconds);
      return 'active';
    }
    await this.end({ householdId: call.householdId, conversationId: call.id });
    return 'ended';
  }

  // Sent when a conversation starts, then re-sent by the check itself; the queue keeps at most
  // one waiting per conversation (policy 'stately').
  async #watchIdle(callId: string, afterSeconds: number): Promise<void> {
    await this.#deps.queue.send({
      name: END_IDLE_CONVERSATION_JOB,
      data: { callId },
      singletonKey: callId,
      startAfterSeconds: Math.max(1, Math.ceil(afterSeconds)),
    });
  }

  async #openConversation(input: { householdId: string; memberId: string; conversationId: string }): Promise<Call> {
    const call = await this.#find(input);
    if (call.memberId !== input.memberId) {
      throw new ConflictError(`Conversation ${call.id} belongs to another member; start a new one for this member.`);
    }
    if (call.status === 'completed') {
      throw new ConflictError(`Conversation ${call.id} has ended; send without conversationId to start a new one.`);
    }
    return call;
  }

  async #find(input: { householdId: string; conversationId: string }): Promise<Call> {
    const call = await this.#deps.prisma.call.findFirst({
      where: { id: input.conversationId, householdId: input.householdId, channel: 'text' },
    });
    if (!call) throw new NotFoundError(`No conversation ${input.conversationId} in household ${input.householdId}.`);
    return call;
  }

  /** The live session of `call` (most recently used last), else one resumed from recall. */
  async #sessionFor(call: Call): Promise<AgentSession> {
    const live = this.#sessions.get(call.id);
    if (live && this.#spoken.get(call.id) === (await this.#spokenTurns(call.id))) {
      this.#sessions.delete(call.id);
      this.#sessions.set(call.id, live);
      return live;
    }
    return this.#resume(call);
  }

  /** A session for `call`, with the spoken turns of its recall as history (tool calls stay in recall only). */
  async #resume(call: Call): Promise<AgentSession> {
    const { prisma, memory, provider, logger, maxSteps } = this.#deps;
    const [household, earlier] = await Promise.all([
      prisma.household.findUniqueOrThrow({ where: { id: call.householdId } }),
      prisma.message.findMany({
        where: { callId: call.id, role: { in: ['user', 'assistant'] } },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      }),
    ]);
    const history: ModelMessage[] = earlier.map((message) =>
      message.role === 'user'
        ? { role: 'user', content: message.content }
        : { role: 'assistant', content: message.content },
    );
    const session = new AgentSession({
      memory,
      provider,
      logger,
      scope: callScope(call),
      model: householdModel({ agentSettings: household.agentSettings, defaultModel: provider.defaultModel }),
      maxSteps,
      history,
    });
    this.#sessions.set(call.id, session);
    if (this.#sessions.size > MAX_LIVE_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) {
        this.#sessions.delete(oldest);
        this.#spoken.delete(oldest);
      }
    }
    return session;
  }
}

/** The `end-idle-conversation` job: ends quiet conversations so they are consolidated. */
export function idleConversationJob(conversations: Conversations): JobType<{ callId: string }> {
  return {
    name: END_IDLE_CONVERSATION_JOB,
    schema: z.object({ callId: z.uuid() }),
    policy: 'stately',
    async handler(job) {
      await conversations.endIfIdle({ conversationId: job.data.callId });
    },
  };
}
