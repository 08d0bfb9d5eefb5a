import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { consolidationJob } from '../../src/agent/index.js';
import { CallLifecycle, idleCallJob, TextChannel } from '../../src/calls/index.js';
import { createQueue, type JobQueue } from '../../src/jobs/index.js';
import { type AgentFixture, openAgentFixture, silentLogger } from '../agent/fixture.js';

let fixture: AgentFixture;
let queue: JobQueue;
let conversations: TextChannel;

beforeAll(async () => {
  fixture = await openAgentFixture();
  queue = createQueue({ db: fixture.db, logger: silentLogger, pollingIntervalSeconds: 0.5 });
  await queue.start();
  const calls = new CallLifecycle({ ...fixture.agent, queue, idleSeconds: 1 });
  conversations = new TextChannel({ ...fixture.agent, calls });
  await queue.register(consolidationJob(fixture.agent));
  await queue.register(idleCallJob(calls));
});
afterAll(async () => {
  await queue.stop();
  await fixture.close();
});

describe('a text conversation nobody ends', () => {
  it('is ended by the idle job once quiet, then consolidated, with no one calling end', async () => {
    const { stub, db, household } = fixture;
    stub.queueChat({ text: 'Hello Chidi.' }, { text: 'Chidi said hello and went quiet.' });
    const { conversationId } = await conversations.send({
      householdId: household.householdId,
      memberId: household.chidi,
      text: 'Hello!',
    });
    await vi.waitFor(
      async () =>
        expect(await db.prisma.call.findUniqueOrThrow({ where: { id: conversationId } })).toMatchObject({
          status: 'completed',
          summary: 'Chidi said hello and went quiet.',
          consolidatedAt: expect.any(Date),
        }),
      { timeout: 30_000, interval: 200 },
    );
  });
});
