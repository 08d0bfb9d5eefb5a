/**
 * The call lifecycle as a channel other than text uses it (the voice bridge next): an unknown
 * caller's call, turns whose work is the channel's own, one at a time, and one consolidation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consolidationJob } from '../../src/agent/index.js';
import { CallLifecycle, type CallTurn, idleCallJob } from '../../src/calls/index.js';
import { ConflictError, NotFoundError } from '../../src/errors.js';
import { createQueue, type JobQueue } from '../../src/jobs/index.js';
import { type AgentFixture, openAgentFixture, silentLogger } from '../agent/fixture.js';
import { seedHousehold } from '../memory/helpers.js';

let fixture: AgentFixture;
let queue: JobQueue;
let calls: CallLifecycle;

beforeAll(async () => {
  fixture = await openAgentFixture();
  queue = createQueue({ db: fixture.db, logger: silentLogger });
  await queue.start();
  calls = new CallLifecycle({ ...fixture.agent, queue, idleSeconds: 3600 });
  // Declared, not worked: the jobs stay queued for the test to look at.
  await queue.register({ ...consolidationJob(fixture.agent), handler: undefined });
  await queue.register({ ...idleCallJob(calls), handler: undefined });
});
afterAll(async () => {
  await queue.stop();
  await fixture.close();
});

describe('the call lifecycle', () => {
  it("runs an unknown caller's call one turn at a time, counts the turns, and queues one consolidation when it ends", async () => {
    const { householdId } = fixture.household;
    const call = await calls.start({ householdId, memberId: null, channel: 'voice', callerVerified: false });
    expect(call).toMatchObject({ channel: 'voice', status: 'in_progress', memberId: null, turns: 0 });

    let running!: () => void;
    const started = new Promise<void>((resolve) => (running = resolve));
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const first = calls.turn(call, async (turn) => {
      running();
      await finished;
      return turn;
    });
    await started;
    await expect(calls.turn(call, async () => 'overlapping')).rejects.toThrow(
      new ConflictError(`Call ${call.id} is still answering the previous message; wait for its reply.`),
    );
    await expect(calls.end(call)).rejects.toThrow(`Call ${call.id} is still answering`);
    finish();
    expect(await first).toMatchObject<Partial<CallTurn>>({
      number: 1,
      scope: {
        organizationId: call.organizationId,
        householdId,
        memberId: null,
        callId: call.id,
        callerVerified: false,
      },
    });
    expect(await calls.turn(call, async (turn) => turn.number)).toBe(2);

    const ended = await calls.end(call);
    expect(ended.consolidationJobId).toEqual(expect.any(String));
    expect(await calls.end(call)).toEqual({ consolidationJobId: null });
    await expect(calls.turn(call, async () => 'late')).rejects.toThrow(`Call ${call.id} has ended`);
    expect(await fixture.db.prisma.call.findUniqueOrThrow({ where: { id: call.id } })).toMatchObject({
      status: 'completed',
      endedAt: expect.any(Date),
      turns: 2,
      turnLeaseUntil: null,
    });
  });

  it("refuses to start a call for a member of another household, and finds no call of another household's", async () => {
    const { householdId, nana } = fixture.household;
    const elsewhere = '00000000-0000-4000-8000-000000000000';
    await expect(
      calls.start({ householdId: elsewhere, memberId: nana, channel: 'text', callerVerified: true }),
    ).rejects.toThrow(new NotFoundError(`No member ${nana} in household ${elsewhere}.`));
    const call = await calls.start({ householdId, memberId: nana, channel: 'text', callerVerified: true });
    await expect(calls.find({ householdId: elsewhere, callId: call.id, channel: 'text' })).rejects.toThrow(
      `No conversation ${call.id} in household ${elsewhere}.`,
    );
  });

  it('answers 404, not a storage error, when the household is deleted between the check and the start', async () => {
    const { prisma } = fixture.db;
    const doomed = await seedHousehold(prisma, fixture.memory, 'The Doomed');
    // Forces the interleaving: the household goes just before the call row would be written.
    await prisma.$executeRawUnsafe(
      'CREATE FUNCTION delete_household_first() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM households WHERE id = NEW.household_id; RETURN NEW; END $$',
    );
    await prisma.$executeRawUnsafe(
      'CREATE TRIGGER delete_household_first BEFORE INSERT ON calls FOR EACH ROW EXECUTE FUNCTION delete_household_first()',
    );
    try {
      const start = calls.start({
        householdId: doomed.householdId,
        memberId: doomed.nana,
        channel: 'text',
        callerVerified: true,
      });
      await expect(start).rejects.toThrow(
        new NotFoundError(`No member ${doomed.nana} in household ${doomed.householdId}.`),
      );
      await expect(start).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      await prisma.$executeRawUnsafe('DROP TRIGGER delete_household_first ON calls');
      await prisma.$executeRawUnsafe('DROP FUNCTION delete_household_first');
    }
  });
});
