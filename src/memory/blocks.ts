/**
 * Core-memory blocks: reading, creating and deleting them, who may see which (a household sees
 * its own blocks and those attached to it), and the stable order they are rendered in. Writes
 * to existing blocks go through `BlockWriter`; attachments through `BlockAttachments`.
 */
import { Prisma, type PrismaClient } from '../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import {
  attachedTo,
  changesOf,
  clashKind,
  type Db,
  findClash,
  householdsSeeing,
  isById,
  isUuid,
  lockHousehold,
  publishChanges,
} from './block-scope.js';
import {
  CALLER_BLOCK,
  DEFAULT_LABELS,
  HOUSEHOLD_BLOCK,
  HOUSEHOLD_DEFAULT_BLOCKS,
  type OwnerKind,
  PERSONA_BLOCK,
} from './defaults.js';
import type { MemoryEvents } from './events.js';
import { DEFAULT_BLOCK_CHAR_LIMIT } from './limits.js';
import { blockCreateSchema, parseOrThrow } from './schemas.js';
import type {
  BlockRef,
  BlockTarget,
  BlockView,
  CreateBlockInput,
  DeleteBlockInput,
  HouseholdDefaultsInput,
  MemberDefaultsInput,
  RevisionSourceInput,
  SessionScope,
} from './types.js';

type BlockRow = Prisma.MemoryBlockModel;

function ownerKindOf(memberId: string | null): OwnerKind {
  return memberId === null ? 'shared' : 'member';
}

/** Shared blocks have owner key ''; Postgres treats NULLs as distinct in unique indexes. */
export function ownerKeyOf(memberId: string | null): string {
  return memberId ?? '';
}

/** The engine's view of a block row. */
export function toBlockView(row: BlockRow): BlockView {
  return {
    id: row.id,
    householdId: row.householdId,
    memberId: row.memberId,
    label: row.label,
    value: row.value,
    description: row.description,
    charLimit: row.charLimit,
    readOnly: row.readOnly,
    private: row.private,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Whether a caller may see a block: shared blocks and their own member blocks, never another
 * member's; private blocks only once the caller is a verified member.
 */
export function isVisibleTo(block: Pick<BlockView, 'memberId' | 'private'>, scope: SessionScope): boolean {
  if (block.memberId !== null && block.memberId !== scope.memberId) return false;
  return !block.private || (scope.callerVerified && scope.memberId !== null);
}

const LEADING_LABELS = [PERSONA_BLOCK.label, HOUSEHOLD_BLOCK.label, CALLER_BLOCK.label];

/** Shared before member blocks; persona, household, caller first; then by label (and member). Stable, for prompt caching. */
function compareBlocks(a: BlockView, b: BlockView): number {
  const owner = Number(a.memberId !== null) - Number(b.memberId !== null);
  if (owner !== 0) return owner;
  const rank = (label: string) => {
    const index = LEADING_LABELS.indexOf(label);
    return index === -1 ? LEADING_LABELS.length : index;
  };
  return (
    rank(a.label) - rank(b.label) || compareText(a.label, b.label) || compareText(a.memberId ?? '', b.memberId ?? '')
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Describes a block for messages: `"household"` or `"caller" of member …`. */
export function describeRef(ref: Pick<BlockRef, 'memberId' | 'label'>): string {
  return ref.memberId === null ? `"${ref.label}"` : `"${ref.label}" of member ${ref.memberId}`;
}

/** The 404 for a block that does not exist. */
export function blockNotFound(target: BlockTarget): NotFoundError {
  if (isById(target)) return new NotFoundError(`No block ${target.blockId} in this organization.`);
  return new NotFoundError(`No block ${describeRef(target)} in household ${target.householdId}.`);
}

/** Reads, creates and deletes blocks; publishes a change for each create and delete. */
export class BlockStore {
  readonly #prisma: PrismaClient;
  readonly #events: MemoryEvents;
  readonly #now: () => Date;

  constructor(options: { prisma: PrismaClient; events: MemoryEvents; now: () => Date }) {
    this.#prisma = options.prisma;
    this.#events = options.events;
    this.#now = options.now;
  }

  /**
   * `memberId` undefined: every block of the household; null: shared ones; an id: that
   * member's. Blocks attached to the household count as shared.
   */
  async list(input: { householdId: string; memberId?: string | null }): Promise<BlockView[]> {
    const { householdId, memberId } = input;
    const rows = await this.#prisma.memoryBlock.findMany({
      where:
        memberId === undefined
          ? { OR: [{ householdId }, attachedTo(householdId)] }
          : memberId === null
            ? { OR: [{ householdId, ownerKey: '' }, attachedTo(householdId)] }
            : { householdId, ownerKey: memberId },
    });
    return rows.map(toBlockView).sort(compareBlocks);
  }

  /** The blocks a caller sees (attached ones as shared ones), in render order. */
  async visibleTo(scope: SessionScope): Promise<BlockView[]> {
    const { householdId } = scope;
    const rows = await this.#prisma.memoryBlock.findMany({
      where: {
        OR: [
          { householdId, ownerKey: { in: [...new Set(['', ownerKeyOf(scope.memberId)])] } },
          attachedTo(householdId),
        ],
      },
    });
    return rows
      .map(toBlockView)
      .filter((block) => isVisibleTo(block, scope))
      .sort(compareBlocks);
  }

  /** The block, or undefined. A shared label finds the household's own block, else an attached one. */
  async find(target: BlockTarget): Promise<BlockView | undefined> {
    if (isById(target)) {
      if (!isUuid(target.blockId) || !isUuid(target.organizationId)) return undefined;
      const row = await this.#prisma.memoryBlock.findFirst({
        where: { id: target.blockId, organizationId: target.organizationId },
      });
      return row ? toBlockView(row) : undefined;
    }
    const { householdId, memberId, label } = target;
    if (memberId !== null) {
      const row = await this.#prisma.memoryBlock.findUnique({
        where: { householdId_ownerKey_label: { householdId, ownerKey: ownerKeyOf(memberId), label } },
      });
      return row ? toBlockView(row) : undefined;
    }
    const rows = await this.#prisma.memoryBlock.findMany({
      where: { label, OR: [{ householdId, ownerKey: '' }, attachedTo(householdId)] },
      take: 2,
    });
    // Labels are checked on attach, so two rows only follow a race; the household's own wins.
    const row = rows.find((candidate) => candidate.householdId === householdId) ?? rows[0];
    return row ? toBlockView(row) : undefined;
  }

  /** The block, or `NotFoundError`. */
  async get(target: BlockTarget): Promise<BlockView> {
    const block = await this.find(target);
    if (!block) throw blockNotFound(target);
    return block;
  }

  /**
   * Creates a block at version 1 with its first revision: a household's or member's (its label
   * free in the household, attached blocks included), or with `householdId` null a standalone one.
   */
  async create(input: CreateBlockInput): Promise<BlockView> {
    const { source, organizationId, householdId, memberId, withinWrite, ...fields } = input;
    const data = parseOrThrow(blockCreateSchema, fields);
    checkNotReserved({ memberId, label: data.label });
    const charLimit = data.charLimit ?? DEFAULT_BLOCK_CHAR_LIMIT;
    const value = data.value ?? '';
    if (value.length > charLimit) {
      throw new ValidationError(`The value has ${value.length} characters; the block's limit is ${charLimit}.`);
    }
    if (householdId === null && memberId !== null) {
      throw new ValidationError('A member block belongs to a household; give its householdId.');
    }
    const block = { organizationId, householdId, memberId, ...data, value, charLimit };
    const row = await this.#prisma.$transaction(async (tx) => {
      if (householdId !== null) {
        await lockHousehold(tx, { organizationId, householdId });
        if (memberId !== null) await checkMember(tx, { householdId, memberId });
        const clash = await findClash(tx, { householdId, memberId, label: data.label });
        if (clash) throw labelTaken(data.label, clashKind(clash, { householdId, memberId }));
      }
      let created: BlockRow;
      try {
        created = await this.#insert(tx, block, source);
      } catch (error) {
        // Lost a race with another create of the same label (or the organization is gone).
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
          throw labelTaken(data.label, 'already exists', error);
        }
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003') {
          throw new NotFoundError(`No organization ${organizationId}.`, { cause: error });
        }
        throw error;
      }
      await withinWrite?.(tx, toBlockView(created));
      return created;
    });
    await publishChanges(this.#events, changesOf(row, householdId === null ? [] : [householdId]));
    return toBlockView(row);
  }

  /** The household's default shared blocks, in the caller's transaction (no one can be listening yet). */
  async createHouseholdDefaults(input: HouseholdDefaultsInput): Promise<void> {
    const { tx, organizationId, householdId } = input;
    for (const template of HOUSEHOLD_DEFAULT_BLOCKS) {
      await this.#insert(tx, { organizationId, householdId, memberId: null, ...template }, SYSTEM_SOURCE);
    }
  }

  /** A new member's `caller` block, in the caller's transaction; `ConflictError` if a shared block has its label. */
  async createMemberDefaults(input: MemberDefaultsInput): Promise<void> {
    const { tx, organizationId, householdId, memberId } = input;
    const { label } = CALLER_BLOCK;
    const clash = await findClash(tx, { householdId, memberId, label });
    if (clash?.memberId === null) {
      throw new ConflictError(
        `Household ${householdId} has a shared block "${label}" (${clash.id}), which would sit beside each ` +
          `member's own "${label}" block and show what one member says to every caller. Move its text to ` +
          'another block and delete it, then add the member again.',
      );
    }
    if (clash) throw labelTaken(label, clashKind(clash, { householdId, memberId }));
    await this.#insert(tx, { organizationId, householdId, memberId, ...CALLER_BLOCK }, SYSTEM_SOURCE);
  }

  /**
   * Deletes a block and its revisions, for every household that sees it. The default blocks
   * cannot be deleted; nor, by label, a block the household only has attached.
   */
  async delete(input: DeleteBlockInput): Promise<void> {
    const { withinWrite } = input;
    if (!isById(input)) checkDeletable(input);
    const block = await this.get(input);
    if (isById(input)) {
      if (block.householdId !== null) checkDeletable(block);
    } else if (block.householdId !== input.householdId) {
      throw new ConflictError(
        `Block "${block.label}" (${block.id}) is attached to household ${input.householdId}, not its own: ` +
          'detach it from this household, or delete it by id to delete it for every household that sees it.',
      );
    }
    const deleted = await this.#prisma.$transaction(async (tx) => {
      // Read before the delete: the attachments go with the block.
      const households = await householdsSeeing(tx, block);
      const { count } = await tx.memoryBlock.deleteMany({ where: { id: block.id } });
      if (count === 0) return undefined;
      await withinWrite?.(tx, block);
      return households;
    });
    if (!deleted) return;
    await publishChanges(this.#events, changesOf(block, deleted, { deleted: true }));
  }

  async #insert(
    tx: Prisma.TransactionClient,
    block: {
      organizationId: string;
      householdId: string | null;
      memberId: string | null;
      label: string;
      value: string;
      description?: string;
      charLimit: number;
      readOnly?: boolean;
      private?: boolean;
    },
    source: RevisionSourceInput,
  ): Promise<BlockRow> {
    const now = this.#now();
    return tx.memoryBlock.create({
      data: {
        ...block,
        ownerKey: ownerKeyOf(block.memberId),
        createdAt: now,
        updatedAt: now,
        revisions: {
          create: {
            organizationId: block.organizationId,
            householdId: block.householdId,
            version: 1,
            value: block.value,
            ...revisionSourceFields(source),
            createdAt: now,
          },
        },
      },
    });
  }
}

async function checkMember(db: Db, input: { householdId: string; memberId: string }): Promise<void> {
  const member = isUuid(input.memberId)
    ? await db.member.findFirst({ where: { id: input.memberId, householdId: input.householdId }, select: { id: true } })
    : null;
  if (!member) throw new NotFoundError(`No member ${input.memberId} in household ${input.householdId}.`);
}

/** Refuses to delete a household's or member's default block. */
function checkDeletable(block: Pick<BlockRef, 'memberId' | 'label'>): void {
  if (!DEFAULT_LABELS[ownerKindOf(block.memberId)].has(block.label)) return;
  throw new ConflictError(`Block "${block.label}" is a default block and cannot be deleted; clear its value instead.`);
}

/** Refuses the other kind of owner's default label (see `DEFAULT_LABELS`). */
function checkNotReserved(input: { memberId: string | null; label: string }): void {
  const owner = ownerKindOf(input.memberId);
  if (!DEFAULT_LABELS[owner === 'shared' ? 'member' : 'shared'].has(input.label)) return;
  const whose = owner === 'shared' ? "each member's own block" : 'a block shared by the household';
  throw new ValidationError(`Block label "${input.label}" is reserved for ${whose}; choose another label.`);
}

function labelTaken(label: string, what: string, cause?: unknown): ConflictError {
  return new ConflictError(`Block "${label}" ${what} in this household; choose another label.`, { cause });
}

const SYSTEM_SOURCE: RevisionSourceInput = { source: 'system', detail: 'default block' };

/** The revision columns for a source. */
export function revisionSourceFields(source: RevisionSourceInput) {
  return {
    source: source.source,
    sourceDetail: source.detail ?? null,
    callId: source.callId ?? null,
    memberId: source.memberId ?? null,
    actor: source.actor ?? null,
    idempotencyKey: source.idempotencyKey ?? null,
  };
}
