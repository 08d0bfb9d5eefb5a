/**
 * Hybrid search, shared by recall (messages) and archival (passages): Postgres full text,
 * weighted by each word's rarity, and pgvector cosine distance, each over the same filters,
 * each scored 0–1 and combined with weights (see VECTOR_WEIGHT). Filters sit inside both
 * halves, before their LIMITs, so a household's results are never crowded out by another's. The vector half goes through the
 * HNSW index with pgvector's iterative scan (0.8+), which keeps scanning until enough rows
 * pass the filters; on a small household the planner prefers an exact scan by itself.
 */
import { Prisma, type PrismaClient } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { Embedder } from './embeddings/index.js';
import { MAX_SEARCH_DEPTH } from './limits.js';
import type { SearchRanking } from './types.js';

/**
 * The fused score is 0.6 × the vector half's (scaled 0–1 over its candidates) + 0.4 × the keyword
 * half's (the share of the query's word rarity a row matches). Measured with `npm run eval` (300
 * facts, 42 archival questions): reciprocal-rank fusion put the right fact first for 0.595
 * (vectors alone 0.762, keywords alone 0.643); this puts it first for 0.786, and a row matching
 * every rare word of the query (a name) still comes first. 0.45 and 0.5 reached 0.738.
 */
const VECTOR_WEIGHT = 0.6;
/** Rows counted for a word's rarity: enough for a household, bounded for a long history. */
const IDF_ROWS = 10_000;
const MIN_CANDIDATES = 50;
const MAX_QUERY_TERMS = 32;

/**
 * The full-text half matches ANY of the query's words (ranked by how many and how often),
 * not all of them as `plainto_tsquery`/`websearch_to_tsquery` would: models write queries
 * like "Nana tea preference", and requiring every word would miss most messages that matter.
 * Null when the query has no words. Words are letters and digits only, so the text is safe
 * `to_tsquery` syntax; Postgres stems them and drops stop words.
 */
function queryWords(query: string): string[] {
  return [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].slice(0, MAX_QUERY_TERMS);
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
  ranking?: SearchRanking | undefined;
}): Promise<{ rows: Array<Row & { score: number }>; hasMore: boolean }> {
  const { prisma, limit, page, embedder } = input;
  const offset = (page - 1) * limit;
  const candidates = Math.min(MAX_SEARCH_DEPTH, Math.max(MIN_CANDIDATES, offset + 2 * limit));
  if (offset >= candidates) return { rows: [], hasMore: false };
  const table = Prisma.raw(input.table === 'messages' ? 'messages' : 'passages');
  const ranking = input.ranking ?? 'hybrid';
  const words = ranking === 'vector' ? [] : queryWords(input.query);
  // A row's keyword score is the share of the query's information it matches: each word weighs
  // its rarity among the rows searched (BM25's idf), so a name on every other row adds little and
  // the one row with "Okonkwo-Bell" scores 1. Rows are counted up to a cap: a bounded cost.
  const fullText =
    words.length > 0
      ? Prisma.sql`
        WITH lexemes AS (SELECT DISTINCT to_tsquery('english', word) AS query FROM unnest(${words}::text[]) word),
        matches AS (
          SELECT d.id, d.created_at, lexemes.query::text AS lexeme
          FROM lexemes CROSS JOIN LATERAL (
            SELECT id, created_at FROM ${table} WHERE ${input.filters} AND search_vector @@ lexemes.query) d),
        total AS MATERIALIZED (SELECT count(*)::float8 AS n FROM (SELECT 1 FROM ${table} WHERE ${input.filters} LIMIT ${IDF_ROWS}) capped),
        weights AS (
          SELECT lexeme, ln(1 + (total.n - least(count(*), total.n) + 0.5) / (least(count(*), total.n) + 0.5)) AS idf
          FROM matches, total GROUP BY lexeme, total.n)
        SELECT matches.id, (sum(weights.idf) / (SELECT sum(idf) FROM weights))::float8 AS relevance
        FROM matches JOIN weights USING (lexeme)
        GROUP BY matches.id, matches.created_at
        ORDER BY relevance DESC, matches.created_at DESC, matches.id LIMIT ${candidates}`
      : Prisma.sql`SELECT NULL::uuid AS id, NULL::float8 AS relevance WHERE false`;
  const embedding =
    ranking === 'keyword' ? null : await embedQuery({ embedder, query: input.query, logger: input.logger });
  const vector = embedding ? `[${embedding.join(',')}]` : null;
  // MATERIALIZED: with relaxed_order the index returns rows roughly by distance; re-sorted below.
  const nearest = vector
    ? Prisma.sql`
        SELECT id, created_at, embedding <=> ${vector}::vector AS distance
        FROM ${table}
        WHERE ${input.filters} AND embedding IS NOT NULL AND embedding_model = ${embedder.model}
        ORDER BY embedding <=> ${vector}::vector LIMIT ${candidates}`
    : Prisma.sql`SELECT NULL::uuid AS id, NULL::timestamptz AS created_at, NULL::float8 AS distance WHERE false`;
  const alpha = Prisma.raw(String(VECTOR_WEIGHT));
  const search = Prisma.sql`
    WITH full_text AS (${fullText}),
    nearest AS MATERIALIZED (${nearest}),
    keyword AS (SELECT id, relevance AS score FROM full_text),
    semantic AS (
      SELECT id, coalesce((max(distance) OVER () - distance) / nullif(max(distance) OVER () - min(distance) OVER (), 0), 1) AS score
      FROM nearest),
    fused AS (
      SELECT id, (${alpha} * coalesce(semantic.score, 0) + (1 - ${alpha}) * coalesce(keyword.score, 0))::float8 AS score
      FROM keyword FULL OUTER JOIN semantic USING (id)
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
