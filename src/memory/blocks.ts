/**
 * Core-memory blocks: reading, creating and deleting them, who may see which, and the
 * stable order they are rendered in. Writes to existing blocks go through `BlockWriter`.
 */
import { Prisma, type PrismaClient } from '../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import {
  CALLER_BLOCK,
  DEFAULT_LABELS,
  HOUSEHOLD_BLOCK,
  HOUSEHOLD_DEFAULT_BLOCKS,
  type OwnerKind,
  PERSONA_BLOCK,
} from './defaults.js';
import type { BlockChange, MemoryEvents } from './events.js';
import { DEFAULT_BLOCK_CHAR_LIMIT } from './limits.js';
import { blockCreateSchema, parseOrThrow } from './schemas.js';
import type {
  BlockRef,
  BlockView,
  CreateBlockInput,
  DeleteBlockInput,
  HouseholdDefaultsInput,
  MemberDefaultsInput,
  RevisionSourceInput,
  SessionScope,
} from './types.js';

type BlockRow = Prisma.MemoryBlockModel;
type Db = PrismaClient | Prisma.TransactionClient;

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
export function blockNotFound(ref: BlockRef): NotFoundError {
  return new NotFoundError(`No block ${describeRef(ref)} in household ${ref.householdId}.`);
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

  /** `memberId` undefined: every block of the household; null: shared ones; an id: that member's. */
  async list(input: { householdId: string; memberId?: string | null }): Promise<BlockView[]> {
    const rows = await this.#prisma.memoryBlock.findMany({
      where: {
        householdId: input.householdId,
        ...(input.memberId === undefined ? {} : { ownerKey: ownerKeyOf(input.memberId) }),
      },
    });
    return rows.map(toBlockView).sort(compareBlocks);
  }

  /** The blocks a caller sees, in render order. */
  async visibleTo(scope: SessionScope): Promise<BlockView[]> {
    const rows = await this.#prisma.memoryBlock.findMany({
      where: { householdId: scope.householdId, ownerKey: { in: [...new Set(['', ownerKeyOf(scope.memberId)])] } },
    });
    return rows
      .map(toBlockView)
      .filter((block) => isVisibleTo(block, scope))
      .sort(compareBlocks);
  }

  /** The block, or undefined. */
  async find(ref: BlockRef): Promise<BlockView | undefined> {
    const row = await this.#prisma.memoryBlock.findUnique({
      where: {
        householdId_ownerKey_label: {
          householdId: ref.householdId,
          ownerKey: ownerKeyOf(ref.memberId),
          label: ref.label,
        },
      },
    });
    return row ? toBlockView(row) : undefined;
  }

  /** The block, or `NotFoundError`. */
  async get(ref: BlockRef): Promise<BlockView> {
    const block = await this.find(ref);
    if (!block) throw blockNotFound(ref);
    return block;
  }

  /** Creates a block at version 1 with its first revision. */
  async create(input: CreateBlockInput): Promise<BlockView> {
    const { source, organizationId, householdId, memberId, withinWrite, ...fields } = input;
    const data = parseOrThrow(blockCreateSchema, fields);
    checkNotReserved({ memberId, label: data.label });
    const charLimit = data.charLimit ?? DEFAULT_BLOCK_CHAR_LIMIT;
    const value = data.value ?? '';
    if (value.length > charLimit) {
      throw new ValidationError(`The value has ${value.length} characters; the block's limit is ${charLimit}.`);
    }
    await this.#checkOwner({ organizationId, householdId, memberId });
    const clash = await this.#findClash({ householdId, memberId, label: data.label }, this.#prisma);
    if (clash) throw labelTaken(data.label, clashKind(clash.memberId, memberId));
    const row = await this.#prisma.$transaction(async (tx) => {
      let created: BlockRow;
      try {
        created = await this.#insert(tx, { organizationId, householdId, memberId, ...data, value, charLimit }, source);
      } catch (error) {
        // Lost a race with another create of the same label.
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
          throw labelTaken(data.label, 'already exists', error);
        }
        throw error;
      }
      await withinWrite?.(tx, toBlockView(created));
      return created;
    });
    await this.#events.publish(changeOf(row));
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
    const clash = await this.#findClash({ householdId, memberId, label }, tx);
    if (clash?.memberId === null) {
      throw new ConflictError(
        `Household ${householdId} has a shared block "${label}" (${clash.id}), which would sit beside each ` +
          `member's own "${label}" block and show what one member says to every caller. Move its text to ` +
          'another block and delete it, then add the member again.',
      );
    }
    if (clash) throw labelTaken(label, clashKind(clash.memberId, memberId));
    await this.#insert(tx, { organizationId, householdId, memberId, ...CALLER_BLOCK }, SYSTEM_SOURCE);
  }

  /** Deletes a block and its revisions; the default blocks cannot be deleted. */
  async delete(input: DeleteBlockInput): Promise<void> {
    const { withinWrite, ...ref } = input;
    if (DEFAULT_LABELS[ownerKindOf(ref.memberId)].has(ref.label)) {
      throw new ConflictError(
        `Block "${ref.label}" is a default block and cannot be deleted; clear its value instead.`,
      );
    }
    const block = await this.get(ref);
    const deleted = await this.#prisma.$transaction(async (tx) => {
      const { count } = await tx.memoryBlock.deleteMany({ where: { id: block.id } });
      if (count > 0) await withinWrite?.(tx, block);
      return count > 0;
    });
    if (!deleted) return;
    await this.#events.publish(changeOf(block, { deleted: true }));
  }

  async #insert(
    tx: Prisma.TransactionClient,
    block: {
      organizationId: string;
      householdId: string;
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

  async #checkOwner(input: { organizationId: string; householdId: string; memberId: string | null }): Promise<void> {
    const household = await this.#prisma.household.findFirst({
      where: { id: input.householdId, organizationId: input.organizationId },
      select: { id: true },
    });
    if (!household) throw new NotFoundError(`No household ${input.householdId}.`);
    if (input.memberId === null) return;
    const member = await this.#prisma.member.findFirst({
      where: { id: input.memberId, householdId: input.householdId },
      select: { id: true },
    });
    if (!member) throw new NotFoundError(`No member ${input.memberId} in household ${input.householdId}.`);
  }

  /** A label names one block per caller: a member's block may not shadow a shared one, or the reverse. */
  async #findClash(input: BlockRef, db: Db): Promise<{ id: string; memberId: string | null } | null> {
    return db.memoryBlock.findFirst({
      where: {
        householdId: input.householdId,
        label: input.label,
        // A shared label clashes with any block of that label; a member's with a shared one or their own.
        ...(input.memberId === null ? {} : { ownerKey: { in: ['', input.memberId] } }),
      },
      select: { id: true, memberId: true },
    });
  }
}

/** Refuses the other kind of owner's default label (see `DEFAULT_LABELS`). */
function checkNotReserved(input: { memberId: string | null; label: string }): void {
  const owner = ownerKindOf(input.memberId);
  if (!DEFAULT_LABELS[owner === 'shared' ? 'member' : 'shared'].has(input.label)) return;
  const whose = owner === 'shared' ? "each member's own block" : 'a block shared by the household';
  throw new ValidationError(`Block label "${input.label}" is reserved for ${whose}; choose another label.`);
}

/** How an existing block's owner clashes with a new block's owner, for `labelTaken`. */
function clashKind(existing: string | null, wanted: string | null): string {
  if (existing === wanted) return 'already exists';
  return existing ? 'is a member block' : 'is a shared block';
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

/** The change event for a block after a write (or its deletion). */
export function changeOf(
  block: Pick<BlockView, 'householdId' | 'id' | 'label' | 'memberId' | 'version'>,
  options: { deleted: boolean } = { deleted: false },
): BlockChange {
  return {
    householdId: block.householdId,
    blockId: block.id,
    label: block.label,
    memberId: block.memberId,
    version: block.version,
    deleted: options.deleted,
  };
}
