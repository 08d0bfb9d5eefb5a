/**
 * The consolidation lease: a time limit on the call row held by the worker consolidating it, so
 * two workers never run one consolidation at once, and a dead worker's lease runs out by itself.
 */
import type { PrismaClient } from '../db/index.js';
import type { Logger } from '../logger.js';

/** How long a worker holds a call; renewed at each step, so only a dead worker's lease runs out. */
const LEASE_MS = 5 * 60_000;

/** One worker's hold on one call's consolidation. */
export class ConsolidationLease {
  readonly #prisma: PrismaClient;
  readonly #callId: string;
  readonly #logger: Logger;

  constructor(options: { prisma: PrismaClient; callId: string; logger: Logger }) {
    this.#prisma = options.prisma;
    this.#callId = options.callId;
    this.#logger = options.logger;
  }

  /** Takes the lease if the call is not consolidated and nobody holds it (or their lease ran out). */
  async claim(): Promise<boolean> {
    const now = new Date();
    const claimed = await this.#prisma.call.updateMany({
      where: {
        id: this.#callId,
        consolidatedAt: null,
        OR: [{ consolidationLeaseUntil: null }, { consolidationLeaseUntil: { lt: now } }],
      },
      data: { consolidationLeaseUntil: new Date(now.getTime() + LEASE_MS) },
    });
    return claimed.count === 1;
  }

  /** Holds the lease for another full term. */
  async renew(): Promise<void> {
    await this.#prisma.call.update({
      where: { id: this.#callId },
      data: { consolidationLeaseUntil: new Date(Date.now() + LEASE_MS) },
    });
  }

  /**
   * Lets another worker take the call at once. Never throws: it runs after a failure, whose error
   * is the one to report; if it fails, the lease runs out by itself, later, so the failure is logged.
   */
  async release(): Promise<void> {
    try {
      await this.#prisma.call.updateMany({ where: { id: this.#callId }, data: { consolidationLeaseUntil: null } });
    } catch (error) {
      this.#logger.warn(
        { err: error, callId: this.#callId, leaseMs: LEASE_MS },
        'could not release the consolidation lease; another worker can take the call once it runs out',
      );
    }
  }
}
