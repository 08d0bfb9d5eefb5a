/**
 * Which households a block belongs to and is seen by. A household sees its own blocks and
 * those attached to it (standalone blocks, or other households' shared ones), and a label
 * names one block per caller across all of them: the label checks, the household lock that
 * keeps them from interleaving, and the change events a write fans out to every such household.
 */
import type { Prisma, PrismaClient } from '../db/index.js';
import { NotFoundError } from '../errors.js';
import type { BlockChange, MemoryEvents } from './events.js';
import type { BlockIdRef, BlockRef, BlockTarget, BlockView } from './types.js';

/** The client or a transaction's. */
export type Db = PrismaClient | Prisma.TransactionClient;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can be a row id: anything else names no row, and Postgres would reject it as a uuid. */
export function isUuid(id: string): boolean {
  return UUID_PATTERN.test(id);
}

/** Whether the target names a block by id. */
export function isById(target: BlockTarget): target is BlockIdRef {
  return 'blockId' in target && typeof target.blockId === 'string';
}

/** The filter for blocks attached to a household. */
export function attachedTo(householdId: string): Prisma.MemoryBlockWhereInput {
  return { attachments: { some: { householdId } } };
}

/**
 * Locks the household's row until the transaction ends, so that label checks and the writes
 * they allow (a new block, an attachment) do not interleave; `NotFoundError` unless it is the
 * organization's. `FOR NO KEY UPDATE` does not wait for rows that merely reference the household.
 */
export async function lockHousehold(
  tx: Prisma.TransactionClient,
  input: { organizationId: string; householdId: string },
): Promise<void> {
  const { organizationId, householdId } = input;
  const rows =
    isUuid(householdId) && isUuid(organizationId)
      ? await tx.$queryRaw<Array<{ id: string }>>`
          SELECT id::text AS id FROM households
          WHERE id = ${householdId}::uuid AND organization_id = ${organizationId}::uuid
          FOR NO KEY UPDATE`
      : [];
  if (rows.length === 0) throw new NotFoundError(`No household ${householdId}.`);
}

/** A block that already uses a label in a household. */
export type LabelClash = { id: string; householdId: string | null; memberId: string | null };

/**
 * The block of the household that a new block (or attachment) of this label would clash with: a
 * label names one block per caller, so a member's block may not shadow a shared or attached one,
 * nor the reverse. Attached blocks count as shared.
 */
export async function findClash(db: Db, input: BlockRef): Promise<LabelClash | null> {
  return db.memoryBlock.findFirst({
    where: {
      label: input.label,
      OR: [
        // A shared label clashes with any block of that label; a member's with a shared one or their own.
        {
          householdId: input.householdId,
          ...(input.memberId === null ? {} : { ownerKey: { in: ['', input.memberId] } }),
        },
        attachedTo(input.householdId),
      ],
    },
    select: { id: true, householdId: true, memberId: true },
  });
}

/** How an existing block clashes with a new block of `wanted`'s owner in `householdId`, for messages. */
export function clashKind(clash: LabelClash, wanted: { householdId: string; memberId: string | null }): string {
  if (clash.householdId !== wanted.householdId) return 'is an attached block';
  if (clash.memberId === wanted.memberId) return 'already exists';
  return clash.memberId ? 'is a member block' : 'is a shared block';
}

/**
 * The households that see a block: its own, then those it is attached to. A member's block
 * cannot be attached, so it costs no query.
 */
export async function householdsSeeing(
  db: Db,
  block: Pick<BlockView, 'id' | 'householdId' | 'memberId'>,
): Promise<string[]> {
  const own = block.householdId === null ? [] : [block.householdId];
  if (block.memberId !== null) return own;
  const attachments = await db.blockAttachment.findMany({
    where: { blockId: block.id },
    select: { householdId: true },
    orderBy: [{ createdAt: 'asc' }, { householdId: 'asc' }],
  });
  return [...own, ...attachments.map((attachment) => attachment.householdId)];
}

/**
 * The change events for a block after a write (or its deletion, or its detachment): one per
 * household in `households` (see `householdsSeeing`), so each one's live calls refresh.
 */
export function changesOf(
  block: Pick<BlockView, 'id' | 'label' | 'memberId' | 'version'>,
  households: readonly string[],
  options: { deleted: boolean } = { deleted: false },
): BlockChange[] {
  return households.map((householdId) => ({
    householdId,
    blockId: block.id,
    label: block.label,
    memberId: block.memberId,
    version: block.version,
    deleted: options.deleted,
  }));
}

/** Publishes each change in turn. */
export async function publishChanges(events: MemoryEvents, changes: readonly BlockChange[]): Promise<void> {
  for (const change of changes) await events.publish(change);
}
