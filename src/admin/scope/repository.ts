/** What every organization-scoped repository is built from, so each states only what it adds. */
import type { EscalationDesk } from '../../escalation/index.js';
import type { MemoryHealth } from '../../health/index.js';
import type { MemoryEngine } from '../../memory/index.js';
import type { Db, Principal } from './principal.js';

/** The Prisma client, the memory engine and who is acting: one per request, shared by its repositories. */
export interface ScopeOptions {
  prisma: Db;
  memory: MemoryEngine;
  principal: Principal;
  /**
   * The escalation desk, when the job queue runs here: it queues the webhooks a change writes
   * (without it they wait for the next start) and holds the server's secret key.
   */
  escalation?:
    | Pick<EscalationDesk, 'box' | 'dispatchWebhooks' | 'announceAcknowledgement' | 'replayDelivery'>
    | undefined;
  /** Runs memory probes on demand, when the job queue runs here. */
  health?: Pick<MemoryHealth, 'runNow'> | undefined;
}

/** The base of the scoped repositories: their client, engine, principal and the organization they serve. */
export abstract class ScopedRepository {
  readonly #prisma: Db;
  readonly #memory: MemoryEngine;
  readonly #principal: Principal;
  readonly #escalation: ScopeOptions['escalation'];
  readonly #health: ScopeOptions['health'];

  constructor(options: ScopeOptions) {
    this.#prisma = options.prisma;
    this.#memory = options.memory;
    this.#principal = options.principal;
    this.#escalation = options.escalation;
    this.#health = options.health;
  }

  protected get health(): ScopeOptions['health'] {
    return this.#health;
  }

  protected get escalation(): ScopeOptions['escalation'] {
    return this.#escalation;
  }

  protected get prisma(): Db {
    return this.#prisma;
  }

  protected get memory(): MemoryEngine {
    return this.#memory;
  }

  protected get principal(): Principal {
    return this.#principal;
  }

  /** Every query of a repository carries this organization id. */
  protected get organizationId(): string {
    return this.#principal.organizationId;
  }
}
