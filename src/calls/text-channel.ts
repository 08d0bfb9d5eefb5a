/**
 * The text channel: the same agent, memory and loop as a phone call, over text. A conversation
 * is a call with channel `text`; the lifecycle starts it, runs its turns one at a time and ends
 * it, and each turn here is one message to the agent and its reply. Turns are in recall as they
 * happen, so another instance (or this one after a restart) can continue a conversation.
 */
import {
  AgentSession,
  type AgentTool,
  type ExtraContext,
  householdModel,
  type ModelMessage,
  type ModelProvider,
  type ModelTool,
  ToolRunner,
  type TurnInput,
  type TurnResult,
} from '../agent/index.js';
import type { Call, PrismaClient } from '../db/index.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MemoryEngine } from '../memory/index.js';
import type { Metrics } from '../metrics.js';
import type { CallLifecycle, CallTurn } from './lifecycle.js';
import { SessionCache } from './session-cache.js';

/** Live sessions kept per process; older ones are rebuilt from recall when they speak again. */
const MAX_LIVE_SESSIONS = 500;

/** What the text channel is built from: the lifecycle its conversations run on, and the agent's parts. */
export interface TextChannelDeps {
  calls: CallLifecycle;
  prisma: PrismaClient;
  memory: MemoryEngine;
  provider: ModelProvider;
  logger: Logger;
  /** Model calls per turn (HEARTH_AGENT_MAX_STEPS). */
  maxSteps: number;
  /** Context beyond memory (the household's escalations). */
  extraContext?: ExtraContext;
  /** Tools beyond memory (`escalate`). */
  extraTools?: AgentTool[];
  metrics?: Metrics;
}

/** The agent's reply to one message, and the conversation it belongs to. */
export interface ConversationReply extends TurnResult {
  conversationId: string;
}

/** Starts, continues and ends text conversations between a household member and the agent. */
export class TextChannel {
  readonly #deps: TextChannelDeps;
  readonly #sessions = new SessionCache<AgentSession>({ maxSessions: MAX_LIVE_SESSIONS });

  constructor(deps: TextChannelDeps) {
    this.#deps = deps;
  }

  /** The tools the agent has in a conversation: memory's, and the channel's own. */
  get tools(): ModelTool[] {
    const { memory, extraTools, logger } = this.#deps;
    return new ToolRunner({ memory, extraTools, logger }).definitions;
  }

  /** Starts a conversation for `memberId` before its first message (so its id is known even if that turn fails). */
  async start(input: { householdId: string; memberId: string }): Promise<{ conversationId: string }> {
    return { conversationId: (await this.#start(input)).id };
  }

  /**
   * Sends one message as `memberId` and returns the agent's reply and the tools it used. Without
   * `conversationId` a new conversation starts. The member is taken as verified: whoever sends
   * on their behalf (an operator's key, the local CLI) is trusted with their memory.
   */
  async send(
    input: TurnInput & {
      householdId: string;
      memberId: string;
      conversationId?: string;
    },
  ): Promise<ConversationReply> {
    const call = input.conversationId
      ? await this.#open({ ...input, conversationId: input.conversationId })
      : await this.#start(input);
    return this.#deps.calls.turn(call, async (turn) => {
      const session = this.#sessions.take(call.id, turn.number) ?? (await this.#resume(turn));
      const { text, signal, onTextDelta, onMessage } = input;
      const result = await session.turn({ text, signal, onTextDelta, onMessage });
      this.#sessions.put(call.id, session, turn.number);
      return { conversationId: call.id, ...result };
    });
  }

  /**
   * Ends a conversation and queues its consolidation; ending it twice is harmless. The job id is
   * null when consolidation is already queued or done.
   */
  async end(input: {
    householdId: string;
    conversationId: string;
  }): Promise<{ conversationId: string; consolidationJobId: string | null }> {
    const { calls } = this.#deps;
    const call = await calls.find({ householdId: input.householdId, callId: input.conversationId, channel: 'text' });
    const { consolidationJobId } = await calls.end(call);
    this.#sessions.delete(call.id);
    return { conversationId: call.id, consolidationJobId };
  }

  #start(input: { householdId: string; memberId: string }): Promise<Call> {
    return this.#deps.calls.start({ ...input, channel: 'text', callerVerified: true });
  }

  async #open(input: { householdId: string; memberId: string; conversationId: string }): Promise<Call> {
    const call = await this.#deps.calls.find({
      householdId: input.householdId,
      callId: input.conversationId,
      channel: 'text',
    });
    if (call.memberId !== input.memberId) {
      throw new ConflictError(`Conversation ${call.id} belongs to another member; start a new one for this member.`);
    }
    if (call.status === 'completed') {
      throw new ConflictError(`Conversation ${call.id} has ended; send without conversationId to start a new one.`);
    }
    return call;
  }

  /** A session for the turn's call, with the spoken turns of its recall as history (tool calls stay in recall only). */
  async #resume({ call, scope }: CallTurn): Promise<AgentSession> {
    const { prisma, memory, provider, logger, maxSteps, extraContext, extraTools, metrics } = this.#deps;
    const [household, earlier] = await Promise.all([
      prisma.household.findUnique({ where: { id: call.householdId }, select: { agentSettings: true } }),
      memory.transcript({ householdId: call.householdId, callId: call.id, roles: ['user', 'assistant'] }),
    ]);
    if (!household) throw new NotFoundError(`Household ${call.householdId} no longer exists.`);
    const history: ModelMessage[] = earlier.map((message) =>
      message.role === 'user'
        ? { role: 'user', content: message.content }
        : { role: 'assistant', content: message.content },
    );
    return new AgentSession({
      memory,
      provider,
      logger,
      scope,
      model: householdModel({ agentSettings: household.agentSettings, defaultModel: provider.defaultModel }),
      maxSteps,
      history,
      extraContext,
      extraTools,
      metrics,
    });
  }
}
