/**
 * One turn at a time per call, across every instance: a turn holds a lease on the call row (a
 * time limit, so a lease left by a crashed instance runs out by itself) and counts itself there,
 * so an instance can tell that another one answered a turn since it last did.
 */
import type { Call, Prisma, PrismaClient } from '../db/index.js';
import type { Logger } from '../logger.js';

/** Longest a turn may hold its call: every step's model budget, with room to spare. */
const TURN_LEASE_MS = 15 * 60_000;

/** The calls whose turn lease is free at `now` (never taken, released, or run out). */
export function turnFree(now: Date): Prisma.CallWhereInput {
  return { OR: [{ turnLeaseUntil: null }, { turnLeaseUntil: { lt: now } }] };
}

/** Whether a turn holds `call` now. */
export function answering(call: Pick<Call, 'turnLeaseUntil'>): boolean {
  return call.turnLeaseUntil !== null && call.turnLeaseUntil.getTime() > Date.now();
}

/** Takes and gives back the turn lease of a call. */
export class TurnLease {
  readonly #prisma: PrismaClient;
  readonly #logger: Logger;

  constructor(options: { prisma: PrismaClient; logger: Logger }) {
    this.#prisma = options.prisma;
    this.#logger = options.logger;
  }

  /**
   * Takes the lease of a call that has not ended and counts the turn: the call as it is now,
   * `turns` included; null when another turn holds it, it has ended, or it is gone.
   */
  async claim(callId: string): Promise<Call | null> {
    const now = new Date();
    const [claimed] = await this.#prisma.call.updateManyAndReturn({
      where: { id: callId, status: { not: 'completed' }, ...turnFree(now) },
      data: { turnLeaseUntil: new Date(now.getTime() + TURN_LEASE_MS), turns: { increment: 1 } },
    });
    return claimed ?? null;
  }

  /**
   * Lets the next turn in. Never throws: it runs after the turn, whose outcome is the one to
   * report; if it fails, the lease runs out by itself, later, so the failure is logged.
   */
  async release(callId: string): Promise<void> {
    try {
      // updateMany: a call deleted meanwhile has nothing to release.
      await this.#prisma.call.updateMany({ where: { id: callId }, data: { turnLeaseUntil: null } });
    } catch (error) {
      this.#logger.warn(
        { err: error, callId, leaseMs: TURN_LEASE_MS },
        'could not release the turn lease; the next turn can start once it runs out',
      );
    }
  }
}
