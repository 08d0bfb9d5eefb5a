import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { hashSecret } from '../../src/secrets.js';
import { MAX_PIN_TRIES, PinCheck } from '../../src/voice/pin-check.js';
import { createTestDatabase } from '../support/database.js';

let db: Database;
let household: { id: string; organizationId: string };
let nana: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const organization = await db.prisma.organization.create({ data: { name: 'PIN test' } });
  household = await db.prisma.household.create({ data: { organizationId: organization.id, name: 'Home' } });
  const member = await db.prisma.member.create({
    data: {
      organizationId: organization.id,
      householdId: household.id,
      name: 'Nana',
      pinHash: await hashSecret('2468'),
    },
  });
  nana = member.id;
  await db.prisma.member.create({
    data: { organizationId: organization.id, householdId: household.id, name: 'No PIN' },
  });
});
afterAll(() => db.close());

async function enter(check: PinCheck, keys: string) {
  let outcome: Awaited<ReturnType<PinCheck['press']>>;
  for (const key of keys) outcome = await check.press(key);
  return outcome;
}

describe('the PIN on the keypad', () => {
  it('verifies the member the number matched, after wrong tries, and then ignores keys', async () => {
    const check = new PinCheck({ prisma: db.prisma, household, memberId: nana });
    expect(await enter(check, '1111#')).toEqual({ kind: 'wrong', triesLeft: MAX_PIN_TRIES - 1 });
    // `*` starts over; digits past eight are not a PIN's.
    expect(await enter(check, '99*2468#')).toEqual({ kind: 'verified', member: { id: nana, name: 'Nana' } });
    expect(await enter(check, '2468#')).toBeUndefined();
  });

  it('finds which member an unknown caller is by their PIN', async () => {
    const check = new PinCheck({ prisma: db.prisma, household, memberId: null });
    expect(await enter(check, '2468#')).toEqual({ kind: 'verified', member: { id: nana, name: 'Nana' } });
  });

  it('locks after three wrong PINs, even if the fourth is right', async () => {
    const check = new PinCheck({ prisma: db.prisma, household, memberId: nana });
    expect(await enter(check, '0000#')).toEqual({ kind: 'wrong', triesLeft: 2 });
    expect(await enter(check, '#')).toEqual({ kind: 'wrong', triesLeft: 1 });
    expect(await enter(check, '123456789#')).toEqual({ kind: 'locked' });
    expect(await enter(check, '2468#')).toBeUndefined();
  });
});
