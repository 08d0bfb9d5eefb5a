/**
 * Blocks shared beyond one household (Letta's blocks attached to several agents): attaching a
 * standalone block, or a household's shared block, to other households of the organization,
 * detaching it, and listing the organization's blocks with the households that see each one.
 * An attached block is, to the household, one more shared block: the store lists, renders and
 * finds it by label, and every write to it is heard by each household that sees it.
 */
import type { PrismaClient } from '../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { changesOf, findClash, isUuid, lockHousehold, publishChanges } from './block-scope.js';
import { blockNotFound, toBlockView } from './blocks.js';
import type { MemoryEvents } from './events.js';
import { MAX_BLOCK_LIST_LIMIT } from './limits.js';
import type { BlockAttachmentInput, BlockView, OrganizationBlocksInput } from './types.js';

/** Attaches and detaches blocks, and lists the organization's shareable ones. */
export class BlockAttachments {
  readonly #prisma: PrismaClient;
  readonly #events: MemoryEvents;
  readonly #now: () => Date;

  constructor(options: { prisma: PrismaClient; events: MemoryEvents; now: () => Date }) {
    this.#prisma = options.prisma;
    this.#events = options.events;
    this.#now = options.now;
  }

  /** Shows the block to the household as one of its shared blocks; a second attach changes nothing. */
  async attach(input: BlockAttachmentInput): Promise<BlockView> {
    const { organizationId, householdId, blockId } = input;
    const outcome = await this.#prisma.$transaction(async (tx) => {
      // Locked first, as creates do: the label check below and the attachment then cannot
      // interleave with a new block of the same label in this household.
      await lockHousehold(tx, { organizationId, householdId });
      const row = isUuid(blockId)
        ? await tx.memoryBlock.findFirst({
            where: { id: blockId, organizationId },
            include: { attachments: { where: { householdId }, select: { householdId: true } } },
          })
        : null;
      if (!row) throw blockNotFound({ organizationId, blockId });
      const block = toBlockView(row);
      const named = `Block "${block.label}" (${block.id})`;
      if (block.memberId !== null) {
        throw new ConflictError(
          `${named} is member ${block.memberId}'s own block, shown only on their calls; only a household's ` +
            'shared blocks and standalone blocks can be attached.',
        );
      }
      if (block.householdId === householdId) {
        throw new ConflictError(`${named} is already this household's block; it needs no attachment.`);
      }
      if (row.attachments.length > 0) return { block, attached: false };
      const clash = await findClash(tx, { householdId, memberId: null, label: block.label });
      if (clash) {
        const whose =
          clash.householdId !== householdId
            ? 'attached to it'
            : clash.memberId === null
              ? 'its own shared block'
              : `member ${clash.memberId}'s block`;
        throw new ConflictError(
          `Household ${householdId} already has a block "${block.label}" (${clash.id}, ${whose}); the blocks ` +
            'a household sees need distinct labels. Detach or delete that block first, or attach another.',
        );
      }
      await tx.blockAttachment.create({ data: { blockId, householdId, organizationId, createdAt: this.#now() } });
      await input.withinWrite?.(tx, block);
      return { block, attached: true };
    });
    if (outcome.attached) await publishChanges(this.#events, changesOf(outcome.block, [householdId]));
    return outcome.block;
  }

  /** Stops showing the block to the household; its change says `deleted`, as the block is gone from that household. */
  async detach(input: BlockAttachmentInput): Promise<void> {
    const { organizationId, householdId, blockId } = input;
    const block = await this.#prisma.$transaction(async (tx) => {
      const row = isUuid(blockId) ? await tx.memoryBlock.findFirst({ where: { id: blockId, organizationId } }) : null;
      if (!row) throw blockNotFound({ organizationId, blockId });
      const view = toBlockView(row);
      const named = `Block "${view.label}" (${view.id})`;
      if (view.householdId === householdId) {
        throw new ConflictError(
          `${named} is household ${householdId}'s own block, not attached to it; delete it instead.`,
        );
      }
      const { count } = isUuid(householdId)
        ? await tx.blockAttachment.deleteMany({ where: { blockId, householdId, organizationId } })
        : { count: 0 };
      if (count === 0) throw new NotFoundError(`${named} is not attached to household ${householdId}.`);
      await input.withinWrite?.(tx, view);
      return view;
    });
    await publishChanges(this.#events, changesOf(block, [householdId], { deleted: true }));
  }

  /** The organization's blocks that are not a member's, a page at a time by (createdAt, id). */
  async listOrganization(input: OrganizationBlocksInput): Promise<BlockView[]> {
    const { organizationId, label, limit, after, order } = input;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BLOCK_LIST_LIMIT) {
      throw new ValidationError(`limit must be a whole number from 1 to ${MAX_BLOCK_LIST_LIMIT}.`);
    }
    if (after !== undefined && !isUuid(after.id)) throw new ValidationError(`after.id ${after.id} is not a block id.`);
    if (!isUuid(organizationId)) return [];
    const beyond = order === 'asc' ? 'gt' : 'lt';
    const rows = await this.#prisma.memoryBlock.findMany({
      where: {
        organizationId,
        memberId: null,
        ...(label === undefined ? {} : { label }),
        ...(after === undefined
          ? {}
          : {
              OR: [
                { createdAt: { [beyond]: after.createdAt } },
                { createdAt: after.createdAt, id: { [beyond]: after.id } },
              ],
            }),
      },
      orderBy: [{ createdAt: order }, { id: order }],
      take: limit,
    });
    return rows.map(toBlockView);
  }

  /** Per block of the organization among `blockIds`: its owner household, then those it is attached to. */
  async households(input: { organizationId: string; blockIds: string[] }): Promise<Map<string, string[]>> {
    const blockIds = input.blockIds.filter(isUuid);
    if (blockIds.length === 0 || !isUuid(input.organizationId)) return new Map();
    const rows = await this.#prisma.memoryBlock.findMany({
      where: { id: { in: blockIds }, organizationId: input.organizationId },
      select: {
        id: true,
        householdId: true,
        attachments: { select: { householdId: true }, orderBy: [{ createdAt: 'asc' }, { householdId: 'asc' }] },
      },
    });
    return new Map(
      rows.map((row) => [
        row.id,
        [...(row.householdId === null ? [] : [row.householdId]), ...row.attachments.map((a) => a.householdId)],
      ]),
    );
  }
}
