/**
 * The memory health report an operator reads: how full each block is and how fast it grows, what
 * archival memory holds by tag and month, likely duplicate passages, the last consolidation, and
 * how the probes have done. Every query is bounded by one household (or, for the summary, one
 * organization).
 */
import { Prisma, type PrismaClient } from '../db/index.js';

/** How far back growth and the probe pass rate look. */
export const HEALTH_WINDOW_DAYS = 30;
/** A block this full (of its character limit) is flagged. */
export const FULL_BLOCK_RATIO = 0.9;
/** Cosine distance under which two passages count as likely duplicates. */
export const DUPLICATE_DISTANCE = 0.02;
/** Newest passages compared for duplicates (each against its nearest neighbour). */
const DUPLICATE_SCAN = 2000;
const MAX_DUPLICATES = 50;
const DAY_MS = 86_400_000;

export interface BlockHealth {
  blockId: string;
  label: string;
  memberId: string | null;
  chars: number;
  charLimit: number;
  /** chars / charLimit, 0–1. */
  fill: number;
  /** Characters added (negative: removed) over the window. */
  growth30d: number;
}

export interface HouseholdHealth {
  householdId: string;
  generatedAt: string;
  blocks: BlockHealth[];
  archival: {
    total: number;
    /** Passages per month (YYYY-MM) and tag; a passage with two tags counts under both, none under "(untagged)". */
    byMonthAndTag: Array<{ month: string; tag: string; count: number }>;
    likelyDuplicates: Array<{ passageIds: [string, string]; texts: [string, string]; distance: number }>;
  };
  lastConsolidation: {
    callId: string;
    endedAt: string | null;
    status: 'consolidated' | 'pending' | 'failed';
    consolidatedAt: string | null;
    summary: string | null;
    error: string | null;
  } | null;
  probes: {
    total: number;
    /** Per day with runs, oldest first. */
    passRateByDay: Array<{ day: string; runs: number; passed: number; passRate: number }>;
    failing: Array<{
      probeId: string;
      question: string;
      failuresInARow: number;
      lastRunAt: string;
      lastAnswer: string;
      detail: string | null;
    }>;
  };
}

export interface OrganizationHealth {
  generatedAt: string;
  households: Array<{
    householdId: string;
    name: string;
    failingProbes: number;
    fullBlocks: Array<{ label: string; memberId: string | null; fill: number }>;
  }>;
}

/** One household's report; the caller has checked that the household is in its organization. */
export async function householdHealth(
  prisma: PrismaClient,
  input: { householdId: string; now: Date },
): Promise<HouseholdHealth> {
  const { householdId, now } = input;
  const since = new Date(now.getTime() - HEALTH_WINDOW_DAYS * DAY_MS);
  const [blocks, before, archival, duplicates, consolidation, probes] = await Promise.all([
    // The household's own blocks and those attached to it (shared with other households).
    prisma.memoryBlock.findMany({
      where: { OR: [{ householdId }, { attachments: { some: { householdId } } }] },
      select: { id: true, label: true, memberId: true, value: true, charLimit: true },
      orderBy: [{ memberId: { sort: 'asc', nulls: 'first' } }, { label: 'asc' }],
    }),
    prisma.$queryRaw<Array<{ blockId: string; chars: number }>>`
      SELECT DISTINCT ON (block_id) block_id::text AS "blockId", length(value) AS chars
      FROM block_revisions
      WHERE (household_id = ${householdId}::uuid
             OR block_id IN (SELECT block_id FROM block_attachments WHERE household_id = ${householdId}::uuid))
        AND created_at <= ${since}
      ORDER BY block_id, version DESC`,
    prisma.$queryRaw<Array<{ month: string; tag: string; count: number }>>`
      SELECT to_char(date_trunc('month', p.created_at), 'YYYY-MM') AS month,
             coalesce(tag, '(untagged)') AS tag, count(*)::int AS count
      FROM passages p LEFT JOIN LATERAL unnest(p.tags) tag ON true
      WHERE p.household_id = ${householdId}::uuid
      GROUP BY 1, 2 ORDER BY 1, 2`,
    likelyDuplicates(prisma, householdId),
    lastConsolidation(prisma, householdId),
    probeHealth(prisma, householdId, since),
  ]);
  const earlier = new Map(before.map((row) => [row.blockId, row.chars]));
  const total = await prisma.passage.count({ where: { householdId } });
  return {
    householdId,
    generatedAt: now.toISOString(),
    blocks: blocks.map((block) => ({
      blockId: block.id,
      label: block.label,
      memberId: block.memberId,
      chars: block.value.length,
      charLimit: block.charLimit,
      fill: round(block.value.length / block.charLimit),
      growth30d: block.value.length - (earlier.get(block.id) ?? 0),
    })),
    archival: { total, byMonthAndTag: archival, likelyDuplicates: duplicates },
    lastConsolidation: consolidation,
    probes,
  };
}

/** Pairs of near-identical passages: each of the newest passages against its nearest later-id neighbour. */
async function likelyDuplicates(prisma: PrismaClient, householdId: string) {
  const rows = await prisma.$queryRaw<Array<{ a: string; b: string; aText: string; bText: string; distance: number }>>`
    SELECT a.id::text AS a, b.id::text AS b, a.text AS "aText", b.text AS "bText",
           (a.embedding <=> b.embedding)::float8 AS distance
    FROM (SELECT id, text, embedding, embedding_model FROM passages
          WHERE household_id = ${householdId}::uuid AND embedding IS NOT NULL
          ORDER BY created_at DESC LIMIT ${DUPLICATE_SCAN}) a
    CROSS JOIN LATERAL (
      SELECT id, text, embedding FROM passages b
      WHERE b.household_id = ${householdId}::uuid AND b.id > a.id AND b.embedding IS NOT NULL
        AND b.embedding_model = a.embedding_model
      ORDER BY b.embedding <=> a.embedding LIMIT 1) b
    WHERE (a.embedding <=> b.embedding) < ${DUPLICATE_DISTANCE}::float8
    ORDER BY distance, a.id LIMIT ${MAX_DUPLICATES}`;
  return rows.map((row) => ({
    passageIds: [row.a, row.b] as [string, string],
    texts: [row.aText, row.bText] as [string, string],
    distance: round(row.distance),
  }));
}

/** The newest ended call and what became of its consolidation job. */
async function lastConsolidation(
  prisma: PrismaClient,
  householdId: string,
): Promise<HouseholdHealth['lastConsolidation']> {
  const call = await prisma.call.findFirst({
    where: { householdId, status: 'completed' },
    orderBy: [{ endedAt: { sort: 'desc', nulls: 'last' } }, { startedAt: 'desc' }],
    select: { id: true, endedAt: true, consolidatedAt: true, summary: true },
  });
  if (!call) return null;
  const base = {
    callId: call.id,
    endedAt: call.endedAt?.toISOString() ?? null,
    consolidatedAt: call.consolidatedAt?.toISOString() ?? null,
    summary: call.summary,
  };
  if (call.consolidatedAt) return { ...base, status: 'consolidated', error: null };
  // The job's own state: failed after its last retry, or still to run.
  const [job] = await prisma.$queryRaw<Array<{ state: string; error: string | null }>>`
    SELECT state::text AS state, output->>'message' AS error FROM pgboss.job
    WHERE name = 'consolidate-call' AND data->>'callId' = ${call.id}
    ORDER BY created_on DESC LIMIT 1`.catch(() => []);
  return job?.state === 'failed'
    ? { ...base, status: 'failed', error: job.error }
    : { ...base, status: 'pending', error: null };
}

async function probeHealth(prisma: PrismaClient, householdId: string, since: Date): Promise<HouseholdHealth['probes']> {
  const [total, byDay, failing] = await Promise.all([
    prisma.memoryProbe.count({ where: { householdId } }),
    prisma.$queryRaw<Array<{ day: string; runs: number; passed: number }>>`
      SELECT to_char(date_trunc('day', created_at), 'YYYY-MM-DD') AS day, count(*)::int AS runs,
             (count(*) FILTER (WHERE passed))::int AS passed
      FROM probe_runs WHERE household_id = ${householdId}::uuid AND created_at >= ${since}
      GROUP BY 1 ORDER BY 1`,
    latestFailures(prisma, Prisma.sql`r.household_id = ${householdId}::uuid`),
  ]);
  return {
    total,
    passRateByDay: byDay.map((row) => ({ ...row, passRate: round(row.passed / row.runs) })),
    failing: failing.map((row) => ({
      probeId: row.probeId,
      question: row.question,
      failuresInARow: row.failuresInARow,
      lastRunAt: row.lastRunAt.toISOString(),
      lastAnswer: row.lastAnswer,
      detail: row.detail,
    })),
  };
}

/** Probes whose latest run failed, under `where` (on the runs, aliased `r`). */
function latestFailures(prisma: PrismaClient, where: Prisma.Sql) {
  return prisma.$queryRaw<
    Array<{
      probeId: string;
      householdId: string;
      question: string;
      failuresInARow: number;
      lastRunAt: Date;
      lastAnswer: string;
      detail: string | null;
    }>
  >`
    SELECT latest.probe_id::text AS "probeId", latest.household_id::text AS "householdId", p.question,
           p.failure_streak AS "failuresInARow", latest.created_at AS "lastRunAt",
           latest.answer AS "lastAnswer", latest.detail
    FROM (SELECT DISTINCT ON (r.probe_id) r.* FROM probe_runs r WHERE ${where}
          ORDER BY r.probe_id, r.created_at DESC) latest
    JOIN memory_probes p ON p.id = latest.probe_id
    WHERE NOT latest.passed
    ORDER BY latest.created_at DESC`;
}

/** The organization's households whose probes fail or whose blocks are over 90 % full. */
export async function organizationHealth(
  prisma: PrismaClient,
  input: { organizationId: string; now: Date },
): Promise<OrganizationHealth> {
  const { organizationId } = input;
  const [failing, full] = await Promise.all([
    latestFailures(prisma, Prisma.sql`r.organization_id = ${organizationId}::uuid`),
    // A full block counts for each household that sees it: its own, and those it is attached to.
    prisma.$queryRaw<Array<{ householdId: string; label: string; memberId: string | null; fill: number }>>`
      SELECT seen.household_id::text AS "householdId", b.label, b.member_id::text AS "memberId",
             (length(b.value)::float8 / b.char_limit) AS fill
      FROM memory_blocks b
      JOIN LATERAL (
        SELECT b.household_id WHERE b.household_id IS NOT NULL
        UNION ALL
        SELECT a.household_id FROM block_attachments a WHERE a.block_id = b.id
      ) seen ON true
      WHERE b.organization_id = ${organizationId}::uuid AND length(b.value) > ${FULL_BLOCK_RATIO}::float8 * b.char_limit
      ORDER BY seen.household_id, b.label`,
  ]);
  const flagged = [...new Set([...failing.map((row) => row.householdId), ...full.map((row) => row.householdId)])];
  const households = await prisma.household.findMany({
    where: { organizationId, id: { in: flagged } },
    select: { id: true, name: true },
    orderBy: { name: 'asc' },
  });
  return {
    generatedAt: input.now.toISOString(),
    households: households.map((household) => ({
      householdId: household.id,
      name: household.name,
      failingProbes: failing.filter((row) => row.householdId === household.id).length,
      fullBlocks: full
        .filter((row) => row.householdId === household.id)
        .map((row) => ({ label: row.label, memberId: row.memberId, fill: round(row.fill) })),
    })),
  };
}

const round = (value: number) => Math.round(value * 1000) / 1000;
