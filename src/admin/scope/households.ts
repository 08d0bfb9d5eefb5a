/** Households of one organization: CRUD, default memory on create, erasure on delete. */
import type { Prisma } from '../../db/index.js';
import { NotFoundError } from '../../errors.js';
import { type Keyset, keysetOrder, keysetPage, keysetWhere, type Page } from '../pagination.js';
import {
  agentSettingsSchema,
  type HouseholdCreate,
  type HouseholdUpdate,
  type HouseholdView,
  householdCreateSchema,
} from '../schemas.js';
import { guarded, missing, requireHousehold } from './guards.js';
import { recordAudit } from './principal.js';
import { ScopedRepository } from './repository.js';

function view(row: Prisma.HouseholdModel): HouseholdView {
  return {
    id: row.id,
    name: row.name,
    timezone: row.timezone,
    locale: row.locale,
    // Stored by this module only, always through agentSettingsSchema; parse keeps old rows honest.
    agentSettings: agentSettingsSchema.catch({}).parse(row.agentSettings),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Households of the principal's organization. */
export class Households extends ScopedRepository {
  /** A page of households, oldest first. */
  async list(input: { limit: number; cursor?: Keyset | undefined }): Promise<Page<HouseholdView>> {
    const rows = await this.prisma.household.findMany({
      where: { organizationId: this.organizationId, ...keysetWhere('createdAt', input.cursor, 'asc') },
      orderBy: keysetOrder('createdAt', 'asc'),
      take: input.limit + 1,
    });
    const page = keysetPage(rows, input.limit, (row) => row.createdAt);
    return { data: page.data.map(view), nextCursor: page.nextCursor };
  }

  /** One household; `NotFoundError` when it is not this organization's. */
  async get(input: { householdId: string }): Promise<HouseholdView> {
    return view(await requireHousehold(this.prisma, this.organizationId, input.householdId));
  }

  /** Creates a household with its default shared blocks, in one transaction. */
  async create(input: { household: HouseholdCreate }): Promise<HouseholdView> {
    const data = householdCreateSchema.parse(input.household);
    const organizationId = this.organizationId;
    const row = await this.prisma.$transaction(async (tx) => {
      const household = await tx.household.create({ data: { ...data, organizationId } });
      await this.memory.createHouseholdBlocks({ tx, organizationId, householdId: household.id });
      await recordAudit(tx, this.principal, {
        action: 'household.create',
        resourceType: 'household',
        resourceId: household.id,
      });
      return household;
    });
    return view(row);
  }

  /** Changes the given fields; `agentSettings` is replaced whole. */
  async update(input: { householdId: string; changes: HouseholdUpdate }): Promise<HouseholdView> {
    const { householdId, changes } = input;
    const row = await this.prisma.$transaction(async (tx) => {
      const updated = await guarded(
        () =>
          tx.household.update({
            where: { id: householdId, organizationId: this.organizationId },
            data: changes,
          }),
        { notFound: missing.household(householdId) },
      );
      await recordAudit(tx, this.principal, {
        action: 'household.update',
        resourceType: 'household',
        resourceId: householdId,
        details: { fields: Object.keys(changes) },
      });
      return updated;
    });
    return view(row);
  }

  /**
   * Erases the household and everything of it (members, blocks and revisions, calls,
   * messages, passages, escalations) in one transaction; the schema's cascades do the
   * deleting. Phone lines stay with the organization, routed to no household. Its blocks
   * attached to other households are detached from them first, so their live calls drop them.
   */
  async delete(input: { householdId: string }): Promise<void> {
    const { householdId } = input;
    await requireHousehold(this.prisma, this.organizationId, householdId);
    await this.#detachFromOthers(householdId);
    await this.prisma.$transaction(async (tx) => {
      await guarded(() => tx.household.delete({ where: { id: householdId, organizationId: this.organizationId } }), {
        notFound: missing.household(householdId),
      });
      await recordAudit(tx, this.principal, {
        action: 'household.delete',
        resourceType: 'household',
        resourceId: householdId,
      });
    });
  }

  async #detachFromOthers(householdId: string): Promise<void> {
    const organizationId = this.organizationId;
    const shared = await this.memory.listBlocks({ householdId, memberId: null });
    const own = shared.filter((block) => block.householdId === householdId).map((block) => block.id);
    if (own.length === 0) return;
    const seenBy = await this.memory.blockHouseholds({ organizationId, blockIds: own });
    for (const [blockId, households] of seenBy) {
      for (const other of households.filter((id) => id !== householdId)) {
        // Detached meanwhile by someone else: it is what was wanted.
        await this.memory.detachBlock({ organizationId, householdId: other, blockId }).catch((error: unknown) => {
          if (!(error instanceof NotFoundError)) throw error;
        });
      }
    }
  }
}
