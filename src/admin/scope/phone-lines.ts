/** Phone lines (Twilio numbers) of one organization. */
import type { Prisma } from '../../db/index.js';
import { NotFoundError } from '../../errors.js';
import { type Keyset, keysetOrder, keysetPage, keysetWhere, type Page } from '../pagination.js';
import { type PhoneLineCreate, type PhoneLineUpdate, type PhoneLineView, phoneLineCreateSchema } from '../schemas.js';
import { guarded, missing, requireHousehold } from './guards.js';
import { recordAudit, type Tx } from './principal.js';
import { ScopedRepository } from './repository.js';

function view(row: Prisma.PhoneLineModel): PhoneLineView {
  return {
    id: row.id,
    number: row.number,
    householdId: row.householdId,
    label: row.label,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Phone lines of the principal's organization. */
export class PhoneLines extends ScopedRepository {
  /** A page of phone lines, oldest first. */
  async list(input: { limit: number; cursor?: Keyset | undefined }): Promise<Page<PhoneLineView>> {
    const rows = await this.prisma.phoneLine.findMany({
      where: { organizationId: this.organizationId, ...keysetWhere('createdAt', input.cursor, 'asc') },
      orderBy: keysetOrder('createdAt', 'asc'),
      take: input.limit + 1,
    });
    const page = keysetPage(rows, input.limit, (row) => row.createdAt);
    return { data: page.data.map(view), nextCursor: page.nextCursor };
  }

  /** One phone line; `NotFoundError` when it is not this organization's. */
  async get(input: { phoneLineId: string }): Promise<PhoneLineView> {
    const row = await this.prisma.phoneLine.findFirst({
      where: { id: input.phoneLineId, organizationId: this.organizationId },
    });
    if (!row) throw new NotFoundError(missing.phoneLine(input.phoneLineId));
    return view(row);
  }

  /**
   * Registers a number; numbers are unique across Hearth, since Twilio routes each to one place.
   * A number taken is "in use", whoever has it: whether another organization holds it is theirs.
   */
  async create(input: { phoneLine: PhoneLineCreate }): Promise<PhoneLineView> {
    const data = phoneLineCreateSchema.parse(input.phoneLine);
    const organizationId = this.organizationId;
    const row = await this.prisma.$transaction(async (tx) => {
      await this.#requireTarget(tx, data.householdId);
      const line = await guarded(() => tx.phoneLine.create({ data: { ...data, organizationId } }), {
        conflict: `Phone number ${data.number} is already in use.`,
      });
      await recordAudit(tx, this.principal, {
        action: 'phone_line.create',
        resourceType: 'phone_line',
        resourceId: line.id,
      });
      return line;
    });
    return view(row);
  }

  /** Re-routes or relabels a line; null `householdId` lets callers choose. */
  async update(input: { phoneLineId: string; changes: PhoneLineUpdate }): Promise<PhoneLineView> {
    const { phoneLineId, changes } = input;
    const row = await this.prisma.$transaction(async (tx) => {
      await this.#requireTarget(tx, changes.householdId);
      const line = await guarded(
        () => tx.phoneLine.update({ where: { id: phoneLineId, organizationId: this.organizationId }, data: changes }),
        { notFound: missing.phoneLine(phoneLineId) },
      );
      await recordAudit(tx, this.principal, {
        action: 'phone_line.update',
        resourceType: 'phone_line',
        resourceId: phoneLineId,
        details: { fields: Object.keys(changes) },
      });
      return line;
    });
    return view(row);
  }

  /** Removes a line; calls to it are no longer answered. */
  async delete(input: { phoneLineId: string }): Promise<void> {
    const { phoneLineId } = input;
    await this.prisma.$transaction(async (tx) => {
      await guarded(() => tx.phoneLine.delete({ where: { id: phoneLineId, organizationId: this.organizationId } }), {
        notFound: missing.phoneLine(phoneLineId),
      });
      await recordAudit(tx, this.principal, {
        action: 'phone_line.delete',
        resourceType: 'phone_line',
        resourceId: phoneLineId,
      });
    });
  }

  async #requireTarget(tx: Tx, householdId: string | null | undefined): Promise<void> {
    if (householdId) await requireHousehold(tx, this.organizationId, householdId);
  }
}
