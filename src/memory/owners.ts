/**
 * What a memory row belongs to: its household, and perhaps a member and a call. A write whose
 * owner was deleted after the caller checked it fails on a foreign key; that is a `NotFoundError`
 * naming what is gone, as the check would have said a moment earlier, never a database error.
 */
import { Prisma, type PrismaClient } from '../db/index.js';
import { NotFoundError } from '../errors.js';

/** The rows a new memory row points at. */
export interface Owners {
  householdId: string;
  memberId?: string | null;
  callId?: string | null;
}

/** Runs `write`; a foreign-key failure becomes the `NotFoundError` of the owner that is gone. */
export async function writeUnder<T>(prisma: PrismaClient, owners: Owners, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2003') throw error;
    throw (await goneOwner(prisma, owners, error)) ?? error;
  }
}

// Asked after the failure rather than read from the error: constraint names differ between
// driver adapters, and the household going takes its members and calls with it.
async function goneOwner(prisma: PrismaClient, owners: Owners, cause: unknown): Promise<NotFoundError | undefined> {
  const { householdId, memberId, callId } = owners;
  const [household, member, call] = await Promise.all([
    prisma.household.count({ where: { id: householdId } }),
    memberId ? prisma.member.count({ where: { id: memberId, householdId } }) : 1,
    callId ? prisma.call.count({ where: { id: callId, householdId } }) : 1,
  ]);
  if (household === 0) return new NotFoundError(`No household ${householdId}.`, { cause });
  if (member === 0) return new NotFoundError(`No member ${memberId} in household ${householdId}.`, { cause });
  if (call === 0) return new NotFoundError(`No call ${callId} in household ${householdId}.`, { cause });
  return undefined;
}
