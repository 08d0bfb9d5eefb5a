/**
 * `npm run eval -- --quick` as part of the suite: the first household's first five sessions, end to end,
 * held to the floors the README states (below the figures it quotes, so noise in ties does not
 * fail it, above what the ranking before the fusion change reached).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEval } from '../../eval/run.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/cli.js';
import { type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';

/** A stand-in for the real model of the answer-level eval: it searches archival memory, then answers with what it found. */
let answering: OpenAIStub;
beforeAll(async () => {
  answering = await startOpenAIStub({
    fallbackChat: (request) => {
      const last = request.messages.at(-1);
      if (last?.role === 'tool') return { text: String(last.content) };
      return { toolCalls: [{ name: 'archival_memory_search', arguments: { query: String(last?.content) } }] };
    },
  });
});
afterAll(() => answering?.close());

describe('the memory eval, quick', () => {
  it(
    'finds the facts it was told, never another household’s',
    async () => {
      const report = await runEval({ quick: true, answerModel: { baseUrl: answering.url, model: 'stand-in' } });
      expect(report).toMatchObject({ households: 1, facts: 50, questions: 18, crossHouseholdLeaks: 0 });
      expect(report.archival.hybrid.recallAt5).toBeGreaterThanOrEqual(0.9);
      expect(report.archival.hybrid.recallAt1).toBeGreaterThanOrEqual(0.75);
      expect(report.conversation.hybrid.recallAt5).toBeGreaterThanOrEqual(0.8);
      expect(report.probes.passRate).toBeGreaterThanOrEqual(0.75);
      // The archival questions again, as answer probes through the agent loop: it searched, then answered.
      expect(report.answers).toMatchObject({ model: 'stand-in', questions: 14 });
      expect(report.answers?.passRate).toBeGreaterThanOrEqual(0.75);
      expect(
        answering.chatRequests().some((request) => JSON.stringify(request.messages).includes('Archival passages for')),
      ).toBe(true);
      // Each session's consolidation appends a fact to the household block: it grows, a line a session.
      expect(report.householdBlockChars).toHaveLength(5);
      expect(report.householdBlockChars.at(-1)).toBeGreaterThan(report.householdBlockChars[0]!);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
