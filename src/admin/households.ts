/**
 * Households, their members and phone lines, created together with the core-memory blocks
 * they imply: a household gets its shared blocks, a member their own `caller` block.
 */
import { Prisma, type PrismaClient } from '../db/index.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { CALLER_BLOCK, HOUSEHOLD_DEFAULT_BLOCKS } from '../memory/defaults.js';
import {
  type HouseholdCreate,
  householdCreateSchema,
  type MemberCreate,
  memberCreateSchema,
  type PhoneLineCreate,
  phoneLineCreateSchema,
} from './schemas.js';

type Db = PrismaClient | Prisma.TransactionClient;

/** Creates a household and its default shared blocks in one transaction. */
export async function createHousehold(prisma: PrismaClient, organizationId: string, input: HouseholdCreate) {
  const data = householdCreateSchema.parse(input);
  return prisma.$transaction(async (tx) => {
    const household = await tx.household.create({ data: { ...data, organizationId } });
    await tx.memoryBlock.createMany({
      data: HOUSEHOLD_DEFAULT_BLOCKS.map((block) => ({ ...block, organizationId, householdId: household.id })),
    });
    return household;
  });
}

async function householdOf(db: Db, organizationId: string, householdId: string) {
  const household = await db.household.findFirst({ where: { id: householdId, organizationId } });
  if (!household) throw new NotFoundError(`No household ${householdId}.`);
  return household;
}

/** Adds a member and their `caller` block; a phone number already used in the organization is a conflict. */
export async function addMember(
  prisma: PrismaClient,
  organizationId: string,
  householdId: string,
  input: MemberCreate,
) {
  const data = memberCreateSchema.parse(input);
  return prisma.$transaction(async (tx) => {
    await householdOf(tx, organizationId, householdId);
    const member = await uniqueOr(
      () => tx.member.create({ data: { ...data, organizationId, householdId } }),
      `Phone number ${data.phone} already belongs to another member of this organization.`,
    );
    await tx.memoryBlock.create({
      data: { ...CALLER_BLOCK, organizationId, householdId, memberId: member.id, ownerKey: member.id },
    });
    return member;
  });
}

/** Registers a Twilio number; numbers are unique across Hearth, since Twilio routes each to one place. */
export async function addPhoneLine(prisma: PrismaClient, organizationId: string, input: PhoneLineCreate) {
  const data = phoneLineCreateSchema.parse(input);
  if (data.householdId) await householdOf(prisma, organizationId, data.householdId);
  return uniqueOr(
    () => prisma.phoneLine.create({ data: { ...data, organizationId } }),
    `Phone number ${data.number} is already registered as a phone line.`,
  );
}

/** Runs a create, turning a unique-constraint violation into a `ConflictError` with `message`. */
async function uniqueOr<T>(create: () => Promise<T>, message: string): Promise<T> {
  try {
    return await create();
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new ConflictError(message, { cause: error });
    }
    throw error;
  }
}
