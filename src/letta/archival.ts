/**
 * Letta's archival memory is the household's: passages are stored and searched by the memory
 * engine (embeddings, hybrid ranking) through the admin API's organization scope, and listed
 * with Letta's id cursors.
 */
import type { Scope } from '../admin/index.js';
import type { PrismaClient } from '../db/index.js';
import { EMBEDDING_DIMENSIONS } from '../memory/index.js';
import { cursorOf, lettaId, pageOf } from './wire.js';

type Passage = { id: string; householdId: string; text: string; tags: string[]; createdAt: Date | string };

/** A passage as Letta's client reads it. */
function passageView(passage: Passage, embedding: { model: string }) {
  return {
    id: lettaId('passage', passage.id),
    text: passage.text,
    tags: passage.tags,
    created_at: new Date(passage.createdAt).toISOString(),
    agent_id: lettaId('agent', passage.householdId),
    archive_id: null,
    embedding: null,
    embedding_config: { embedding_model: embedding.model, embedding_dim: EMBEDDING_DIMENSIONS },
    metadata: {},
  };
}

/** An agent's passages. */
export class LettaArchival {
  readonly #prisma: PrismaClient;
  readonly #scope: Scope;
  readonly #embedding: { model: string };

  constructor(deps: { prisma: PrismaClient; embedding: { model: string } }, scope: Scope) {
    this.#prisma = deps.prisma;
    this.#scope = scope;
    this.#embedding = deps.embedding;
  }

  /** Stores a passage for the whole household; Letta answers with a list. */
  async create(input: { householdId: string; text: string; tags?: string[] | undefined }) {
    const passage = await this.#scope.archive.createPassage({
      householdId: input.householdId,
      passage: { text: input.text, ...(input.tags ? { tags: input.tags } : {}) },
    });
    return [passageView(passage, this.#embedding)];
  }

  /** Passages by time, after or before one, optionally those whose text contains `search`. */
  async list(input: {
    householdId: string;
    after?: string | undefined;
    before?: string | undefined;
    limit: number;
    ascending: boolean;
    search?: string | undefined;
  }) {
    const organizationId = this.#scope.principal.organizationId;
    await this.#scope.households.get({ householdId: input.householdId });
    const owned = { organizationId, householdId: input.householdId };
    const query = { ...input, order: input.ascending ? ('asc' as const) : ('desc' as const) };
    const cursor = await cursorOf(
      query,
      (id) => this.#prisma.passage.findFirst({ where: { ...owned, id }, select: { id: true, createdAt: true } }),
      'passage',
    );
    const page = pageOf(query, cursor);
    const found = await this.#prisma.passage.findMany({
      where: {
        ...owned,
        ...(input.search ? { text: { contains: input.search, mode: 'insensitive' as const } } : {}),
        ...page.where,
      },
      orderBy: page.orderBy,
      take: page.take,
      select: { id: true, householdId: true, text: true, tags: true, createdAt: true },
    });
    const rows = page.arrange(found);
    return rows.map((row) => passageView(row, this.#embedding));
  }

  /** The top `topK` passages for `query`, ranked as the agent's own archival search ranks them. */
  async search(input: {
    householdId: string;
    query: string;
    tags?: string[] | undefined;
    tagMatch: 'any' | 'all';
    topK: number;
    start?: Date | undefined;
    end?: Date | undefined;
  }) {
    const page = await this.#scope.archive.searchPassages({
      householdId: input.householdId,
      q: input.query,
      ...(input.tags ? { tags: input.tags, tagMatch: input.tagMatch } : {}),
      ...(input.start ? { from: input.start } : {}),
      ...(input.end ? { to: input.end } : {}),
      limit: input.topK,
    });
    const results = page.data.map((hit) => ({
      id: lettaId('passage', hit.id),
      content: hit.text,
      timestamp: hit.createdAt,
      tags: hit.tags,
    }));
    return { count: results.length, results };
  }

  /** Deletes a passage for good. */
  async delete(input: { householdId: string; passageId: string }): Promise<void> {
    await this.#scope.archive.deletePassage(input);
  }
}
