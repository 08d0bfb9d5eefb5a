/**
 * A block's history, from its revisions: every version with its source and a diff against
 * the one before, and rollback, which writes an earlier value as a new version.
 */
import type { PrismaClient } from '../db/index.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { BlockWriter } from './block-writer.js';
import { type BlockStore, describeRef } from './blocks.js';
import { unifiedDiff } from './diff.js';
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from './limits.js';
import type { BlockHistoryInput, BlockView, RevisionView, RollbackBlockInput } from './types.js';

/** Reads revisions and rolls blocks back. */
export class BlockHistory {
  readonly #prisma: PrismaClient;
  readonly #store: BlockStore;
  readonly #writer: BlockWriter;

  constructor(options: { prisma: PrismaClient; store: BlockStore; writer: BlockWriter }) {
    this.#prisma = options.prisma;
    this.#store = options.store;
    this.#writer = options.writer;
  }

  /** Revisions newest first, `limit` at a time, older than version `before` when given. */
  async list(input: BlockHistoryInput): Promise<{ items: RevisionView[]; hasMore: boolean }> {
    const limit = input.limit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
      throw new ValidationError(`limit must be a whole number from 1 to ${MAX_HISTORY_LIMIT}.`);
    }
    const block = await this.#store.get(input);
    // One extra row: it tells whether there are more, and is the "before" of the last item's diff.
    const rows = await this.#prisma.blockRevision.findMany({
      where: { blockId: block.id, ...(input.before === undefined ? {} : { version: { lt: input.before } }) },
      orderBy: { version: 'desc' },
      take: limit + 1,
    });
    const items = rows.slice(0, limit).map((row, index): RevisionView => {
      const previous = rows[index + 1];
      return {
        version: row.version,
        value: row.value,
        diff: unifiedDiff({
          before: previous?.value ?? '',
          after: row.value,
          from: previous ? `version ${previous.version}` : 'empty',
          to: `version ${row.version}`,
        }),
        source: row.source,
        detail: row.sourceDetail,
        callId: row.callId,
        memberId: row.memberId,
        actor: row.actor,
        createdAt: row.createdAt,
      };
    });
    return { items, hasMore: rows.length > limit };
  }

  /** Writes version `toVersion`'s value as a new version (source 'rollback'). */
  async rollback(input: RollbackBlockInput): Promise<BlockView> {
    const block = await this.#store.get(input);
    const revision = await this.#prisma.blockRevision.findUnique({
      where: { blockId_version: { blockId: block.id, version: input.toVersion } },
    });
    if (!revision) {
      throw new NotFoundError(`Block ${describeRef(block)} has no version ${input.toVersion}; see its history.`);
    }
    return this.#writer.restore({
      ref: input,
      value: revision.value,
      expectedVersion: input.expectedVersion,
      withinWrite: input.withinWrite,
      source: { ...input.source, source: 'rollback', detail: input.source.detail ?? `to version ${input.toVersion}` },
    });
  }
}
