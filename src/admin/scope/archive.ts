/**
 * Archival passages and recall search of one organization's households. Inserting and
 * searching go through the memory engine (embeddings, hybrid ranking); listing and deleting
 * are plain scoped queries.
 */

import { NotFoundError } from '../../errors.js';
import type { MemoryEngine } from '../../memory/index.js';
import type {
  PassageCreate,
  PassageHitOut,
  PassageListQuery,
  PassageOut,
  PassageSearchQuery,
  RecallHitOut,
  RecallQuery,
} from '../memory-schemas.js';
import { keysetOrder, keysetPage, keysetWhere, nextPageCursor, type Page } from '../pagination.js';
import { missing, requireHousehold, requireMember } from './guards.js';
import { recordAudit } from './principal.js';
import { ScopedRepository } from './repository.js';

type PassageView = Awaited<ReturnType<MemoryEngine['insertPassage']>>;
type RecallHit = Awaited<ReturnType<MemoryEngine['searchRecall']>>['items'][number];

const PASSAGE_COLUMNS = {
  id: true,
  householdId: true,
  memberId: true,
  text: true,
  tags: true,
  embeddingModel: true,
  sourceCallId: true,
  createdAt: true,
} as const;

function passageView(passage: PassageView): PassageOut {
  return {
    id: passage.id,
    householdId: passage.householdId,
    memberId: passage.memberId ?? null,
    text: passage.text,
    tags: passage.tags,
    embeddingModel: passage.embeddingModel,
    sourceCallId: passage.sourceCallId ?? null,
    createdAt: passage.createdAt.toISOString(),
  };
}

function recallView(hit: RecallHit): RecallHitOut {
  return {
    id: hit.id,
    callId: hit.callId ?? null,
    memberId: hit.memberId ?? null,
    role: hit.role,
    content: hit.content,
    createdAt: hit.createdAt.toISOString(),
    score: hit.score,
  };
}

function timeRange(from: Date | undefined, to: Date | undefined) {
  return { ...(from ? { start: from } : {}), ...(to ? { end: to } : {}) };
}

/** Passages and recall of the principal's organization's households. */
export class Archive extends ScopedRepository {
  /** A page of passages, oldest first, filtered by member, tags (any of them) and creation time. */
  async listPassages(input: { householdId: string } & PassageListQuery): Promise<Page<PassageOut>> {
    const { householdId, memberId, tags, from, to, limit, cursor } = input;
    await this.#require(householdId, memberId);
    const rows = await this.prisma.passage.findMany({
      select: PASSAGE_COLUMNS,
      where: {
        organizationId: this.organizationId,
        householdId,
        ...(memberId ? { memberId } : {}),
        ...(tags ? { tags: { hasSome: tags } } : {}),
        createdAt: { ...(from ? { gte: from } : {}), ...(to ? { lt: to } : {}) },
        ...keysetWhere('createdAt', cursor, 'asc'),
      },
      orderBy: keysetOrder('createdAt', 'asc'),
      take: limit + 1,
    });
    const page = keysetPage(rows, limit, (row) => row.createdAt);
    return { data: page.data.map(passageView), nextCursor: page.nextCursor };
  }

  /** Hybrid (full-text + vector) search, ranked exactly as the agent's archival search. */
  async searchPassages(
    input: { householdId: string; tagMatch?: 'any' | 'all' } & PassageSearchQuery,
  ): Promise<Page<PassageHitOut>> {
    const { householdId, memberId, q, tags, tagMatch, from, to, limit, cursor } = input;
    await this.#require(householdId, memberId);
    const result = await this.memory.searchPassages({
      householdId,
      ...(memberId ? { memberId } : {}),
      query: q,
      ...(tags ? { tags } : {}),
      ...(tagMatch ? { tagMatch } : {}),
      ...timeRange(from, to),
      limit,
      page: cursor ?? 1,
    });
    return {
      data: result.items.map((hit) => ({ ...passageView(hit), score: hit.score })),
      nextCursor: nextPageCursor(result.page, result.hasMore),
    };
  }

  /** Stores a fact with its embedding, as the agent's `archival_memory_insert` would. */
  async createPassage(input: { householdId: string; passage: PassageCreate }): Promise<PassageOut> {
    const { householdId, passage } = input;
    await this.#require(householdId, passage.memberId);
    const created = await this.memory
      .insertPassage({
        organizationId: this.organizationId,
        householdId,
        memberId: passage.memberId ?? null,
        text: passage.text,
        tags: passage.tags ?? [],
      })
      .catch(async (error: unknown) => {
        // Deleted while the passage was embedded: checked again, it is the 404 the first check would give.
        if (error instanceof NotFoundError) await this.#require(householdId, passage.memberId);
        throw error;
      });
    await recordAudit(this.prisma, this.principal, {
      action: 'passage.create',
      resourceType: 'passage',
      resourceId: created.id,
      details: { householdId },
    });
    return passageView(created);
  }

  /** Deletes a passage for good. */
  async deletePassage(input: { householdId: string; passageId: string }): Promise<void> {
    const { householdId, passageId } = input;
    await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.passage.deleteMany({
        where: { id: passageId, householdId, organizationId: this.organizationId },
      });
      if (count === 0) throw new NotFoundError(missing.passage(householdId, passageId));
      await recordAudit(tx, this.principal, {
        action: 'passage.delete',
        resourceType: 'passage',
        resourceId: passageId,
        details: { householdId },
      });
    });
  }

  /** Searches every call of the household (or one member's), ranked like the agent's `conversation_search`. */
  async searchRecall(input: { householdId: string } & RecallQuery): Promise<Page<RecallHitOut>> {
    const { householdId, memberId, q, roles, from, to, limit, cursor } = input;
    await this.#require(householdId, memberId);
    const result = await this.memory.searchRecall({
      householdId,
      memberId: memberId ?? null,
      query: q,
      ...(roles ? { roles } : {}),
      ...timeRange(from, to),
      limit,
      page: cursor ?? 1,
    });
    return { data: result.items.map(recallView), nextCursor: nextPageCursor(result.page, result.hasMore) };
  }

  async #require(householdId: string, memberId: string | undefined): Promise<void> {
    if (memberId) await requireMember(this.prisma, this.organizationId, householdId, memberId);
    else await requireHousehold(this.prisma, this.organizationId, householdId);
  }
}
