/** Members of one organization's households: CRUD, PINs (hashed), erasure. */
import type { Prisma } from '../../db/index.js';
import { hashSecret } from '../../secrets.js';
import { type Keyset, keysetOrder, keysetPage, keysetWhere, type Page } from '../pagination.js';
import { type MemberCreate, type MemberUpdate, type MemberView, memberCreateSchema } from '../schemas.js';
import { guarded, missing, requireHousehold, requireMember } from './guards.js';
import { recordAudit } from './principal.js';
import { ScopedRepository } from './repository.js';

function view(row: Prisma.MemberModel): MemberView {
  return {
    id: row.id,
    householdId: row.householdId,
    name: row.name,
    relationship: row.relationship,
    phone: row.phone,
    role: row.role,
    hasPin: row.pinHash !== null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function phoneTaken(phone: string | null | undefined): string {
  return `Phone number ${phone} already belongs to another member of this organization.`;
}

/** Members of the principal's organization, always addressed through their household. */
export class Members extends ScopedRepository {
  /** A page of the household's members, oldest first. */
  async list(input: { householdId: string; limit: number; cursor?: Keyset | undefined }): Promise<Page<MemberView>> {
    await requireHousehold(this.prisma, this.organizationId, input.householdId);
    const rows = await this.prisma.member.findMany({
      where: {
        organizationId: this.organizationId,
        householdId: input.householdId,
        ...keysetWhere('createdAt', input.cursor, 'asc'),
      },
      orderBy: keysetOrder('createdAt', 'asc'),
      take: input.limit + 1,
    });
    const page = keysetPage(rows, input.limit, (row) => row.createdAt);
    return { data: page.data.map(view), nextCursor: page.nextCursor };
  }

  /** One member; `NotFoundError` unless they belong to that household of this organization. */
  async get(input: { householdId: string; memberId: string }): Promise<MemberView> {
    return view(await requireMember(this.prisma, this.organizationId, input.householdId, input.memberId));
  }

  /** Adds a member and their `caller` block; a phone number already used in the organization is a conflict. */
  async create(input: { householdId: string; member: MemberCreate }): Promise<MemberView> {
    const data = memberCreateSchema.parse(input.member);
    const { householdId } = input;
    const organizationId = this.organizationId;
    const row = await this.prisma.$transaction(async (tx) => {
      await requireHousehold(tx, organizationId, householdId);
      const member = await guarded(() => tx.member.create({ data: { ...data, organizationId, householdId } }), {
        notFound: missing.household(householdId),
        conflict: phoneTaken(data.phone),
      });
      await this.memory.createMemberBlock({ tx, organizationId, householdId, memberId: member.id });
      await recordAudit(tx, this.principal, {
        action: 'member.create',
        resourceType: 'member',
        resourceId: member.id,
        details: { householdId },
      });
      return member;
    });
    return view(row);
  }

  /** Changes the given fields; null clears `relationship` or `phone`. */
  async update(input: { householdId: string; memberId: string; changes: MemberUpdate }): Promise<MemberView> {
    const { householdId, memberId, changes } = input;
    return view(
      await this.#write({
        householdId,
        memberId,
        action: 'member.update',
        details: { fields: Object.keys(changes) },
        data: changes,
        conflict: phoneTaken(changes.phone),
      }),
    );
  }

  /** Sets or replaces the member's PIN; only its scrypt hash is stored. */
  async setPin(input: { householdId: string; memberId: string; pin: string }): Promise<void> {
    const pinHash = await hashSecret(input.pin);
    await this.#write({ ...input, action: 'member.pin.set', data: { pinHash } });
  }

  /** Removes the member's PIN. */
  async clearPin(input: { householdId: string; memberId: string }): Promise<void> {
    await this.#write({ ...input, action: 'member.pin.clear', data: { pinHash: null } });
  }

  /**
   * Erases the member and everything of theirs in one transaction: their calls (with the
   * calls' messages), their own blocks and revisions, messages and passages (by cascade).
   * Shared household memory they contributed to stays, no longer linked to them.
   */
  async delete(input: { householdId: string; memberId: string }): Promise<void> {
    const { householdId, memberId } = input;
    const organizationId = this.organizationId;
    await this.prisma.$transaction(async (tx) => {
      await requireMember(tx, organizationId, householdId, memberId);
      await tx.call.deleteMany({ where: { organizationId, householdId, memberId } });
      await tx.member.delete({ where: { id: memberId, householdId, organizationId } });
      await recordAudit(tx, this.principal, {
        action: 'member.delete',
        resourceType: 'member',
        resourceId: memberId,
        details: { householdId },
      });
    });
  }

  async #write(input: {
    householdId: string;
    memberId: string;
    action: string;
    data: MemberUpdate | { pinHash: string | null };
    details?: Record<string, unknown>;
    conflict?: string;
  }): Promise<Prisma.MemberModel> {
    const { householdId, memberId } = input;
    return this.prisma.$transaction(async (tx) => {
      const member = await guarded(
        () =>
          tx.member.update({
            where: { id: memberId, householdId, organizationId: this.organizationId },
            data: input.data,
          }),
        { notFound: missing.member(householdId, memberId), conflict: input.conflict },
      );
      await recordAudit(tx, this.principal, {
        action: input.action,
        resourceType: 'member',
        resourceId: memberId,
        details: { householdId, ...input.details },
      });
      return member;
    });
  }
}
