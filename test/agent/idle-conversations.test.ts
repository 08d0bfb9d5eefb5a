import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Conversations, consolidationJob, createModelProvider, idleConversationJob } from '../../src/agent/index.js';
import type { Database } from '../../src/db/index.js';
import { createQueue, type JobQueue } from '../../src/jobs/index.js';
import { createLogger } from '../../src/logger.js';
import { createMemoryEngine, type MemoryEngine } from '../../src/memory/index.js';
import { hashEmbedder, type SeededHousehold, seedHousehold } from '../memory/helpers.js';
import { createTestDatabase } from '../support/database.js';
import { type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';

const logger = createLogger({ LOG_LEVEL: 'silent', LOG_FORMAT: 'json' });

let db: Database;
let stub: OpenAIStub;
let memory: MemoryEngine;
let queue: JobQueue;
let conversations: Conversations;
let household: SeededHousehold;

beforeAll(async () => {
  db = await createTestDatabase();
  stub = await startOpenAIStub();
  memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder() });
  const provider = createModelProvider({
    apiKey: 'sk-test',
    baseUrl: stub.url,
    defaultModel: 'gpt-test',
    maxRetries: 0,
  });
  const agent = { prisma: db.prisma, memory, provider, logger, maxSteps: 4 };
  queue = createQueue({ db, logger, pollingIntervalSeconds: 0.5 });
  await queue.start();
  conversations = new Conversations({ ...agent, queue, idleSeconds: 1 });
  await queue.register(consolidationJob(agent));
  await queue.register(idleConversationJob(conversations));
  household = await seedHousehold(db.prisma, memory);
});
afterAll(async () => {
  await queue.stop();
  await memory.close();
  await stub.close();
  await db.close();
});

describe('a text conversation nobody ends', () => {
  it('is ended by the idle job once quiet, then consolidated, with no one calling end', async () => {
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
