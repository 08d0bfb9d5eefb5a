/**
 * Recall memory: every turn and tool call, written as it happens, and found again by hybrid
 * search. `append` writes the row and returns; the embedding follows in the background, so a
 * slow or failing embedding service never costs a turn (until it lands, or if it fails, the
 * message is still found by full-text search).
 */
import { z } from 'zod';
import { Prisma, type PrismaClient } from '../db/index.js';
import { ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Embedder } from './embeddings/index.js';
import { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, MAX_TRANSCRIPT_MESSAGES } from './limits.js';
import { writeUnder } from './owners.js';
import { hybridSearch } from './ranking.js';
import { NUL_REFUSAL, stripNullBytes, stripNullBytesDeep } from './schemas.js';
import type {
  AppendMessageInput,
  MessageRoleName,
  RecallHit,
  RecallSearchInput,
  SearchPage,
  SearchRequest,
  TranscriptInput,
  TranscriptMessage,
} from './types.js';

/** Tool results and system notes are long and repetitive; only what people said is embedded. */
const EMBEDDED_ROLES: ReadonlySet<MessageRoleName> = new Set(['user', 'assistant']);

/** Which messages a search or count covers. */
type RecallFilter = Omit<RecallSearchInput, 'query' | 'limit' | 'page'>;

/** Checks a page request; shared by recall and archival. */
export function checkPaging(input: SearchRequest) {
  const limit = input.limit ?? DEFAULT_SEARCH_LIMIT;
  const page = input.page ?? 1;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw new ValidationError(`limit must be a whole number from 1 to ${MAX_SEARCH_LIMIT}.`);
  }
  if (!Number.isInteger(page) || page < 1) throw new ValidationError('page must be a whole number from 1.');
  if (input.start && input.end && input.start > input.end) throw new ValidationError('start is after end.');
  if (input.query.includes('\u0000')) throw new ValidationError(`The search query ${NUL_REFUSAL}.`);
  if (input.query.trim() === '') throw new ValidationError('The search query is empty.');
  return { limit, page };
}

/** Writes, counts and searches recall messages. */
export class RecallStore {
  readonly #prisma: PrismaClient;
  readonly #embedder: Embedder;
  readonly #now: () => Date;
  readonly #logger: Logger | undefined;
  /** Embeddings started by `append` and not finished yet. */
  readonly #pending = new Set<Promise<void>>();

  constructor(options: { prisma: PrismaClient; embedder: Embedder; now: () => Date; logger?: Logger }) {
    this.#prisma = options.prisma;
    this.#embedder = options.embedder;
    this.#now = options.now;
    this.#logger = options.logger;
  }

  /**
   * Stores one message and returns; a user or assistant turn's embedding follows in the background.
   * A household, member or call deleted meanwhile is a `NotFoundError`.
   */
  async append(input: AppendMessageInput): Promise<{ id: string; createdAt: Date }> {
    const { scope } = input;
    const toolArgs = input.toolArgs == null ? undefined : z.json().safeParse(input.toolArgs);
    if (toolArgs && !toolArgs.success) throw new ValidationError('toolArgs must be JSON-serializable.');
    const content = stripNullBytes(input.content);
    const textOrNull = (text: string | undefined) => (text === undefined ? null : stripNullBytes(text));
    const owners = { householdId: scope.householdId, memberId: scope.memberId, callId: scope.callId };
    const message = await writeUnder(this.#prisma, owners, () =>
      this.#prisma.message.create({
        data: {
          ...(input.id ? { id: input.id } : {}),
          organizationId: scope.organizationId,
          householdId: scope.householdId,
          memberId: scope.memberId,
          callId: scope.callId,
          role: input.role,
          content,
          toolName: textOrNull(input.toolName),
          toolCallId: textOrNull(input.toolCallId),
          // Validated as JSON just above; null was mapped to "absent". jsonb rejects \u0000 as text does.
          ...(toolArgs ? { toolArgs: stripNullBytesDeep(toolArgs.data) as Prisma.InputJsonValue } : {}),
          createdAt: this.#now(),
        },
        select: { id: true, createdAt: true },
      }),
    );
    if (EMBEDDED_ROLES.has(input.role) && content.trim() !== '') this.#track(this.#embed(message.id, content));
    return message;
  }

  /** Resolves once every embedding started so far has been written or has failed. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  #track(task: Promise<void>): void {
    this.#pending.add(task);
    void task.finally(() => this.#pending.delete(task));
  }

  /** Never rejects: a message without an embedding is still found by full-text search. */
  async #embed(messageId: string, content: string): Promise<void> {
    try {
      const [embedding] = await this.#embedder.embed([content]);
      await this.#prisma.$executeRaw`
        UPDATE messages SET embedding = ${`[${embedding!.join(',')}]`}::vector, embedding_model = ${this.#embedder.model}
        WHERE id = ${messageId}::uuid`;
    } catch (error) {
      this.#logger?.warn({ err: error, messageId }, 'recall message stored without an embedding');
    }
  }

  /** Hybrid search over the filtered messages, newest first among equal scores. */
  async search(input: RecallSearchInput): Promise<SearchPage<RecallHit>> {
    const { limit, page } = checkPaging(input);
    const { rows, hasMore } = await hybridSearch<Omit<RecallHit, 'score'>>({
      prisma: this.#prisma,
      table: 'messages',
      columns: Prisma.sql`t.id, t.call_id AS "callId", t.member_id AS "memberId", t.role::text AS role, t.content,
                          t.created_at AS "createdAt"`,
      filters: recallFilters(input),
      query: input.query,
      embedder: this.#embedder,
      logger: this.#logger,
      limit,
      page,
      ranking: input.ranking,
    });
    return { items: rows, page, hasMore };
  }

  /** A call's messages, oldest first; past `limit`, the latest ones. */
  async transcript(input: TranscriptInput): Promise<TranscriptMessage[]> {
    const limit = input.limit ?? MAX_TRANSCRIPT_MESSAGES;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TRANSCRIPT_MESSAGES) {
      throw new ValidationError(`limit must be a whole number from 1 to ${MAX_TRANSCRIPT_MESSAGES}.`);
    }
    const newestFirst = await this.#prisma.message.findMany({
      where: {
        householdId: input.householdId,
        callId: input.callId,
        ...(input.roles ? { role: { in: input.roles } } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
      select: { id: true, role: true, content: true, memberId: true, toolName: true, toolArgs: true, createdAt: true },
    });
    return newestFirst.reverse();
  }

  /** How many messages match the filter, except those of `exceptCallId` (the call in progress); at most `cap` + 1. */
  async count(
    input: Pick<RecallFilter, 'householdId' | 'memberId' | 'callId'> & { exceptCallId?: string | null },
    cap: number,
  ): Promise<number> {
    return this.#prisma.message.count({
      take: cap + 1,
      where: {
        householdId: input.householdId,
        ...(input.memberId ? { memberId: input.memberId } : {}),
        ...(input.callId ? { callId: input.callId } : {}),
        ...(input.exceptCallId ? { OR: [{ callId: null }, { callId: { not: input.exceptCallId } }] } : {}),
      },
    });
  }
}

function recallFilters(filter: RecallFilter): Prisma.Sql {
  const conditions = [Prisma.sql`household_id = ${filter.householdId}::uuid`];
  if (filter.memberId) conditions.push(Prisma.sql`member_id = ${filter.memberId}::uuid`);
  if (filter.callId) conditions.push(Prisma.sql`call_id = ${filter.callId}::uuid`);
  // Compared as the enum, not as text: the planner then knows from the column's statistics that
  // most rows match, and keeps the HNSW index (as text it guessed 1 %, and scanned every vector:
  // 0.5 s at 50k messages; npm run bench -- household).
  if (filter.roles && filter.roles.length > 0) {
    conditions.push(Prisma.sql`role = ANY(${filter.roles}::text[]::message_role[])`);
  }
  if (filter.start) conditions.push(Prisma.sql`created_at >= ${filter.start}::timestamptz`);
  if (filter.end) conditions.push(Prisma.sql`created_at <= ${filter.end}::timestamptz`);
  return Prisma.join(conditions, ' AND ');
}
