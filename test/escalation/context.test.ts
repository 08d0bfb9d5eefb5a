import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { escalationContext, MAX_ESCALATION_CONTEXT_CHARS } from '../../src/escalation/index.js';
import { createTestDatabase } from '../support/database.js';

let db: Database;
let organizationId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  organizationId = (await db.prisma.organization.create({ data: { name: 'Care' } })).id;
});
afterAll(() => db.close());

const NOW = new Date('2026-12-01T23:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

async function household(agentSettings: object = {}) {
  return db.prisma.household.create({
    data: { organizationId, name: 'Home', timezone: 'Europe/London', agentSettings },
  });
}

function episode(householdId: string, fields: { createdAt: Date; reason: string } & Record<string, unknown>) {
  return db.prisma.escalation.create({
    data: { organizationId, householdId, severity: 'high', ackCode: '1234', ...fields },
  });
}

describe("a household's escalation context", () => {
  it("carries the rule, and last week's episode with who answered, the outcome and the instructions", async () => {
    const home = await household({ escalateWhen: 'breathing trouble at night' });
    await episode(home.id, {
      createdAt: daysAgo(6),
      reason: 'Breathing trouble at night',
      status: 'resolved',
      level: 1,
      acknowledgedBy: 'Dr Ana Ruiz',
      outcome: 'Visited; oxygen fine by midnight.',
      instructions: 'If the breathing worsens again, call 999 and then me.',
    });
    await episode(home.id, { createdAt: daysAgo(30), reason: 'A fall last month', status: 'resolved' });
    const context = await escalationContext(db.prisma, { householdId: home.id, now: NOW });
    expect(context).toContain('asks for a person (use the escalate tool) when: breathing trouble at night');
    expect(context).toContain('25 Nov 2026, 23:00, high: Breathing trouble at night.');
    expect(context).toContain('Acknowledged by Dr Ana Ruiz.');
    expect(context).toContain("The responder's instructions for next time: If the breathing worsens again, call 999");
    expect(context).not.toContain('A fall last month');
  });

  it('keeps an open episode however old, and the newest within its size limit', async () => {
    const home = await household({ escalationHistoryDays: 3 });
    await episode(home.id, { createdAt: daysAgo(20), reason: 'Still open from before', status: 'open' });
    for (let n = 0; n < 15; n++) {
      await episode(home.id, { createdAt: daysAgo(n / 10), reason: `Episode ${n} ${'x'.repeat(300)}` });
    }
    const context = await escalationContext(db.prisma, { householdId: home.id, now: NOW });
    expect(context.length).toBeLessThanOrEqual(MAX_ESCALATION_CONTEXT_CHARS);
    expect(context).toContain('Episode 0 ');
    expect(context).not.toContain('Episode 14 ');
    expect(context).toContain('Episodes in the last 3 days');
  });

  it('is empty for a household with neither a rule nor episodes', async () => {
    const home = await household();
    expect(await escalationContext(db.prisma, { householdId: home.id, now: NOW })).toBe('');
  });
});
