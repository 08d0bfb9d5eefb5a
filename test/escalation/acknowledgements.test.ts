import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { ConflictError, NotFoundError } from '../../src/errors.js';
import {
  ACK_LINK_TTL_SECONDS,
  ackLinkToken,
  acknowledgeEscalation,
  resolveEscalation,
  validAckLinkToken,
} from '../../src/escalation/acknowledgements.js';
import { createTestDatabase } from '../support/database.js';

let db: Database;
let organizationId: string;
let householdId: string;
let otherOrganizationId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const organization = await db.prisma.organization.create({ data: { name: 'Care' } });
  const other = await db.prisma.organization.create({ data: { name: 'Elsewhere' } });
  organizationId = organization.id;
  otherOrganizationId = other.id;
  householdId = (await db.prisma.household.create({ data: { organizationId, name: 'Home' } })).id;
});
afterAll(() => db.close());

function openEscalation() {
  return db.prisma.escalation.create({
    data: { organizationId, householdId, severity: 'high', reason: 'Breathing trouble at night', ackCode: '4821' },
  });
}

describe('acknowledging an escalation', () => {
  it('lets the first acknowledgement win and records every later one, by any channel', async () => {
    const escalation = await openEscalation();
    const at = new Date('2026-12-01T23:04:00Z');
    const [sms, voice] = await Promise.all([
      acknowledgeEscalation(db.prisma, {
        organizationId,
        escalationId: escalation.id,
        via: 'sms',
        by: '+15555550150',
        now: at,
      }),
      acknowledgeEscalation(db.prisma, {
        organizationId,
        escalationId: escalation.id,
        via: 'voice',
        by: 'staff-2',
        now: at,
      }),
    ]);
    expect([sms.first, voice.first].sort()).toEqual([false, true]);
    const winner = sms.first ? sms : voice;
    expect(winner.escalation).toMatchObject({ status: 'acknowledged', acknowledgedAt: at });
    const late = await acknowledgeEscalation(db.prisma, {
      organizationId,
      escalationId: escalation.id,
      via: 'link',
      by: 'staff-3',
    });
    expect(late.first).toBe(false);
    expect(late.escalation.acknowledgedBy).toBe(winner.escalation.acknowledgedBy);
    const acks = await db.prisma.escalationAck.findMany({ where: { escalationId: escalation.id } });
    expect(acks.map((ack) => ack.first).sort()).toEqual([false, false, true]);
  });

  it('is a 404 for another organization, and changes nothing', async () => {
    const escalation = await openEscalation();
    const foreign = acknowledgeEscalation(db.prisma, {
      organizationId: otherOrganizationId,
      escalationId: escalation.id,
      via: 'admin',
      by: 'key-1',
    });
    await expect(foreign).rejects.toBeInstanceOf(NotFoundError);
    expect(await db.prisma.escalation.findUniqueOrThrow({ where: { id: escalation.id } })).toMatchObject({
      status: 'open',
    });
    expect(await db.prisma.escalationAck.count({ where: { escalationId: escalation.id } })).toBe(0);
  });

  it('is resolved once, with an outcome and the responder’s instructions for next time', async () => {
    const escalation = await openEscalation();
    const { escalation: resolved } = await resolveEscalation(db.prisma, {
      organizationId,
      escalationId: escalation.id,
      outcome: 'Visited; oxygen fine by midnight.',
      instructions: 'If the breathing worsens again, call 999 and then me.',
    });
    expect(resolved).toMatchObject({
      status: 'resolved',
      outcome: 'Visited; oxygen fine by midnight.',
      instructions: 'If the breathing worsens again, call 999 and then me.',
    });
    const again = resolveEscalation(db.prisma, { organizationId, escalationId: escalation.id, outcome: 'again' });
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toThrow('resolved already');
  });
});

describe('the acknowledgement link', () => {
  it('acknowledges its own escalation, as the person it was sent to, for a week, and nothing else', () => {
    const now = Date.UTC(2026, 11, 1, 23);
    const sent = { escalationId: 'escalation-1', staffId: 'staff-1' };
    const token = ackLinkToken('secret', sent, now);
    expect(validAckLinkToken('secret', sent, token, now + 3_600_000)).toBe(true);
    expect(validAckLinkToken('secret', sent, token, now + (ACK_LINK_TTL_SECONDS + 1) * 1000)).toBe(false);
    expect(validAckLinkToken('secret', { ...sent, escalationId: 'escalation-2' }, token, now)).toBe(false);
    expect(validAckLinkToken('secret', { ...sent, staffId: 'staff-2' }, token, now)).toBe(false);
    expect(validAckLinkToken('another secret', sent, token, now)).toBe(false);
    expect(validAckLinkToken('secret', sent, 'forged', now)).toBe(false);
  });
});
