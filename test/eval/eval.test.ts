/**
 * `npm run eval -- --quick` as part of the suite: the first household's first five sessions, end to end,
 * held to the floors the README states (below the figures it quotes, so noise in ties does not
 * fail it, above what the ranking before the fusion change reached).
 */
import { describe, expect, it } from 'vitest';
import { runEval } from '../../eval/run.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/cli.js';

describe('the memory eval, quick', () => {
  it(
    'finds the facts it was told, never another household’s',
    async () => {
      const report = await runEval({ quick: true });
      expect(report).toMatchObject({ households: 1, facts: 50, questions: 17, crossHouseholdLeaks: 0 });
      expect(report.archival.hybrid.recallAt5).toBeGreaterThanOrEqual(0.9);
      expect(report.archival.hybrid.recallAt1).toBeGreaterThanOrEqual(0.75);
      expect(report.conversation.hybrid.recallAt5).toBeGreaterThanOrEqual(0.8);
      expect(report.probes.passRate).toBeGreaterThanOrEqual(0.75);
      // Each session's consolidation appends a fact to the household block: it grows, a line a session.
      expect(report.householdBlockChars).toHaveLength(5);
      expect(report.householdBlockChars.at(-1)).toBeGreaterThan(report.householdBlockChars[0]!);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
