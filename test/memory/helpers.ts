/**
 * Shared set-up for the memory tests: a seeded household (two members, default blocks created
 * through the engine), scopes for its callers, a settable clock, and a stand-in embedder for
 * tests where meaning does not matter (search quality is tested with the real local model).
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { PrismaClient } from '../../src/db/index.js';
import type { Embedder, MemoryEngine, SessionScope } from '../../src/memory/index.js';

/** A clock the test moves by hand. */
export function testClock(start = '2026-11-26T14:05:00Z') {
  let now = new Date(start);
  return {
    now: () => new Date(now),
    set(iso: string) {
      now = new Date(iso);
    },
  };
}

/**
 * Unit vectors derived from a hash of the text: the same text always gets the same vector,
 * different texts unrelated ones. Not semantic; counts its calls.
 */
export function hashEmbedder(model = 'test-hash-embedder'): Embedder & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    model,
    dimensions: 512,
    calls,
    async embed(texts) {
      calls.push(texts);
      return texts.map((text) => {
        const bytes = createHash('sha512').update(text).digest();
        const values = Array.from({ length: 512 }, (_, index) => (bytes[index % 64]! - 127.5) * ((index % 7) + 1));
        const norm = Math.hypot(...values);
        return values.map((value) => value / norm);
      });
    },
  };
}

export type SeededHousehold = {
  organizationId: string;
  householdId: string;
  nana: string;
  chidi: string;
  callId: string;
};

/** An organization and the Okafor household (Europe/London) with two members and their default blocks. */
export async function seedHousehold(
  prisma: PrismaClient,
  memory: MemoryEngine,
  name = 'The Okafor household',
): Promise<SeededHousehold> {
  return prisma.$transaction(async (tx) => {
    const organization = await tx.organization.create({ data: { name: `Org of ${name}` } });
    const organizationId = organization.id;
    const household = await tx.household.create({
      data: { organizationId, name, timezone: 'Europe/London', locale: 'en-GB' },
    });
    const householdId = household.id;
    await memory.createHouseholdBlocks({ tx, organizationId, householdId });
    const member = async (memberName: string, relationship: string) => {
      const created = await tx.member.create({ data: { organizationId, householdId, name: memberName, relationship } });
      await memory.createMemberBlock({ tx, organizationId, householdId, memberId: created.id });
      return created.id;
    };
    const nana = await member('Adaeze Okafor', 'grandmother');
    const chidi = await member('Chidi Okafor', 'son');
    const call = await tx.call.create({ data: { organizationId, householdId, memberId: nana } });
    return { organizationId, householdId, nana, chidi, callId: call.id };
  });
}

/** A new call for `memberId` (null: an unknown caller). */
export async function newCall(prisma: PrismaClient, seeded: SeededHousehold, memberId: string | null) {
  const call = await prisma.call.create({
    data: { organizationId: seeded.organizationId, householdId: seeded.householdId, memberId },
  });
  return call.id;
}

/** The scope of a call. */
export function scopeOf(
  seeded: SeededHousehold,
  input: { memberId: string | null; callId?: string | null; verified?: boolean },
): SessionScope {
  return {
    organizationId: seeded.organizationId,
    householdId: seeded.householdId,
    memberId: input.memberId,
    callId: input.callId === undefined ? seeded.callId : input.callId,
    callerVerified: input.verified ?? false,
  };
}

/** Asserts that `promise` rejects with an instance of `type` whose message is exactly `message`. */
export async function expectRejection(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => Error,
  message: string,
): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toBe(message);
}
