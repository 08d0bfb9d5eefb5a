/**
 * Archival memory: distilled long-lived facts, each with tags, an embedding and the name of
 * the model that made it. Search is hybrid (see ranking.ts); its household, member-scope,
 * tag, date and validity filters run inside the query, and only vectors of the current
 * embedder's model are compared.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Prisma, type PrismaClient } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { Embedder } from './embeddings/index.js';
import { MAX_PASSAGE_CHARS, MAX_TAG_CHARS, MAX_TAGS } from './limits.js';
import { writeUnder } from './owners.js';
import { hybridSearch } from './ranking.js';
import { checkPaging } from './recall.js';
import { nulFree, parseOrThrow } from './schemas.js';
import type { InsertPassageInput, PassageHit, PassageSearchInput, PassageView, SearchPage } from './types.js';

/** Tags are matched case-insensitively: stored trimmed and lower-case, without duplicates. */
const tagsSchema = z
  .array(nulFree().trim().toLowerCase().min(1, 'is empty').max(MAX_TAG_CHARS))
  .max(MAX_TAGS)
  .transform((tags) => [...new Set(tags)]);

/** A passage's fields as stored; errors name the field (`text: is empty`, `tags.0: is empty`). */
const passageSchema = z.object({
  text: nulFree().trim().min(1, 'is empty').max(MAX_PASSAGE_CHARS),
  tags: tagsSchema,
});

/** Which passages a search covers. */
type PassageFilter = Omit<PassageSearchInput, 'query' | 'limit' | 'page'>;

type PassageRow = Prisma.PassageModel;

function toPassageView(row: PassageRow): PassageView {
  return {
    id: row.id,
    householdId: row.householdId,
    memberId: row.memberId,
    text: row.text,
    tags: row.tags,
    embeddingModel: row.embeddingModel,
    sourceCallId: row.sourceCallId,
    createdAt: row.createdAt,
  };
}

/** Inserts, counts and searches passages. */
export class ArchivalStore {
  readonly #prisma: PrismaClient;
  readonly #embedder: Embedder;
  readonly #now: () => Date;
  readonly #logger: Logger | undefined;

  constructor(options: { prisma: PrismaClient; embedder: Embedder; now: () => Date; logger?: Logger }) {
    this.#prisma = options.prisma;
    this.#embedder = options.embedder;
    this.#now = options.now;
    this.#logger = options.logger;
  }

  /**
   * Stores a passage with its embedding. If the embedding service fails the fact is kept
   * anyway, without a vector (full-text search still finds it), rather than lost. A household,
   * member or call deleted meanwhile (the embedding takes a while) is a `NotFoundError`.
   */
  async insert(input: InsertPassageInput): Promise<PassageView> {
    const { text, tags } = parseOrThrow(passageSchema, { text: input.text, tags: input.tags ?? [] });
    const stored = input.idempotencyKey
      ? await this.#prisma.passage.findFirst({
          where: { householdId: input.householdId, idempotencyKey: input.idempotencyKey },
        })
      : null;
    if (stored) return toPassageView(stored);
    const embedding = await this.#embed(text);
    const id = randomUUID();
    const owners = { householdId: input.householdId, memberId: input.memberId, callId: input.sourceCallId };
    const [row] = await writeUnder(this.#prisma, owners, () =>
      this.#prisma.$transaction([
        this.#prisma.passage.create({
          data: {
            id,
            organizationId: input.organizationId,
            householdId: input.householdId,
            memberId: input.memberId ?? null,
            text,
            tags,
            embeddingModel: this.#embedder.model,
            sourceCallId: input.sourceCallId ?? null,
            idempotencyKey: input.idempotencyKey ?? null,
            createdAt: this.#now(),
          },
        }),
        this.#prisma.$executeRaw`UPDATE passages SET embedding = ${embedding}::vector WHERE id = ${id}::uuid`,
      ]),
    );
    return toPassageView(row);
  }

  async #embed(text: string): Promise<string | null> {
    try {
      const [embedding] = await this.#embedder.embed([text]);
      return embedding ? `[${embedding.join(',')}]` : null;
    } catch (error) {
      this.#logger?.warn({ err: error }, 'archival passage stored without an embedding');
      return null;
    }
  }

  /** Hybrid search over the filtered passages. */
  async search(input: PassageSearchInput): Promise<SearchPage<PassageHit>> {
    const { limit, page } = checkPaging(input);
    const { tags } = parseOrThrow(passageSchema.pick({ tags: true }), { tags: input.tags ?? [] });
    const { rows, hasMore } = await hybridSearch<PassageView>({
      prisma: this.#prisma,
      table: 'passages',
      columns: Prisma.sql`t.id, t.household_id AS "householdId", t.member_id AS "memberId", t.text, t.tags,
                          t.embedding_model AS "embeddingModel", t.source_call_id AS "sourceCallId",
                          t.created_at AS "createdAt"`,
      filters: this.#filters({ ...input, tags }),
      query: input.query,
      embedder: this.#embedder,
      logger: this.#logger,
      limit,
      page,
      ranking: input.ranking,
    });
    return { items: rows, page, hasMore };
  }

  /** How many current passages a member (or, with null, an unknown caller) can find; at most `cap` + 1. */
  async count(input: Pick<PassageFilter, 'householdId' | 'memberId'>, cap: number): Promise<number> {
    const now = this.#now();
    return this.#prisma.passage.count({
      take: cap + 1,
      where: {
        householdId: input.householdId,
        ...memberScope(input.memberId),
        OR: [{ invalidAt: null }, { invalidAt: { gt: now } }],
      },
    });
  }

  #filters(filter: PassageFilter): Prisma.Sql {
    const conditions = [
      Prisma.sql`household_id = ${filter.householdId}::uuid`,
      // Facts that stopped being true stay for the record but are not found.
      Prisma.sql`(invalid_at IS NULL OR invalid_at > ${this.#now()}::timestamptz)`,
    ];
    if (filter.memberId === null) conditions.push(Prisma.sql`member_id IS NULL`);
    else if (filter.memberId) {
      conditions.push(Prisma.sql`(member_id IS NULL OR member_id = ${filter.memberId}::uuid)`);
    }
    if (filter.tags && filter.tags.length > 0) {
      // && is "shares any", @> "contains all"; both use the GIN index on tags.
      const match = filter.tagMatch === 'all' ? Prisma.sql`@>` : Prisma.sql`&&`;
      conditions.push(Prisma.sql`tags ${match} ${filter.tags}::text[]`);
    }
    if (filter.start) conditions.push(Prisma.sql`created_at >= ${filter.start}::timestamptz`);
    if (filter.end) conditions.push(Prisma.sql`created_at <= ${filter.end}::timestamptz`);
    return Prisma.join(conditions, ' AND ');
  }
}

function memberScope(memberId: string | null | undefined): Prisma.PassageWhereInput {
  if (memberId === undefined) return {};
  if (memberId === null) return { memberId: null };
  return { AND: [{ OR: [{ memberId: null }, { memberId }] }] };
}
