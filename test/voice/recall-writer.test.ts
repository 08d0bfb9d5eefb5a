import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { AppendMessageInput, SessionScope } from '../../src/memory/index.js';
import { RecallWriter } from '../../src/voice/recall-writer.js';

const scope: SessionScope = {
  organizationId: 'o',
  householdId: 'h',
  memberId: null,
  callId: 'c',
  callerVerified: false,
};
const logger = createLogger({ LOG_LEVEL: 'silent', LOG_FORMAT: 'json' });

describe("a call's transcript on its way to recall", () => {
  it('keeps the order of the lines, and retries a write that fails before giving up on it', async () => {
    const saved: string[] = [];
    let failuresLeft = 2;
    const writer = new RecallWriter({
      logger,
      retryPausesMs: [1, 1],
      memory: {
        async appendMessage(input: AppendMessageInput) {
          if (input.content === 'flaky' && failuresLeft-- > 0) throw new Error('database busy');
          if (input.content === 'doomed') throw new Error('database gone');
          saved.push(input.content);
          return { id: input.content, createdAt: new Date() };
        },
      },
    });
    writer.write(scope, { role: 'user', content: 'first' });
    writer.write(scope, { role: 'assistant', content: 'flaky' });
    writer.write(scope, { role: 'user', content: 'doomed' });
    writer.write(scope, { role: 'user', content: 'last' });
    await writer.flush();
    expect(saved).toEqual(['first', 'flaky', 'last']);
  });
});
