/**
 * Core-memory blocks: reading, creating and deleting them, who may see which, and the
 * stable order they are rendered in. Writes to existing blocks go through `BlockWriter`.
 */
import { Prisma, type PrismaClient } from '../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { CALLER_BLOCK, DEFAULT_LABELS, HOUSEHOLD_BLOCK, HOUSEHOLD_DEFAULT_BLOCKS, PERSONA_BLOCK } from './defaults.js';
import type { BlockChange, MemoryEvents } from './events.js';
import { blockCreateSchema, parseOrThrow } from './schemas.js';
import type { BlockView, RevisionSourceInput, SessionScope } from './types.js';

type BlockRow = Prisma.MemoryBlockModel;
type Db = PrismaClient | Prisma.TransactionClient;

/** Which block: shared (memberId null) or a member's, by label. */
export type BlockRef = { householdId: string; memberId: string | null; label: string };

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
  async find(ref: BlockRef, db: Db = this.#prisma): Promise<BlockView | undefined> {
    const row = await db.memoryBlock.findUnique({
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
    if (!block) throw new NotFoundError(`No block ${describeRef(ref)} in household ${ref.householdId}.`);
    return block;
  }

  /** Creates a block at version 1 with its first revision. */
  async create(input: {
    organizationId: string;
    householdId: string;
    memberId: string | null;
    label: string;
    value?: string;
    description?: string;
    charLimit?: number;
    readOnly?: boolean;
    private?: boolean;
    source: RevisionSourceInput;
  }): Promise<BlockView> {
    const { source, organizationId, householdId, memberId, ...fields } = input;
    const data = parseOrThrow(blockCreateSchema, fields);
    const charLimit = data.charLimit ?? CALLER_BLOCK.charLimit;
    const value = data.value ?? '';
    if (value.length > charLimit) {
      throw new ValidationError(`The value has ${value.length} characters; the block's limit is ${charLimit}.`);
    }
    await this.#checkOwner({ organizationId, householdId, memberId });
    await this.#checkLabelFree({ householdId, memberId, label: data.label });
    const row = await this.#prisma.$transaction(async (tx) => {
      try {
        return await this.#insert(tx, { organizationId, householdId, memberId, ...data, value, charLimit }, source);
      } catch (error) {
        // Lost a race with another create of the same label.
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
          throw labelTaken(data.label, 'already exists', error);
        }
        throw error;
      }
    });
    await this.#events.publish(changeOf(row));
    return toBlockView(row);
  }

  /** The household's default shared blocks, in the caller's transaction (no one can be listening yet). */
  async createHouseholdDefaults(input: {
    tx: Prisma.TransactionClient;
    organizationId: string;
    householdId: string;
  }): Promise<void> {
    const { tx, organizationId, householdId } = input;
    for (const template of HOUSEHOLD_DEFAULT_BLOCKS) {
      await this.#insert(tx, { organizationId, householdId, memberId: null, ...template }, SYSTEM_SOURCE);
    }
  }

  /** A new member's `caller` block, in the caller's transaction. */
  async createMemberDefaults(input: {
    tx: Prisma.TransactionClient;
    organizationId: string;
    householdId: string;
    memberId: string;
  }): Promise<void> {
    const { tx, organizationId, householdId, memberId } = input;
    await this.#insert(tx, { organizationId, householdId, memberId, ...CALLER_BLOCK }, SYSTEM_SOURCE);
  }

  /** Deletes a block and its revisions; the default blocks cannot be deleted. */
  async delete(ref: BlockRef): Promise<void> {
    if (DEFAULT_LABELS.has(ref.label)) {
      throw new ConflictError(
        `Block "${ref.label}" is a default block and cannot be deleted; clear its value instead.`,
      );
    }
    const block = await this.get(ref);
    const { count } = await this.#prisma.memoryBlock.deleteMany({ where: { id: block.id } });
    if (count === 0) return;
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
  async #checkLabelFree(input: { householdId: string; memberId: string | null; label: string }): Promise<void> {
    const clash = await this.#prisma.memoryBlock.findFirst({
      where: {
        householdId: input.householdId,
        label: input.label,
        // A shared label clashes with any block of that label; a member's with a shared one or their own.
        ...(input.memberId === null ? {} : { ownerKey: { in: ['', input.memberId] } }),
      },
      select: { memberId: true },
    });
    if (!clash) return;
    const what =
      clash.memberId === input.memberId ? 'already exists' : clash.memberId ? 'is a member block' : 'is a shared block';
    throw labelTaken(input.label, what);
  }
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
