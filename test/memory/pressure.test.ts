import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/errors.js';
import type { ContextMessage, Summarizer } from '../../src/memory/index.js';
import { checkThresholds, estimateTokens, measurePressure, summarizeOldest } from '../../src/memory/pressure.js';

const thresholds = { warnTokens: 1000, evictTokens: 2000 };
/** 396 characters: 99 tokens, plus 4 for the message's framing. */
const turn = (role: string, index: number): ContextMessage => ({ role, content: `${index}`.padEnd(396, '.') });

describe('measurePressure', () => {
  it('estimates tokens as characters / 4 plus 4 per message', () => {
    expect(estimateTokens('abcde')).toBe(2);
    const result = measurePressure({ messages: [turn('user', 0)], instructions: 'x'.repeat(400), thresholds });
    expect(result).toEqual({ tokens: 203, level: 'ok' });
  });

  it('warns past the first threshold, telling the model what to do', () => {
    const messages = Array.from({ length: 9 }, (_, index) => turn(index % 2 ? 'assistant' : 'user', index));
    expect(measurePressure({ messages, instructions: '', thresholds })).toEqual({
      tokens: 927,
      level: 'ok',
    });
    const more = [...messages, turn('user', 9)];
    expect(measurePressure({ messages: more, instructions: '', thresholds })).toEqual({
      tokens: 1030,
      level: 'warn',
      notice:
        'Memory pressure: this conversation uses about 1030 of 2000 tokens. Save anything that matters to core ' +
        'memory or archival memory now; the oldest turns will soon be summarized and removed from view ' +
        '(conversation_search will still find them).',
    });
  });

  it('past the eviction threshold, asks to drop the oldest turns down to half of it, keeping a tool call with its result', () => {
    const messages = Array.from({ length: 20 }, (_, index) => turn(index % 2 ? 'assistant' : 'user', index));
    const result = measurePressure({ messages, instructions: '', thresholds });
    // 2060 tokens; dropping 11 messages of 103 leaves 927 <= 1000.
    expect(result).toMatchObject({ tokens: 2060, level: 'evict', evictCount: 11 });
    expect(result.notice).toBe(
      'Memory pressure: the 11 oldest messages of this conversation were summarized to make room. ' +
        'Use conversation_search to find what was said in them.',
    );
    const withTool = messages.map((message, index) => (index === 11 ? { ...message, role: 'tool' } : message));
    expect(measurePressure({ messages: withTool, instructions: '', thresholds }).evictCount).toBe(12);
  });

  it('always keeps the two newest messages', () => {
    const huge = [turn('user', 0), { role: 'assistant', content: 'x'.repeat(20_000) }, turn('user', 2)];
    expect(measurePressure({ messages: huge, instructions: '', thresholds }).evictCount).toBe(1);
  });

  it('checks the thresholds', () => {
    expect(() => checkThresholds({ warnTokens: 2000, evictTokens: 2000 })).toThrow(
      new RangeError('Memory pressure thresholds need 0 < warnTokens < evictTokens (got 2000 and 2000).'),
    );
  });
});

describe('summarizeOldest', () => {
  const messages = [turn('user', 0), turn('assistant', 1), turn('user', 2)];

  it('summarizes exactly the messages to drop', async () => {
    const seen: ContextMessage[][] = [];
    const summarizer: Summarizer = {
      async summarize(input) {
        seen.push(input);
        return 'Nana talked about tea.';
      },
    };
    expect(await summarizeOldest({ messages, summarizer, count: 2 })).toEqual({
      summary: 'Nana talked about tea.',
      dropCount: 2,
    });
    expect(seen).toEqual([messages.slice(0, 2)]);
    expect(await summarizeOldest({ messages, summarizer, count: 0 })).toEqual({ summary: '', dropCount: 0 });
    expect(seen).toHaveLength(1);
  });

  it('reports a failing summarizer as UnavailableError', async () => {
    const summarizer: Summarizer = { summarize: () => Promise.reject(new Error('model timed out')) };
    const failure = await summarizeOldest({ messages, summarizer, count: 1 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnavailableError);
    expect((failure as Error).message).toBe('Summarizing the oldest turns failed: Error: model timed out');
  });
});
