/**
 * Archival search at scale: passages spread over 1,000 households, searched within one household
 * as every call does. The vector half runs exactly as the engine's ranking runs it (HNSW with
 * `hnsw.ef_search` = 50 candidates and iterative scan), and is checked against an exact scan of
 * the same household: recall@10 is the share of the exact top 10 it finds. Then the engine's
 * whole hybrid search (`searchPassages`: full text + vectors, fused) at the same size.
 *
 * 10k and 100k on PGlite; 1M on a real Postgres when BENCH_DATABASE_URL is given (a database is
 * created there for the run and dropped after).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { applyMigrations, type Database, openDatabase } from '../src/db/index.js';
import { createMemoryEngine } from '../src/memory/index.js';
import { BULK_EMBEDDING_MODEL, bulkPassages } from './bulk.js';
import { type BenchResult, hashEmbedder, measure, progress, quantile, type Row, silent } from './harness.js';

const HOUSEHOLDS = 1000;
const CANDIDATES = 50;
const QUERIES = 200;
const SEARCH_WORDS = ['blood pressure tablet', 'pharmacy prescription', 'physiotherapy Tuesday', 'boiler repair'];

interface Size {
  passages: number;
  engine: 'pglite' | 'postgres';
}

export async function archivalScaleBench(options: { sizes?: number[] } = {}): Promise<BenchResult> {
  const sizes: Size[] = (options.sizes ?? [10_000, 100_000]).map((passages) => ({ passages, engine: 'pglite' }));
  if (process.env.BENCH_DATABASE_URL) sizes.push({ passages: 1_000_000, engine: 'postgres' });
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const size of sizes) {
    const result = await benchSize(size);
    rows.push(...result.rows);
    notes.push(...result.notes);
  }
  if (!process.env.BENCH_DATABASE_URL)
    notes.push('archival at 1M: skipped (set BENCH_DATABASE_URL to a Postgres with pgvector)');
  return { rows, notes };
}

async function benchSize(size: Size): Promise<BenchResult> {
  const label = `${size.passages >= 1_000_000 ? `${size.passages / 1_000_000}M` : `${size.passages / 1000}k`} passages, ${size.engine}`;
  const { db, drop } = await openScratch(size.engine);
  try {
    const seeded = performance.now();
    const households = await seedHouseholds(db);
    // Built after the rows, as a restore or a backfill would: faster than growing it row by row.
    await db.prisma.$executeRawUnsafe('DROP INDEX passages_embedding_hnsw_idx');
    await bulkPassages(db, { households, count: size.passages }, (written) => {
      if (written % 50_000 === 0 || written === size.passages) progress(`archival ${label}: ${written} rows written`);
    });
    progress(`archival ${label}: building the HNSW index`);
    await db.prisma.$transaction([
      db.prisma.$executeRawUnsafe("SET LOCAL maintenance_work_mem = '1GB'"),
      db.prisma.$executeRawUnsafe(
        'CREATE INDEX passages_embedding_hnsw_idx ON passages USING hnsw (embedding vector_cosine_ops)',
      ),
    ]);
    await db.prisma.$executeRawUnsafe('ANALYZE');
    const seedSeconds = (performance.now() - seeded) / 1000;
    progress(`archival ${label}: seeded and indexed in ${seedSeconds.toFixed(0)} s; ${QUERIES} queries`);

    // Each query: a household's stored passage, moved by fresh noise (a paraphrase, not the row itself).
    const queries = await db.prisma.$queryRawUnsafe<Array<{ householdId: string; vector: string }>>(`
      SELECT p.household_id::text AS "householdId", (p.embedding + a.v)::text AS vector
      FROM (SELECT household_id, embedding FROM passages ORDER BY random() LIMIT ${QUERIES}) p
      CROSS JOIN LATERAL (SELECT v FROM bench_noise_a ORDER BY random() LIMIT 1) a`);
    const query = (index: number) => queries[index % queries.length]!;
    const indexed = (index: number) => nearest(db, query(index), 'index');
    const exact = (index: number) => nearest(db, query(index), 'exact');

    let found = 0;
    let possible = 0;
    for (let index = 0; index < queries.length; index++) {
      const [approximate, truth] = await Promise.all([indexed(index), exact(index)]);
      const expected = new Set(truth);
      found += approximate.filter((id) => expected.has(id)).length;
      possible += truth.length;
    }
    const recall = found / possible;
    const plan = await planOf(db, query(0));

    const vectorTiming = await measure({ warmup: 10, iterations: QUERIES, op: indexed });
    const exactTiming = await measure({ warmup: 10, iterations: QUERIES, op: exact });
    const memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder, logger: silent });
    const hybridTiming = await measure({
      warmup: 10,
      iterations: QUERIES,
      op: (index) =>
        memory.searchPassages({
          householdId: query(index).householdId,
          query: SEARCH_WORDS[index % SEARCH_WORDS.length]!,
          limit: 10,
        }),
    });
    await memory.close();
    return {
      rows: [
        { name: `archival vector top-10, ${label} (exact scan)`, subject: vectorTiming, baseline: exactTiming },
        { name: `searchPassages hybrid, ${label} (vector top-10)`, subject: hybridTiming, baseline: vectorTiming },
      ],
      notes: [
        `archival ${label} over ${HOUSEHOLDS} households: recall@10 ${recall.toFixed(3)} against an exact scan; ` +
          `vector p95 ${quantile(vectorTiming, 0.95).toFixed(1)} ms, hybrid p95 ${quantile(hybridTiming, 0.95).toFixed(1)} ms; ` +
          `plan: ${plan}; seeded in ${seedSeconds.toFixed(0)} s`,
      ],
    };
  } finally {
    await db.close();
    await drop();
  }
}

/** The household's nearest passages: through the index as the engine asks, or by an exact scan. */
async function nearest(db: Database, query: { householdId: string; vector: string }, how: 'index' | 'exact') {
  const { prisma } = db;
  if (how === 'exact') {
    // OFFSET 0 keeps the distances in a subquery the planner cannot serve from the index.
    const rows = await prisma.$queryRawUnsafe<Array<{ id: string }>>(
      `SELECT id FROM (SELECT id, embedding <=> $1::vector AS distance FROM passages
         WHERE household_id = $2::uuid AND embedding IS NOT NULL OFFSET 0) s
       ORDER BY distance LIMIT 10`,
      query.vector,
      query.householdId,
    );
    return rows.map((row) => row.id);
  }
  const [, rows] = await prisma.$transaction([
    prisma.$queryRaw`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),
                            set_config('hnsw.ef_search', ${String(CANDIDATES)}, true)`,
    prisma.$queryRawUnsafe<Array<{ id: string }>>(
      `SELECT id FROM (SELECT id, embedding <=> $1::vector AS distance FROM passages
         WHERE household_id = $2::uuid AND embedding IS NOT NULL AND embedding_model = $3
         ORDER BY embedding <=> $1::vector LIMIT ${CANDIDATES}) nearest
       ORDER BY distance LIMIT 10`,
      query.vector,
      query.householdId,
      BULK_EMBEDDING_MODEL,
    ),
  ]);
  return rows.map((row) => row.id);
}

/** Which index the planner serves the household's nearest-neighbour query from. */
async function planOf(db: Database, query: { householdId: string; vector: string }): Promise<string> {
  const lines = await db.prisma.$queryRawUnsafe<Array<{ 'QUERY PLAN': string }>>(
    `EXPLAIN SELECT id FROM passages WHERE household_id = $2::uuid AND embedding IS NOT NULL AND embedding_model = $3
     ORDER BY embedding <=> $1::vector LIMIT ${CANDIDATES}`,
    query.vector,
    query.householdId,
    BULK_EMBEDDING_MODEL,
  );
  const text = lines.map((line) => line['QUERY PLAN']).join('\n');
  if (text.includes('passages_embedding_hnsw_idx')) return 'the HNSW index';
  const btree = /Index (?:Only )?Scan (?:using|on) (\w+)/.exec(text)?.[1];
  if (btree) return `the household's rows by ${btree}, then sorted by distance (exact)`;
  return 'a sequential scan';
}

async function seedHouseholds(db: Database) {
  const { id: organizationId } = await db.prisma.organization.create({ data: { name: 'Bench care' } });
  const households = Array.from({ length: HOUSEHOLDS }, () => ({ organizationId, householdId: randomUUID() }));
  await db.prisma.household.createMany({
    data: households.map(({ householdId }, index) => ({ id: householdId, organizationId, name: `Household ${index}` })),
  });
  return households;
}

/** A fresh migrated database: PGlite in memory, or a new database on BENCH_DATABASE_URL's server. */
async function openScratch(engine: 'pglite' | 'postgres'): Promise<{ db: Database; drop: () => Promise<void> }> {
  if (engine === 'pglite') {
    const db = await openDatabase({ kind: 'pglite' });
    await applyMigrations(db);
    return { db, drop: async () => {} };
  }
  const serverUrl = process.env.BENCH_DATABASE_URL!;
  const name = `hearth_bench_${randomUUID().replaceAll('-', '')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase({ kind: 'postgres', url: url.toString() });
  await applyMigrations(db);
  return { db, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
