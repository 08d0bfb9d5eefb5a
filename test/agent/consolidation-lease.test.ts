import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConsolidationLease } from '../../src/agent/consolidation-lease.js';
import { createMemoryEngine } from '../../src/memory/index.js';
import { hashEmbedder, seedHousehold } from '../memory/helpers.js';
import { createTestDatabase } from '../support/database.js';

describe('the consolidation lease', () => {
  it('logs a release that fails (the lease then runs out by itself) and never throws it', async () => {
    const db = await createTestDatabase();
    const memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder() });
    const { callId } = await seedHousehold(db.prisma, memory);
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const lease = new ConsolidationLease({ prisma: db.prisma, callId, logger });
    expect(await lease.claim()).toBe(true);

    // The database goes away under the worker, as when its connection drops.
    await memory.close();
    await db.close();
    await expect(lease.release()).resolves.toBeUndefined();
    expect(lines.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({ level: 40, callId, msg: expect.stringContaining('could not release') }),
    );
  });
});
