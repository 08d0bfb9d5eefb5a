import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupAccountTool } from '../../src/agent/index.js';
import type { Database } from '../../src/db/index.js';
import { createTestDatabase } from '../support/database.js';

let db: Database;
let householdId: string;
let organizationId: string;
let grace: string;
let ruth: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const organization = await db.prisma.organization.create({ data: { name: 'Riverside Home Care' } });
  organizationId = organization.id;
  const household = await db.prisma.household.create({
    data: { organizationId, name: 'The Adeyemis', timezone: 'Europe/London' },
  });
  householdId = household.id;
  const member = (name: string, relationship: string, role: 'member' | 'caregiver') =>
    db.prisma.member.create({ data: { organizationId, householdId, name, relationship, role } });
  grace = (await member('Grace Adeyemi', 'daughter', 'caregiver')).id;
  ruth = (await member('Ruth Adeyemi', 'mother', 'member')).id;
});

afterAll(() => db.close());

describe('lookup_account', () => {
  const run = (memberId: string | null, callerVerified: boolean) =>
    lookupAccountTool(db.prisma).run({
      arguments: '{}',
      scope: { organizationId, householdId, memberId, callId: null, callerVerified },
    });

  it('tells a verified member who is in the household and who is on the call', async () => {
    const result = await run(grace, true);
    expect(result).toEqual({
      ok: true,
      output: [
        'Household: The Adeyemis (time zone Europe/London)',
        'Members:',
        '- Grace Adeyemi (daughter, caregiver) — on this call',
        '- Ruth Adeyemi (mother)',
      ].join('\n'),
    });
    expect((await run(ruth, true)).output).toContain('- Ruth Adeyemi (mother) — on this call');
  });

  it('tells an unverified or unknown caller nothing about the account', async () => {
    for (const [memberId, verified] of [
      [grace, false],
      [null, false],
    ] as const) {
      const result = await run(memberId, verified);
      expect(result.ok).toBe(false);
      expect(result.output).toContain('verified member');
      expect(result.output).not.toContain('Ruth');
    }
  });
});
