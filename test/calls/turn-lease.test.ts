import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CallLifecycle } from '../../src/calls/index.js';
import { createQueue } from '../../src/jobs/index.js';
import { createMemoryEngine } from '../../src/memory/index.js';
import { hashEmbedder, seedHousehold } from '../memory/helpers.js';
import { createTestDatabase } from '../support/database.js';

describe('a turn whose lease cannot be released', () => {
  it('fails with its own error, and the failed release is logged (the lease then runs out by itself)', async () => {
    const db = await createTestDatabase();
    const memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder() });
    const { callId } = await seedHousehold(db.prisma, memory);
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const calls = new CallLifecycle({
      prisma: db.prisma,
      memory,
      queue: createQueue({ db, logger }),
      logger,
      idleSeconds: 60,
    });

    const turn = calls.turn({ id: callId, channel: 'voice' }, async () => {
      // The database goes away mid-turn, as when its connection drops, and the turn fails.
      await memory.close();
      await db.close();
      throw new Error('the turn failed');
    });
    await expect(turn).rejects.toThrow('the turn failed');
    expect(lines.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({ level: 40, callId, msg: expect.stringContaining('could not release the turn lease') }),
    );
  });
});
