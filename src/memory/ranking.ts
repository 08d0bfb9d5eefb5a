/**
 * Hybrid search, shared by recall (messages) and archival (passages): Postgres full-text rank
 * and pgvector cosine distance, each over the same filters, fused by reciprocal rank
 * (score = Σ 1 / (60 + rank)). Filters sit inside both halves, before their LIMITs, so a
 * household's results are never crowded out by another's. The vector half goes through the
 * HNSW index with pgvector's iterative scan (0.8+), which keeps scanning until enough rows
 * pass the filters; on a small household the planner prefers an exact scan by itself.
 */
import { Prisma, type PrismaClient } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { Embedder } from './embeddings/index.js';
import { MAX_SEARCH_DEPTH } from './limits.js';

/** The reciprocal-rank-fusion constant from Cormack et al., also Letta's and most hybrid searches'. */
const RRF_K = 60;
const MIN_CANDIDATES = 50;
const MAX_QUERY_TERMS = 32;

/**
 * The full-text half matches ANY of the query's words (ranked by how many and how often),
 * not all of them as `plainto_tsquery`/`websearch_to_tsquery` would: models write queries
 * like "Nana tea preference", and requiring every word would miss most messages that matter.
 * Null when the query has no words. Words are letters and digits only, so the text is safe
 * `to_tsquery` syntax; Postgres stems them and drops stop words.
 */
function anyWordQuery(query: string): string | null {
  const words = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].slice(0, MAX_QUERY_TERMS);
  return words.length > 0 ? words.join(' | ') : null;
}

/** Where a hybrid search runs: a table with `search_vector`, `embedding`, `embedding_model`, `created_at`. */
type HybridTable = 'messages' | 'passages';

/**
 * Runs the fused search and returns one page (1-based) of rows, each with its `score`.
 * `columns` selects from the table aliased `t`; `filters` is a boolean SQL condition.
 */
export async function hybridSearch<Row>(input: {
  prisma: PrismaClient;
  table: HybridTable;
  columns: Prisma.Sql;
  filters: Prisma.Sql;
  query: string;
  /** Its model's vectors are the only ones compared; without it, full-text only. */
  embedder: Embedder;
  logger: Logger | undefined;
  limit: number;
  page: number;
}): Promise<{ rows: Array<Row & { score: number }>; hasMore: boolean }> {
  const { prisma, limit, page, embedder } = input;
  const offset = (page - 1) * limit;
  const candidates = Math.min(MAX_SEARCH_DEPTH, Math.max(MIN_CANDIDATES, offset + 2 * limit));
  if (offset >= candidates) return { rows: [], hasMore: false };
  const table = Prisma.raw(input.table === 'messages' ? 'messages' : 'passages');
  const terms = anyWordQuery(input.query);
  const fullText = terms
    ? Prisma.sql`
        SELECT id, row_number() OVER (ORDER BY ts_rank(search_vector, q.query) DESC, created_at DESC, id) AS rank
        FROM ${table}, (SELECT to_tsquery('english', ${terms}) AS query) q
        WHERE ${input.filters} AND search_vector @@ q.query
        ORDER BY rank LIMIT ${candidates}`
    : Prisma.sql`SELECT NULL::uuid AS id, NULL::bigint AS rank WHERE false`;
  const embedding = await embedQuery({ embedder, query: input.query, logger: input.logger });
  const vector = embedding ? `[${embedding.join(',')}]` : null;
  // MATERIALIZED: with relaxed_order the index returns rows roughly by distance; re-sorted below.
  const nearest = vector
    ? Prisma.sql`
        SELECT id, created_at, embedding <=> ${vector}::vector AS distance
        FROM ${table}
        WHERE ${input.filters} AND embedding IS NOT NULL AND embedding_model = ${embedder.model}
        ORDER BY embedding <=> ${vector}::vector LIMIT ${candidates}`
    : Prisma.sql`SELECT NULL::uuid AS id, NULL::timestamptz AS created_at, NULL::float8 AS distance WHERE false`;
  const k = Prisma.raw(String(RRF_K));
  const search = Prisma.sql`
    WITH full_text AS (${fullText}),
    nearest AS MATERIALIZED (${nearest}),
    semantic AS (SELECT id, row_number() OVER (ORDER BY distance, created_at DESC, id) AS rank FROM nearest),
    fused AS (
      SELECT id, (coalesce(1.0 / (${k} + full_text.rank), 0) + coalesce(1.0 / (${k} + semantic.rank), 0))::float8 AS score
      FROM full_text FULL OUTER JOIN semantic USING (id)
    )
    SELECT ${input.columns}, fused.score
    FROM fused JOIN ${table} t USING (id)
    ORDER BY fused.score DESC, t.created_at DESC, t.id
    LIMIT ${limit + 1} OFFSET ${offset}`;
  const [, rows] = await prisma.$transaction([
    // Both settings are LOCAL to this transaction.
    prisma.$queryRaw`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),
                            set_config('hnsw.ef_search', ${String(candidates)}, true)`,
    prisma.$queryRaw<Array<Row & { score: number }>>(search),
  ]);
  return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
}

/** The query's embedding, or null, so that a failing embedding service leaves full-text search working. */
async function embedQuery(input: { embedder: Embedder; query: string; logger: Logger | undefined }) {
  try {
    const [embedding] = await input.embedder.embed([input.query]);
    return embedding ?? null;
  } catch (error) {
    input.logger?.warn({ err: error }, 'memory search fell back to full-text only');
    return null;
  }
}
