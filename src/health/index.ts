/**
 * Memory health (DESIGN.md §4): probes that prove a household's memory still answers, run on a
 * schedule by a durable job, and the report an operator reads.
 *
 * @example
 * const health = createMemoryHealth({ prisma, memory, provider, queue, logger, maxSteps, dispatchWebhooks });
 * await health.registerJobs();
 * await health.sweep(); // queues every probe that is due (the server does this every minute)
 * const run = await health.runNow(probe);
 */
import { z } from 'zod';
import type { MemoryProbe, ProbeRun } from '../db/index.js';
import type { JobQueue } from '../jobs/index.js';
import { ProbeRunner, type ProbeRunnerDeps } from './probes.js';
import { type HouseholdHealth, householdHealth, type OrganizationHealth, organizationHealth } from './report.js';

export { ALERT_AFTER_FAILURES, missingPhrases, RETRIEVAL_TOP_K } from './probes.js';
export {
  type BlockHealth,
  DUPLICATE_DISTANCE,
  FULL_BLOCK_RATIO,
  HEALTH_WINDOW_DAYS,
  type HouseholdHealth,
  householdHealth,
  type OrganizationHealth,
  organizationHealth,
} from './report.js';

export const PROBE_JOB = 'memory-probe';
/** How often the server looks for due probes. */
export const PROBE_SWEEP_MS = 60_000;

const probeJobSchema = z.object({ probeId: z.uuid() });

export interface MemoryHealthDeps extends ProbeRunnerDeps {
  queue: JobQueue;
  now?: () => Date;
}

export class MemoryHealth {
  readonly #deps: MemoryHealthDeps;
  readonly #runner: ProbeRunner;
  readonly #now: () => Date;

  constructor(deps: MemoryHealthDeps) {
    this.#deps = deps;
    this.#runner = new ProbeRunner(deps);
    this.#now = deps.now ?? (() => new Date());
  }

  /** Whether answer probes can run (a model is configured); retrieval probes always can. */
  get answersEnabled(): boolean {
    return this.#runner.answersEnabled;
  }

  /** Declares and works the probe job; call once the queue is started. */
  registerJobs(): Promise<void> {
    return this.#deps.queue.register({
      name: PROBE_JOB,
      schema: probeJobSchema,
      policy: 'exclusive',
      retryLimit: 2,
      handler: (job) => this.#runScheduled(job.data.probeId),
    });
  }

  /**
   * Claims every due probe (moving its next run one interval on, in one conditional write, so
   * two instances never claim the same run) and queues a run of each. Returns how many.
   */
  async sweep(): Promise<number> {
    const now = this.#now();
    const due = await this.#deps.prisma.$queryRaw<Array<{ id: string }>>`
      UPDATE memory_probes SET next_run_at = ${now}::timestamptz + interval_minutes * interval '1 minute'
      WHERE next_run_at <= ${now} RETURNING id::text AS id`;
    for (const { id } of due) await this.#deps.queue.send({ name: PROBE_JOB, data: { probeId: id }, singletonKey: id });
    return due.length;
  }

  /** Runs a probe now, for an operator; `UnavailableError` for an answer probe without a model. */
  runNow(probe: MemoryProbe): Promise<ProbeRun> {
    return this.#runner.run(probe, { scheduled: false });
  }

  /** The household's report; the caller has checked that it is in its organization. */
  report(householdId: string): Promise<HouseholdHealth> {
    return householdHealth(this.#deps.prisma, { householdId, now: this.#now() });
  }

  /** The organization's households that need a look. */
  organization(organizationId: string): Promise<OrganizationHealth> {
    return organizationHealth(this.#deps.prisma, { organizationId, now: this.#now() });
  }

  async #runScheduled(probeId: string): Promise<void> {
    const probe = await this.#deps.prisma.memoryProbe.findUnique({ where: { id: probeId } });
    if (!probe) return; // deleted since it was queued
    if (probe.kind === 'answer' && !this.answersEnabled) {
      this.#deps.logger.debug({ probeId }, 'answer probe skipped: no model configured');
      return;
    }
    await this.#runner.run(probe, { scheduled: true });
  }
}

export function createMemoryHealth(deps: MemoryHealthDeps): MemoryHealth {
  return new MemoryHealth(deps);
}
