/**
 * Core-memory blocks as operators edit them. Every read and write goes through the memory
 * engine (compare-and-swap on version, a revision per change, a change event for live calls);
 * this layer only checks that the household and member are the organization's, and audits.
 */
import type { MemoryEngine, WithinWrite } from '../../memory/index.js';
import type { BlockCreate, BlockOut, BlockUpdate, RevisionOut } from '../memory-schemas.js';
import { type Keyset, nextVersionCursor, type Page, pageInMemory } from '../pagination.js';
import { requireHousehold, requireMember } from './guards.js';
import { actorOf, recordAudit } from './principal.js';
import { ScopedRepository } from './repository.js';

/** Whose blocks: the household's shared ones (memberId null) or one member's. */
export interface BlockOwner {
  householdId: string;
  memberId: string | null;
}

type BlockView = Awaited<ReturnType<MemoryEngine['getBlock']>>;
type RevisionView = Awaited<ReturnType<MemoryEngine['blockHistory']>>['items'][number];

function blockView(block: BlockView): BlockOut {
  return {
    id: block.id,
    householdId: block.householdId,
    memberId: block.memberId,
    label: block.label,
    value: block.value,
    description: block.description,
    charLimit: block.charLimit,
    readOnly: block.readOnly,
    private: block.private,
    version: block.version,
    createdAt: block.createdAt.toISOString(),
    updatedAt: block.updatedAt.toISOString(),
  };
}

function revisionView(revision: RevisionView): RevisionOut {
  return {
    version: revision.version,
    value: revision.value,
    diff: revision.diff,
    source: revision.source,
    detail: revision.detail ?? null,
    callId: revision.callId ?? null,
    memberId: revision.memberId ?? null,
    actor: revision.actor ?? null,
    createdAt: revision.createdAt.toISOString(),
  };
}

/** Blocks of the principal's organization's households and members. */
export class Blocks extends ScopedRepository {
  /** A page of the owner's blocks, oldest first. */
  async list(input: { owner: BlockOwner; limit: number; cursor?: Keyset | undefined }): Promise<Page<BlockOut>> {
    const owner = await this.#require(input.owner);
    const blocks = await this.memory.listBlocks(owner);
    return pageInMemory(blocks.map(blockView), {
      limit: input.limit,
      cursor: input.cursor,
      keyOf: (block) => new Date(block.createdAt),
    });
  }

  /** One block by label. */
  async get(input: { owner: BlockOwner; label: string }): Promise<BlockOut> {
    const owner = await this.#require(input.owner);
    return blockView(await this.memory.getBlock({ ...owner, label: input.label }));
  }

  /** Creates a block; `ConflictError` when the label is taken. */
  async create(input: { owner: BlockOwner; block: BlockCreate }): Promise<BlockOut> {
    const owner = await this.#require(input.owner);
    const block = await this.memory.createBlock({
      ...owner,
      ...input.block,
      organizationId: this.organizationId,
      source: this.#source('block.create'),
      withinWrite: this.#audit('block.create'),
    });
    return blockView(block);
  }

  /** Applies `changes` if the block is still at `expectedVersion`; else `PreconditionFailedError`. */
  async update(input: {
    owner: BlockOwner;
    label: string;
    expectedVersion: number;
    changes: BlockUpdate;
  }): Promise<BlockOut> {
    const owner = await this.#require(input.owner);
    const block = await this.memory.updateBlock({
      ...owner,
      label: input.label,
      expectedVersion: input.expectedVersion,
      changes: input.changes,
      source: this.#source('block.update'),
      withinWrite: this.#audit('block.update', { fields: Object.keys(input.changes) }),
    });
    return blockView(block);
  }

  /** Deletes a block; the default blocks (persona, household, caller) refuse with `ConflictError`. */
  async delete(input: { owner: BlockOwner; label: string }): Promise<void> {
    const owner = await this.#require(input.owner);
    await this.memory.deleteBlock({ ...owner, label: input.label, withinWrite: this.#audit('block.delete') });
  }

  /** Revisions, newest first, `limit` at a time, older than version `before`. */
  async history(input: {
    owner: BlockOwner;
    label: string;
    limit: number;
    before: number | undefined;
  }): Promise<Page<RevisionOut>> {
    const owner = await this.#require(input.owner);
    const { items, hasMore } = await this.memory.blockHistory({
      ...owner,
      label: input.label,
      limit: input.limit,
      ...(input.before === undefined ? {} : { before: input.before }),
    });
    return { data: items.map(revisionView), nextCursor: nextVersionCursor(items.at(-1)?.version, hasMore) };
  }

  /** Restores the value of `toVersion` as a new revision (source `rollback`). */
  async rollback(input: {
    owner: BlockOwner;
    label: string;
    toVersion: number;
    expectedVersion: number | undefined;
  }): Promise<BlockOut> {
    const owner = await this.#require(input.owner);
    const block = await this.memory.rollbackBlock({
      ...owner,
      label: input.label,
      toVersion: input.toVersion,
      ...(input.expectedVersion === undefined ? {} : { expectedVersion: input.expectedVersion }),
      source: this.#source('block.rollback', 'rollback'),
      withinWrite: this.#audit('block.rollback', { toVersion: input.toVersion }),
    });
    return blockView(block);
  }

  async #require(owner: BlockOwner): Promise<BlockOwner> {
    const { organizationId } = this.principal;
    if (owner.memberId) await requireMember(this.prisma, organizationId, owner.householdId, owner.memberId);
    else await requireHousehold(this.prisma, organizationId, owner.householdId);
    return { householdId: owner.householdId, memberId: owner.memberId };
  }

  #source(detail: string, source: 'admin' | 'rollback' = 'admin') {
    return { source, detail, actor: actorOf(this.principal) };
  }

  /** The audit row of a block write, written in the engine's transaction so it commits with the change. */
  #audit(action: string, details: Record<string, unknown> = {}): WithinWrite {
    return (tx, block) =>
      recordAudit(tx, this.principal, {
        action,
        resourceType: 'block',
        resourceId: block.id,
        details: { householdId: block.householdId, memberId: block.memberId, label: block.label, ...details },
      });
  }
}
