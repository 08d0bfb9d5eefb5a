/**
 * Years of memory in seconds: passages and recall messages written by SQL straight into the
 * tables (the full-text triggers still run), for the benches that need households at scale.
 * Writing them through the engine would take hours at these sizes and measure the writes, not
 * the reads the benches are about.
 *
 * Embeddings are synthetic but shaped like real ones: each row is one of 200 shared topics (every
 * household has medication facts, appointment facts…) plus noise, so a household's nearest
 * neighbours compete with near-identical rows of other households, as they do in production.
 */
import { type Database, Prisma } from '../src/db/index.js';
import { hashEmbedder } from './harness.js';

const TOPICS = 200;
const DIMENSIONS = 512;
/** Each of two noise vectors against a topic centre whose coordinates are uniform in [-0.5, 0.5]. */
const NOISE = 0.45;
/** Rows per INSERT: large enough to amortise a statement, small enough to keep progress moving. */
const BATCH = 5000;

const WHO = `ARRAY['Nana','Chidi','The doctor','Auntie Ngozi','The carer','Biscuit the dog','Grandad','The nurse']`;
const DID = `ARRAY['took the blood pressure tablet','went to the pharmacy for a prescription','walked in the park',
  'booked a doctor appointment','came for Sunday lunch','called about the boiler repair','lost her glasses',
  'has physiotherapy','prefers tea with milk','is allergic to penicillin','visits the GP','feeds the cat']`;
const WHEN = `ARRAY['this morning','on Tuesday','after lunch','at 9am','last weekend','before bed','yesterday','on Fridays']`;
const TAGS = `ARRAY['health','family','home','appointments','preferences']`;

/** The embedding model name the rows carry: the bench engines' hash embedder, so searches consider them. */
export const BULK_EMBEDDING_MODEL = hashEmbedder.model;

/**
 * Creates the topic centres and two pools of noise once per database. A row's vector is its topic
 * plus one noise vector from each pool (997 × 991 pairs): pgvector's own `+`, so generating 100k
 * rows costs seconds, not the minutes of drawing 512 random numbers per row in SQL.
 */
async function ensureVectors(db: Database): Promise<void> {
  const random = (rows: number, scale: number) => `
    SELECT t AS k, array_agg((random() - 0.5) * ${scale} ORDER BY d)::vector AS v
    FROM generate_series(0, ${rows - 1}) t, generate_series(1, ${DIMENSIONS}) d GROUP BY t`;
  await db.prisma.$executeRawUnsafe(`CREATE TABLE IF NOT EXISTS bench_topics AS ${random(TOPICS, 1)}`);
  await db.prisma.$executeRawUnsafe(`CREATE TABLE IF NOT EXISTS bench_noise_a AS ${random(997, NOISE)}`);
  await db.prisma.$executeRawUnsafe(`CREATE TABLE IF NOT EXISTS bench_noise_b AS ${random(991, NOISE)}`);
}

/** A row's text from its number `i`, as SQL over `generate_series(…) i`. */
const rowText = `(${WHO})[1 + i % 8] || ' ' || (${DID})[1 + (i / 8) % 12] || ' ' || (${WHEN})[1 + (i / 96) % 8] || ' (note ' || i || ').'`;
/** A row's vector, and the joins that supply it. */
const rowVector = 'c.v + a.v + b.v';
const vectorJoins = `
      JOIN bench_topics c ON c.k = (i::bigint * 7919) % ${TOPICS}
      JOIN bench_noise_a a ON a.k = i % 997
      JOIN bench_noise_b b ON b.k = (i / 997) % 991`;

/**
 * `count` passages spread round-robin over `households`, dated over the last three years.
 * `onProgress` is told the rows written so far.
 */
export async function bulkPassages(
  db: Database,
  input: { households: Array<{ organizationId: string; householdId: string }>; count: number },
  onProgress: (written: number) => void = () => {},
): Promise<void> {
  await ensureVectors(db);
  const values = input.households.map(
    (h, index) => Prisma.sql`(${index}, ${h.organizationId}::uuid, ${h.householdId}::uuid)`,
  );
  await db.prisma.$executeRawUnsafe('DROP TABLE IF EXISTS bench_households');
  await db.prisma.$executeRawUnsafe(
    'CREATE TABLE bench_households (n int PRIMARY KEY, organization_id uuid, household_id uuid)',
  );
  for (let start = 0; start < values.length; start += 1000) {
    await db.prisma.$executeRaw`INSERT INTO bench_households VALUES ${Prisma.join(values.slice(start, start + 1000))}`;
  }
  const households = input.households.length;
  for (let start = 0; start < input.count; start += BATCH) {
    const end = Math.min(input.count, start + BATCH) - 1;
    await db.prisma.$executeRawUnsafe(`
      INSERT INTO passages (id, organization_id, household_id, text, tags, embedding, embedding_model, created_at)
      SELECT gen_random_uuid(), h.organization_id, h.household_id, ${rowText},
             ARRAY[(${TAGS})[1 + i % 5]], ${rowVector}, '${BULK_EMBEDDING_MODEL}',
             now() - (i % 1095) * interval '1 day'
      FROM generate_series(${start}, ${end}) i
      JOIN bench_households h ON h.n = i % ${households}${vectorJoins}`);
    onProgress(end + 1);
  }
}

/** `count` recall messages in one household, 50 to a call, alternating caller and agent. */
export async function bulkMessages(
  db: Database,
  input: { organizationId: string; householdId: string; memberId: string; count: number },
  onProgress: (written: number) => void = () => {},
): Promise<void> {
  await ensureVectors(db);
  const { organizationId, householdId, memberId } = input;
  const calls = Math.ceil(input.count / 50);
  await db.prisma.$executeRaw`
    INSERT INTO calls (id, organization_id, household_id, member_id, channel, status, started_at, ended_at)
    SELECT gen_random_uuid(), ${organizationId}::uuid, ${householdId}::uuid, ${memberId}::uuid, 'voice', 'completed',
           now() - c * interval '1 day', now() - c * interval '1 day' + interval '5 minutes'
    FROM generate_series(1, ${calls}) c`;
  for (let start = 0; start < input.count; start += BATCH) {
    const end = Math.min(input.count, start + BATCH) - 1;
    await db.prisma.$executeRawUnsafe(`
      WITH numbered AS (
        SELECT id, row_number() OVER (ORDER BY started_at DESC) - 1 AS n, started_at
        FROM calls WHERE household_id = '${householdId}' AND status = 'completed')
      INSERT INTO messages (id, organization_id, household_id, member_id, call_id, role, content,
                            embedding, embedding_model, created_at)
      SELECT gen_random_uuid(), '${organizationId}', '${householdId}', '${memberId}', numbered.id,
             (CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END)::message_role, ${rowText},
             ${rowVector}, '${BULK_EMBEDDING_MODEL}', numbered.started_at + (i % 50) * interval '5 seconds'
      FROM generate_series(${start}, ${end}) i
      JOIN numbered ON numbered.n = i / 50${vectorJoins}`);
    onProgress(end + 1);
  }
}
