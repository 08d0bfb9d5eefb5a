/** The on-call roster of one organization: staff, their shifts, and escalation policies. */
import type { Prisma } from '../../db/index.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { escalationLevelsSchema, namedStaff, newSealedWebhookSecret } from '../../escalation/index.js';
import { type Keyset, keysetOrder, keysetPage, keysetWhere, type Page } from '../pagination.js';
import {
  type PolicyCreate,
  type PolicyUpdate,
  type PolicyView,
  policyCreateSchema,
  policySchema,
  type ShiftCreate,
  type ShiftView,
  type StaffCreate,
  type StaffUpdate,
  type StaffView,
  staffCreateSchema,
} from '../roster-schemas.js';
import { guarded, requireHousehold } from './guards.js';
import { recordAudit, type Tx } from './principal.js';
import { ScopedRepository } from './repository.js';

const missingStaff = (staffId: string) => `No on-call staff ${staffId} in this organization.`;
const missingShift = (shiftId: string) => `No on-call shift ${shiftId} in this organization.`;
const missingPolicy = (policyId: string) => `No escalation policy ${policyId} in this organization.`;

function staffView(row: Prisma.OnCallStaffModel): StaffView {
  return {
    id: row.id,
    name: row.name,
    phone: row.phone,
    email: row.email,
    webhookUrl: row.webhookUrl,
    timezone: row.timezone,
    householdId: row.householdId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function shiftView(row: Prisma.OnCallShiftModel): ShiftView {
  return {
    id: row.id,
    staffId: row.staffId,
    householdId: row.householdId,
    startsAt: row.startsAt.toISOString(),
    endsAt: row.endsAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
  };
}

function policyView(row: Prisma.EscalationPolicyModel): PolicyView {
  return policySchema.parse({
    id: row.id,
    name: row.name,
    householdId: row.householdId,
    levels: row.levels,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  });
}

/** On-call staff and their shifts. */
export class OnCallRoster extends ScopedRepository {
  /** A page of staff, oldest first. */
  async listStaff(input: { limit: number; cursor?: Keyset | undefined }): Promise<Page<StaffView>> {
    const rows = await this.prisma.onCallStaff.findMany({
      where: { organizationId: this.organizationId, ...keysetWhere('createdAt', input.cursor, 'asc') },
      orderBy: keysetOrder('createdAt', 'asc'),
      take: input.limit + 1,
    });
    const page = keysetPage(rows, input.limit, (row) => row.createdAt);
    return { data: page.data.map(staffView), nextCursor: page.nextCursor };
  }

  async getStaff(input: { staffId: string }): Promise<StaffView> {
    const row = await this.prisma.onCallStaff.findFirst({
      where: { id: input.staffId, organizationId: this.organizationId },
    });
    if (!row) throw new NotFoundError(missingStaff(input.staffId));
    return staffView(row);
  }

  async createStaff(input: { staff: StaffCreate }): Promise<StaffView> {
    const data = staffCreateSchema.parse(input.staff);
    const organizationId = this.organizationId;
    const secret = data.webhookUrl ? newSealedWebhookSecret(this.escalation?.box) : undefined;
    const row = await this.prisma.$transaction(async (tx) => {
      if (data.householdId) await requireHousehold(tx, organizationId, data.householdId);
      const staff = await tx.onCallStaff.create({
        data: { ...data, organizationId, webhookSecretEncrypted: secret?.sealed ?? null },
      });
      await recordAudit(tx, this.principal, { action: 'staff.create', resourceType: 'staff', resourceId: staff.id });
      return staff;
    });
    return { ...staffView(row), ...(secret ? { webhookSecret: secret.secret } : {}) };
  }

  async updateStaff(input: { staffId: string; changes: StaffUpdate }): Promise<StaffView> {
    const { staffId, changes } = input;
    let secret: { secret: string; sealed: string } | undefined;
    const row = await this.prisma.$transaction(async (tx) => {
      const before = await tx.onCallStaff.findFirst({ where: { id: staffId, organizationId: this.organizationId } });
      if (!before) throw new NotFoundError(missingStaff(staffId));
      // A first webhook URL gets its secret; a changed one keeps it (the receiver already verifies with it).
      if (changes.webhookUrl && !before.webhookSecretEncrypted) secret = newSealedWebhookSecret(this.escalation?.box);
      const staff = await tx.onCallStaff.update({
        where: { id: staffId },
        data: { ...changes, ...(secret ? { webhookSecretEncrypted: secret.sealed } : {}) },
      });
      await recordAudit(tx, this.principal, {
        action: 'staff.update',
        resourceType: 'staff',
        resourceId: staffId,
        details: { fields: Object.keys(changes) },
      });
      return staff;
    });
    return { ...staffView(row), ...(secret ? { webhookSecret: secret.secret } : {}) };
  }

  /** Removes a person, their shifts with them; policies naming them must be changed first. */
  async deleteStaff(input: { staffId: string }): Promise<void> {
    const { staffId } = input;
    await this.prisma.$transaction(async (tx) => {
      const naming = await this.#policiesNaming(tx, staffId);
      if (naming.length > 0) {
        throw new ValidationError(
          `On-call staff ${staffId} is named by escalation ${naming.length === 1 ? 'policy' : 'policies'} ` +
            `${naming.join(', ')}: change those first, or nobody may be paged at that level.`,
        );
      }
      await guarded(() => tx.onCallStaff.delete({ where: { id: staffId, organizationId: this.organizationId } }), {
        notFound: missingStaff(staffId),
      });
      await recordAudit(tx, this.principal, { action: 'staff.delete', resourceType: 'staff', resourceId: staffId });
    });
  }

  /** A page of shifts, oldest start first; `at`: only those covering that moment. */
  async listShifts(input: {
    limit: number;
    cursor?: Keyset | undefined;
    at?: Date | undefined;
    staffId?: string | undefined;
  }): Promise<Page<ShiftView>> {
    const rows = await this.prisma.onCallShift.findMany({
      where: {
        organizationId: this.organizationId,
        ...(input.staffId ? { staffId: input.staffId } : {}),
        ...(input.at ? { startsAt: { lte: input.at }, endsAt: { gt: input.at } } : {}),
        ...keysetWhere('startsAt', input.cursor, 'asc'),
      },
      orderBy: keysetOrder('startsAt', 'asc'),
      take: input.limit + 1,
    });
    const page = keysetPage(rows, input.limit, (row) => row.startsAt);
    return { data: page.data.map(shiftView), nextCursor: page.nextCursor };
  }

  /** `shift` as `shiftCreateSchema` parsed it (its times are dates, checked in order). */
  async createShift(input: { shift: ShiftCreate }): Promise<ShiftView> {
    const data = input.shift;
    const organizationId = this.organizationId;
    const row = await this.prisma.$transaction(async (tx) => {
      const staff = await tx.onCallStaff.findFirst({ where: { id: data.staffId, organizationId } });
      if (!staff) throw new NotFoundError(missingStaff(data.staffId));
      if (data.householdId) await requireHousehold(tx, organizationId, data.householdId);
      const shift = await tx.onCallShift.create({ data: { ...data, organizationId } });
      await recordAudit(tx, this.principal, { action: 'shift.create', resourceType: 'shift', resourceId: shift.id });
      return shift;
    });
    return shiftView(row);
  }

  async deleteShift(input: { shiftId: string }): Promise<void> {
    const { shiftId } = input;
    await this.prisma.$transaction(async (tx) => {
      await guarded(() => tx.onCallShift.delete({ where: { id: shiftId, organizationId: this.organizationId } }), {
        notFound: missingShift(shiftId),
      });
      await recordAudit(tx, this.principal, { action: 'shift.delete', resourceType: 'shift', resourceId: shiftId });
    });
  }

  async #policiesNaming(tx: Tx, staffId: string): Promise<string[]> {
    const policies = await tx.escalationPolicy.findMany({
      where: { organizationId: this.organizationId },
      select: { id: true, levels: true },
    });
    return policies
      .filter((policy) => {
        const levels = escalationLevelsSchema.safeParse(policy.levels);
        return levels.success && namedStaff(levels.data).includes(staffId);
      })
      .map((policy) => policy.id);
  }
}

/** Escalation policies: a household's, or the organization's default. */
export class EscalationPolicies extends ScopedRepository {
  async list(input: { limit: number; cursor?: Keyset | undefined }): Promise<Page<PolicyView>> {
    const rows = await this.prisma.escalationPolicy.findMany({
      where: { organizationId: this.organizationId, ...keysetWhere('createdAt', input.cursor, 'asc') },
      orderBy: keysetOrder('createdAt', 'asc'),
      take: input.limit + 1,
    });
    const page = keysetPage(rows, input.limit, (row) => row.createdAt);
    return { data: page.data.map(policyView), nextCursor: page.nextCursor };
  }

  async get(input: { policyId: string }): Promise<PolicyView> {
    const row = await this.prisma.escalationPolicy.findFirst({
      where: { id: input.policyId, organizationId: this.organizationId },
    });
    if (!row) throw new NotFoundError(missingPolicy(input.policyId));
    return policyView(row);
  }

  async create(input: { policy: PolicyCreate }): Promise<PolicyView> {
    const data = policyCreateSchema.parse(input.policy);
    const organizationId = this.organizationId;
    const row = await this.prisma.$transaction(async (tx) => {
      if (data.householdId) await requireHousehold(tx, organizationId, data.householdId);
      await this.#requireStaff(tx, namedStaff(data.levels));
      const policy = await tx.escalationPolicy.create({ data: { ...data, organizationId } });
      await recordAudit(tx, this.principal, { action: 'policy.create', resourceType: 'policy', resourceId: policy.id });
      return policy;
    });
    return policyView(row);
  }

  async update(input: { policyId: string; changes: PolicyUpdate }): Promise<PolicyView> {
    const { policyId, changes } = input;
    const row = await this.prisma.$transaction(async (tx) => {
      if (changes.levels) await this.#requireStaff(tx, namedStaff(changes.levels));
      const policy = await guarded(
        () =>
          tx.escalationPolicy.update({ where: { id: policyId, organizationId: this.organizationId }, data: changes }),
        { notFound: missingPolicy(policyId) },
      );
      await recordAudit(tx, this.principal, {
        action: 'policy.update',
        resourceType: 'policy',
        resourceId: policyId,
        details: { fields: Object.keys(changes) },
      });
      return policy;
    });
    return policyView(row);
  }

  async delete(input: { policyId: string }): Promise<void> {
    const { policyId } = input;
    await this.prisma.$transaction(async (tx) => {
      await guarded(
        () => tx.escalationPolicy.delete({ where: { id: policyId, organizationId: this.organizationId } }),
        { notFound: missingPolicy(policyId) },
      );
      await recordAudit(tx, this.principal, { action: 'policy.delete', resourceType: 'policy', resourceId: policyId });
    });
  }

  /** Every named person must be this organization's: a level must never page a stranger. */
  async #requireStaff(tx: Tx, staffIds: string[]): Promise<void> {
    if (staffIds.length === 0) return;
    const found = await tx.onCallStaff.findMany({
      where: { id: { in: staffIds }, organizationId: this.organizationId },
      select: { id: true },
    });
    const known = new Set(found.map((staff) => staff.id));
    const unknown = staffIds.filter((id) => !known.has(id));
    if (unknown.length > 0) throw new NotFoundError(missingStaff(unknown.join(', ')));
  }
}
