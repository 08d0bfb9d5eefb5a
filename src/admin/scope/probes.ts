/** Memory probes of the organization's households, their runs, and the memory health reports. */
import type { MemoryProbe, Prisma, ProbeRun } from '../../db/index.js';
import { NotFoundError, UnavailableError, ValidationError } from '../../errors.js';
import {
  type HouseholdHealth,
  householdHealth,
  type OrganizationHealth,
  organizationHealth,
} from '../../health/index.js';
import {
  type ProbeCreate,
  type ProbeRunView,
  type ProbeUpdate,
  type ProbeView,
  probeExpectationProblem,
} from '../health-schemas.js';
import { type Keyset, keysetOrder, keysetPage, keysetWhere, type Page } from '../pagination.js';
import { guarded, missing, requireHousehold, requireMember } from './guards.js';
import { recordAudit } from './principal.js';
import { ScopedRepository } from './repository.js';

const missingProbe = (householdId: string, probeId: string) => `No probe ${probeId} in household ${householdId}.`;

type ProbeWithLastRun = MemoryProbe & { runs: ProbeRun[] };
const LAST_RUN = { runs: { orderBy: { createdAt: 'desc' }, take: 1 } } satisfies Prisma.MemoryProbeInclude;

function runView(run: ProbeRun): ProbeRunView {
  return {
    id: run.id,
    probeId: run.probeId,
    passed: run.passed,
    answer: run.answer,
    detail: run.detail,
    toolsUsed: run.toolsUsed,
    latencyMs: run.latencyMs,
    scheduled: run.scheduled,
    createdAt: run.createdAt.toISOString(),
  };
}

function probeView(probe: ProbeWithLastRun): ProbeView {
  const [lastRun] = probe.runs;
  return {
    id: probe.id,
    householdId: probe.householdId,
    memberId: probe.memberId,
    question: probe.question,
    kind: probe.kind,
    expectedAny: probe.expectedAny,
    expectedAll: probe.expectedAll,
    expectedPassageId: probe.expectedPassageId,
    expectedFact: probe.expectedFact,
    intervalMinutes: probe.intervalMinutes,
    nextRunAt: probe.nextRunAt.toISOString(),
    failuresInARow: probe.failureStreak,
    lastRun: lastRun ? runView(lastRun) : null,
    createdAt: probe.createdAt.toISOString(),
    updatedAt: probe.updatedAt.toISOString(),
  };
}

export class Probes extends ScopedRepository {
  async list(input: { householdId: string; limit: number; cursor?: Keyset | undefined }): Promise<Page<ProbeView>> {
    await requireHousehold(this.prisma, this.organizationId, input.householdId);
    const rows = await this.prisma.memoryProbe.findMany({
      where: {
        organizationId: this.organizationId,
        householdId: input.householdId,
        ...keysetWhere('createdAt', input.cursor, 'asc'),
      },
      include: LAST_RUN,
      orderBy: keysetOrder('createdAt', 'asc'),
      take: input.limit + 1,
    });
    const page = keysetPage(rows, input.limit, (row) => row.createdAt);
    return { data: page.data.map(probeView), nextCursor: page.nextCursor };
  }

  async get(input: { householdId: string; probeId: string }): Promise<ProbeView> {
    return probeView(await this.#find(input));
  }

  /** A new probe; its first run is due at once (the next sweep, within a minute). */
  async create(input: { householdId: string; probe: ProbeCreate }): Promise<ProbeView> {
    const { householdId, probe } = input;
    await this.#checkTargets(householdId, probe);
    const row = await this.prisma.$transaction(async (tx) => {
      const created = await tx.memoryProbe.create({
        data: { ...probe, organizationId: this.organizationId, householdId, nextRunAt: new Date() },
        include: LAST_RUN,
      });
      await recordAudit(tx, this.principal, {
        action: 'memory_probe.create',
        resourceType: 'memory_probe',
        resourceId: created.id,
      });
      return created;
    });
    return probeView(row);
  }

  async update(input: { householdId: string; probeId: string; changes: ProbeUpdate }): Promise<ProbeView> {
    const { householdId, probeId, changes } = input;
    const current = await this.#find(input);
    const next = { ...current, ...changes };
    const problem = probeExpectationProblem(next);
    if (problem) throw new ValidationError(`Invalid probe: ${problem}.`);
    await this.#checkTargets(householdId, changes);
    const row = await this.prisma.$transaction(async (tx) => {
      const updated = await guarded(
        () =>
          tx.memoryProbe.update({
            where: { id: probeId, organizationId: this.organizationId, householdId },
            data: changes,
            include: LAST_RUN,
          }),
        { notFound: missingProbe(householdId, probeId) },
      );
      await recordAudit(tx, this.principal, {
        action: 'memory_probe.update',
        resourceType: 'memory_probe',
        resourceId: probeId,
      });
      return updated;
    });
    return probeView(row);
  }

  async delete(input: { householdId: string; probeId: string }): Promise<void> {
    const { householdId, probeId } = input;
    await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.memoryProbe.deleteMany({
        where: { id: probeId, organizationId: this.organizationId, householdId },
      });
      if (count === 0) throw new NotFoundError(missingProbe(householdId, probeId));
      await recordAudit(tx, this.principal, {
        action: 'memory_probe.delete',
        resourceType: 'memory_probe',
        resourceId: probeId,
      });
    });
  }

  /** Runs the probe now and returns the run (stored like a scheduled one, marked as not scheduled). */
  async run(input: { householdId: string; probeId: string }): Promise<ProbeRunView> {
    const probe = await this.#find(input);
    if (!this.health) {
      throw new UnavailableError('Probes run where the job queue runs; this server was started without it.');
    }
    return runView(await this.health.runNow(probe));
  }

  async runs(input: {
    householdId: string;
    probeId: string;
    limit: number;
    cursor?: Keyset | undefined;
  }): Promise<Page<ProbeRunView>> {
    await this.#find(input);
    const rows = await this.prisma.probeRun.findMany({
      where: {
        organizationId: this.organizationId,
        probeId: input.probeId,
        ...keysetWhere('createdAt', input.cursor, 'desc'),
      },
      orderBy: keysetOrder('createdAt', 'desc'),
      take: input.limit + 1,
    });
    const page = keysetPage(rows, input.limit, (row) => row.createdAt);
    return { data: page.data.map(runView), nextCursor: page.nextCursor };
  }

  async householdReport(input: { householdId: string }): Promise<HouseholdHealth> {
    await requireHousehold(this.prisma, this.organizationId, input.householdId);
    return householdHealth(this.prisma, { householdId: input.householdId, now: new Date() });
  }

  organizationReport(): Promise<OrganizationHealth> {
    return organizationHealth(this.prisma, { organizationId: this.organizationId, now: new Date() });
  }

  async #find(input: { householdId: string; probeId: string }): Promise<ProbeWithLastRun> {
    const probe = await this.prisma.memoryProbe.findFirst({
      where: { id: input.probeId, householdId: input.householdId, organizationId: this.organizationId },
      include: LAST_RUN,
    });
    if (!probe) throw new NotFoundError(missingProbe(input.householdId, input.probeId));
    return probe;
  }

  /** The member asked as, and the expected passage, must be the household's. */
  async #checkTargets(householdId: string, probe: Partial<Pick<ProbeCreate, 'memberId' | 'expectedPassageId'>>) {
    await requireHousehold(this.prisma, this.organizationId, householdId);
    if (probe.memberId) await requireMember(this.prisma, this.organizationId, householdId, probe.memberId);
    if (probe.expectedPassageId) {
      const passage = await this.prisma.passage.findFirst({
        where: { id: probe.expectedPassageId, householdId, organizationId: this.organizationId },
        select: { id: true },
      });
      if (!passage) throw new NotFoundError(missing.passage(householdId, probe.expectedPassageId));
    }
  }
}
