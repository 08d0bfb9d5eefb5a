/**
 * The call lifecycle, one for every channel (the text channel now, the voice bridge next): start
 * a call, run its turns one at a time, end it (or let the idle check end it once it is quiet)
 * and queue its consolidation. What a turn does is the channel's: the lifecycle hands it the
 * call and its memory scope, and keeps every other turn out until it is done.
 */
import { callScope, enqueueConsolidation } from '../agent/index.js';
import { type Call, type CallChannel, Prisma, type PrismaClient } from '../db/index.js';
import { ConflictError, HearthError, NotFoundError } from '../errors.js';
import type { JobQueue } from '../jobs/index.js';
import type { Logger } from '../logger.js';
import type { MemoryEngine, SessionScope } from '../memory/index.js';
import { watchIdle } from './idle.js';
import { answering, TurnLease, turnFree } from './turn-lease.js';

/** What the lifecycle is built from. */
export interface CallLifecycleDeps {
  prisma: PrismaClient;
  memory: Pick<MemoryEngine, 'transcript'>;
  queue: Pick<JobQueue, 'send'>;
  logger: Logger;
  /** A call quiet this long is ended (and consolidated) even if nobody ends it. */
  idleSeconds: number;
}

/** What a turn runs with. */
export interface CallTurn {
  /** The call as the turn found it. */
  call: Call;
  /** Whose memory the turn reads and writes. */
  scope: SessionScope;
  /** 1 for the call's first turn, counted on the call row (so across instances). */
  number: number;
}

/** The household has as many calls running as it may have at once. */
export class CallLimitError extends ConflictError {}

/** The call in messages: a text call is a conversation to the people who use one. */
function named(call: Pick<Call, 'id' | 'channel'>): string {
  return `${call.channel === 'text' ? 'Conversation' : 'Call'} ${call.id}`;
}

/** Starts calls, runs their turns one at a time, and ends them. */
export class CallLifecycle {
  readonly #prisma: PrismaClient;
  readonly #memory: Pick<MemoryEngine, 'transcript'>;
  readonly #queue: Pick<JobQueue, 'send'>;
  readonly #lease: TurnLease;
  readonly #idleSeconds: number;

  constructor(deps: CallLifecycleDeps) {
    if (!(deps.idleSeconds > 0)) throw new RangeError(`idleSeconds must be positive, got ${deps.idleSeconds}`);
    this.#prisma = deps.prisma;
    this.#memory = deps.memory;
    this.#queue = deps.queue;
    this.#lease = new TurnLease({ prisma: deps.prisma, logger: deps.logger });
    this.#idleSeconds = deps.idleSeconds;
  }

  /**
   * Starts a call of the household, with `memberId` on the line (null: an unknown caller), and
   * watches it for going quiet. `NotFoundError` when the member is not the household's. A phone
   * call is started once per Twilio CallSid: a retried webhook gets the call it already made.
   * `CallLimitError` when the household already has `maxLiveCalls` calls of the channel running.
   */
  async start(input: {
    householdId: string;
    memberId: string | null;
    channel: CallChannel;
    callerVerified: boolean;
    phone?: { callSid: string; from: string; to: string };
    maxLiveCalls?: number;
  }): Promise<Call> {
    const { householdId, memberId, phone } = input;
    const existing = phone && (await this.#prisma.call.findUnique({ where: { twilioCallSid: phone.callSid } }));
    if (existing) return existing;
    const owner = memberId
      ? await this.#prisma.member.findFirst({ where: { id: memberId, householdId }, select: { organizationId: true } })
      : await this.#prisma.household.findUnique({ where: { id: householdId }, select: { organizationId: true } });
    const missing = memberId ? `No member ${memberId} in household ${householdId}.` : `No household ${householdId}.`;
    if (!owner) throw new NotFoundError(missing);
    if (input.maxLiveCalls !== undefined) {
      // Counted, then created: two calls ringing in the same instant may both get the last place.
      const live = await this.#prisma.call.count({
        where: { householdId, channel: input.channel, status: { in: ['ringing', 'in_progress'] } },
      });
      if (live >= input.maxLiveCalls) {
        throw new CallLimitError(`Household ${householdId} already has ${live} calls running.`, {
          details: { limit: input.maxLiveCalls },
        });
      }
    }
    let call: Call;
    try {
      call = await this.#prisma.call.create({
        data: {
          organizationId: owner.organizationId,
          householdId,
          memberId,
          channel: input.channel,
          status: 'in_progress',
          callerVerified: input.callerVerified,
          ...(phone ? { twilioCallSid: phone.callSid, fromNumber: phone.from, toNumber: phone.to } : {}),
        },
      });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError) {
        // A foreign key missing now: the household (or member) was deleted since the check above.
        if (error.code === 'P2003') throw new NotFoundError(missing, { cause: error });
        // The same CallSid, started by a webhook retry that raced this one.
        const raced = phone && error.code === 'P2002';
        const first = raced && (await this.#prisma.call.findUnique({ where: { twilioCallSid: phone.callSid } }));
        if (first) return first;
      }
      throw error;
    }
    await watchIdle(this.#queue, call.id, this.#idleSeconds);
    return call;
  }

  /** Records that the caller proved to be `memberId` (a PIN on the keypad); returns the call as it now is. */
  async verifyCaller(call: Pick<Call, 'id' | 'householdId'>, memberId: string): Promise<Call> {
    const [verified] = await this.#prisma.call.updateManyAndReturn({
      where: { id: call.id, householdId: call.householdId },
      data: { memberId, callerVerified: true },
    });
    if (!verified) throw new NotFoundError(`Call ${call.id} no longer exists.`);
    return verified;
  }

  /** The household's call (of `channel`, when given); `NotFoundError` when there is none. */
  async find(input: { householdId: string; callId: string; channel?: CallChannel }): Promise<Call> {
    const { householdId, callId, channel } = input;
    const call = await this.#prisma.call.findFirst({
      where: { id: callId, householdId, ...(channel ? { channel } : {}) },
    });
    if (!call) {
      throw new NotFoundError(
        `No ${channel === 'text' ? 'conversation' : 'call'} ${callId} in household ${householdId}.`,
      );
    }
    return call;
  }

  /**
   * Runs one turn of the call with `run`, while no other turn of it can run on any instance.
   * `ConflictError` when a turn is still answering or the call has ended; `NotFoundError` when
   * the call, or its member, was deleted before or during the turn.
   */
  async turn<T>(call: Pick<Call, 'id' | 'channel'>, run: (turn: CallTurn) => Promise<T>): Promise<T> {
    const claimed = await this.#lease.claim(call.id);
    if (!claimed) throw await this.#noTurn(call);
    try {
      return await run({ call: claimed, scope: callScope(claimed), number: claimed.turns });
    } catch (error) {
      throw await this.#explain(claimed, error);
    } finally {
      await this.#lease.release(claimed.id);
    }
  }

  /**
   * Ends the call and queues its consolidation; ending it twice is harmless. The job id is null
   * when consolidation is already queued or done. `ConflictError` mid-turn: the transcript would
   * be consolidated without the reply.
   */
  async end(call: Pick<Call, 'id' | 'channel'>): Promise<{ consolidationJobId: string | null }> {
    const now = new Date();
    const [ended] = await this.#prisma.call.updateManyAndReturn({
      where: { id: call.id, status: { not: 'completed' }, ...turnFree(now) },
      data: { status: 'completed', endedAt: now },
    });
    const current = ended ?? (await this.#prisma.call.findUnique({ where: { id: call.id } }));
    if (!current) throw new NotFoundError(`${named(call)} no longer exists.`);
    if (current.status !== 'completed') {
      throw new ConflictError(`${named(call)} is still answering; end it once the reply is back.`);
    }
    const consolidationJobId = current.consolidatedAt ? null : await enqueueConsolidation(this.#queue, current.id);
    return { consolidationJobId };
  }

  /**
   * Ends the call if it has been quiet for the idle time; otherwise checks again when it would
   * be. Run by the idle job, so that a call nobody ends is still consolidated.
   */
  async endIfIdle(input: { callId: string }): Promise<'ended' | 'active' | 'gone'> {
    const call = await this.#prisma.call.findUnique({ where: { id: input.callId } });
    if (!call || call.consolidatedAt) return 'gone';
    if (call.status !== 'completed') {
      const [last] = await this.#memory.transcript({ householdId: call.householdId, callId: call.id, limit: 1 });
      const quietSeconds = (Date.now() - (last?.createdAt ?? call.startedAt).getTime()) / 1000;
      if (quietSeconds < this.#idleSeconds || answering(call)) {
        await watchIdle(this.#queue, call.id, this.#idleSeconds - quietSeconds);
        return 'active';
      }
    }
    // An ended call gets here when a crash came between ending it and queueing its consolidation.
    await this.end(call);
    return 'ended';
  }

  /**
   * A turn's failure as its channel should report it. A `HearthError` already says what went
   * wrong; a storage error usually means the turn's rows went away under it (its household or
   * member was deleted while it ran, and recall refused to write for them): then it is a 404.
   */
  async #explain(call: Call, error: unknown): Promise<unknown> {
    if (error instanceof HearthError) return error;
    let current: Pick<Call, 'memberId'> | null;
    try {
      current = await this.#prisma.call.findUnique({ where: { id: call.id }, select: { memberId: true } });
    } catch {
      return error; // the storage is down: the turn's own error says so best
    }
    if (current && current.memberId === call.memberId) return error;
    return new NotFoundError(`${named(call)} no longer exists: its household or member was deleted meanwhile.`, {
      cause: error,
    });
  }

  /** Why `claim` found no turn to take: the call is gone, has ended, or is answering. */
  async #noTurn(call: Pick<Call, 'id' | 'channel'>): Promise<Error> {
    const current = await this.#prisma.call.findUnique({ where: { id: call.id }, select: { status: true } });
    if (!current) return new NotFoundError(`${named(call)} no longer exists.`);
    if (current.status === 'completed') return new ConflictError(`${named(call)} has ended; start a new one.`);
    return new ConflictError(`${named(call)} is still answering the previous message; wait for its reply.`);
  }
}
