/**
 * Core-memory blocks as operators edit them. Every read and write goes through the memory
 * engine (compare-and-swap on version, a revision per change, a change event for live calls);
 * this layer only checks that the household and member are the organization's, and audits.
 */
import type { MemoryEngine, WithinWrite } from '../../memory/index.js';
import type { BlockCreate, BlockOut, BlockUpdate, RevisionOut } from '../memory-schemas.js';
import { type Direction, type Keyset, nextVersionCursor, type Page, pageInMemory } from '../pagination.js';
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

  /** One block by label, or undefined. */
  async find(input: { owner: BlockOwner; label: string }): Promise<BlockOut | undefined> {
    const owner = await this.#require(input.owner);
    const blocks = await this.memory.listBlocks(owner);
    const block = blocks.find((candidate) => candidate.label === input.label);
    return block && blockView(block);
  }

  /** One block of the organization by id: a household's, a member's or a standalone one. */
  async byId(input: { blockId: string }): Promise<BlockOut> {
    return blockView(await this.memory.getBlock(this.#byId(input.blockId)));
  }

  /**
   * A page of the organization's blocks that are not a member's (households' shared ones and
   * standalone ones), by creation, after or before the block named (Letta's cursors).
   */
  async listOrganization(input: {
    label?: string | undefined;
    limit: number;
    order: Direction;
    after?: string | undefined;
    before?: string | undefined;
  }): Promise<BlockOut[]> {
    const cursorId = input.before ?? input.after;
    const cursor = cursorId === undefined ? undefined : await this.memory.getBlock(this.#byId(cursorId));
    // A page before the cursor is read nearest-first, then put back in the list's order.
    const backwards = input.before !== undefined;
    const blocks = await this.memory.listOrganizationBlocks({
      organizationId: this.organizationId,
      ...(input.label === undefined ? {} : { label: input.label }),
      limit: input.limit,
      order: backwards === (input.order === 'asc') ? 'desc' : 'asc',
      ...(cursor ? { after: { createdAt: cursor.createdAt, id: cursor.id } } : {}),
    });
    return (backwards ? blocks.reverse() : blocks).map(blockView);
  }

  /** For each block of the organization named, the households that see it: its own first, then those it is attached to. */
  async households(input: { blockIds: string[] }): Promise<Map<string, string[]>> {
    return this.memory.blockHouseholds({ organizationId: this.organizationId, blockIds: input.blockIds });
  }

  /** Creates a block of the organization that belongs to no household until attached to one. */
  async createStandalone(input: { block: BlockCreate }): Promise<BlockOut> {
    const block = await this.memory.createBlock({
      ...input.block,
      organizationId: this.organizationId,
      householdId: null,
      memberId: null,
      source: this.#source('block.create'),
      withinWrite: this.#audit('block.create'),
    });
    return blockView(block);
  }

  /** Changes a block found by id; the last writer wins. */
  async updateById(input: { blockId: string; changes: BlockUpdate }): Promise<BlockOut> {
    const block = await this.memory.updateBlock({
      ...this.#byId(input.blockId),
      changes: input.changes,
      source: this.#source('block.update'),
      withinWrite: this.#audit('block.update', { fields: Object.keys(input.changes) }),
    });
    return blockView(block);
  }

  /** Deletes a block found by id, from every household it is attached to. */
  async deleteById(input: { blockId: string }): Promise<void> {
    await this.memory.deleteBlock({ ...this.#byId(input.blockId), withinWrite: this.#audit('block.delete') });
  }

  /** Shows a shared or standalone block to the household too: an edit to it shows in both. */
  async attach(input: { householdId: string; blockId: string }): Promise<BlockOut> {
    const block = await this.memory.attachBlock({
      organizationId: this.organizationId,
      ...input,
      withinWrite: this.#audit('block.attach', { attachedTo: input.householdId }),
    });
    return blockView(block);
  }

  /** Stops showing an attached block to the household. */
  async detach(input: { householdId: string; blockId: string }): Promise<void> {
    await this.memory.detachBlock({
      organizationId: this.organizationId,
      ...input,
      withinWrite: this.#audit('block.detach', { detachedFrom: input.householdId }),
    });
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

  /**
   * Applies `changes` if the block is still at `expectedVersion` (else `PreconditionFailedError`);
   * without it, to whatever version is current.
   */
  async update(input: {
    owner: BlockOwner;
    label: string;
    expectedVersion?: number | undefined;
    changes: BlockUpdate;
  }): Promise<BlockOut> {
    const owner = await this.#require(input.owner);
    const block = await this.memory.updateBlock({
      ...owner,
      label: input.label,
      ...(input.expectedVersion === undefined ? {} : { expectedVersion: input.expectedVersion }),
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

  #byId(blockId: string) {
    return { organizationId: this.organizationId, blockId };
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
