/**
 * What the agent tests stand on: a fresh database with a seeded household, a memory engine with
 * the hash embedder (no model to load), the OpenAI stand-in, and the agent's dependencies over them.
 */
import { type ConsolidationDeps, createModelProvider } from '../../src/agent/index.js';
import type { Database } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { createMemoryEngine, type MemoryEngine } from '../../src/memory/index.js';
import { hashEmbedder, type SeededHousehold, seedHousehold } from '../memory/helpers.js';
import { createTestDatabase } from '../support/database.js';
import { type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';

export const silentLogger = createLogger({ LOG_LEVEL: 'silent', LOG_FORMAT: 'json' });

export interface AgentFixture {
  db: Database;
  stub: OpenAIStub;
  memory: MemoryEngine;
  /** prisma, memory, provider (the stand-in, no retries), logger, maxSteps: 4. */
  agent: ConsolidationDeps;
  household: SeededHousehold;
  close(): Promise<void>;
}

export async function openAgentFixture(): Promise<AgentFixture> {
  const db = await createTestDatabase();
  const stub = await startOpenAIStub();
  const memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder() });
  const provider = createModelProvider({
    apiKey: 'sk-test',
    baseUrl: stub.url,
    defaultModel: 'gpt-test',
    maxRetries: 0,
  });
  const agent = { prisma: db.prisma, memory, provider, logger: silentLogger, maxSteps: 4 };
  const household = await seedHousehold(db.prisma, memory);
  return {
    db,
    stub,
    memory,
    agent,
    household,
    async close() {
      await memory.close();
      await stub.close();
      await db.close();
    },
  };
}
