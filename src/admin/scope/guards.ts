/**
 * The checks every scoped repository shares: "does this household (member) exist in this
 * organization?" and the mapping of Prisma's constraint errors onto Hearth's. A row of another
 * organization is reported exactly like a row that does not exist.
 */
import { Prisma } from '../../db/index.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { Db, Tx } from './principal.js';

/** Not-found messages: they name what was asked for, never whether it exists elsewhere. */
export const missing = {
  household: (householdId: string) => `No household ${householdId} in this organization.`,
  member: (householdId: string, memberId: string) => `No member ${memberId} in household ${householdId}.`,
  phoneLine: (phoneLineId: string) => `No phone line ${phoneLineId} in this organization.`,
  call: (householdId: string, callId: string) => `No call ${callId} in household ${householdId}.`,
  passage: (householdId: string, passageId: string) => `No passage ${passageId} in household ${householdId}.`,
  apiKey: (keyId: string) => `No API key ${keyId} in this organization.`,
};

/** The household, if it belongs to `organizationId`; else `NotFoundError`. */
export async function requireHousehold(db: Db | Tx, organizationId: string, householdId: string) {
  const household = await db.household.findFirst({ where: { id: householdId, organizationId } });
  if (!household) throw new NotFoundError(missing.household(householdId));
  return household;
}

/** The member, if they belong to that household of `organizationId`; else `NotFoundError`. */
export async function requireMember(db: Db | Tx, organizationId: string, householdId: string, memberId: string) {
  const member = await db.member.findFirst({ where: { id: memberId, householdId, organizationId } });
  if (!member) throw new NotFoundError(missing.member(householdId, memberId));
  return member;
}

/** Runs a write, turning "no such row" into `NotFoundError` and a unique violation into `ConflictError`. */
export async function guarded<T>(
  write: () => Promise<T>,
  messages: { notFound?: string; conflict?: string | undefined },
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError) {
      if (error.code === 'P2025' && messages.notFound) throw new NotFoundError(messages.notFound, { cause: error });
      if (error.code === 'P2002' && messages.conflict) throw new ConflictError(messages.conflict, { cause: error });
    }
    throw error;
  }
}
