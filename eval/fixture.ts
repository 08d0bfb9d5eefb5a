/** The eval's households (test/fixtures/eval/households.json), checked on load. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const FIXTURE = new URL('../test/fixtures/eval/households.json', import.meta.url);

const factSchema = z.object({
  id: z.string(),
  text: z.string().min(1),
  tags: z.array(z.string()),
  about: z.string(),
});

const fixtureSchema = z.object({
  /** The eval's "now": sessions and time-bound questions count days back from it. */
  now: z.iso.datetime(),
  households: z.array(
    z.object({
      name: z.string(),
      timezone: z.string(),
      members: z.array(z.string()).min(1),
      facts: z.array(factSchema),
      sessions: z.array(
        z.object({
          daysAgo: z.number().int().min(0),
          member: z.string(),
          /** How its facts reach archival memory: the agent's tool in the chat, consolidation after it, or an operator. */
          path: z.enum(['tool', 'consolidation', 'admin']),
          facts: z.array(z.string()),
        }),
      ),
      questions: z.array(
        z.object({
          kind: z.enum(['paraphrase', 'exact', 'time']),
          ask: z.string(),
          /** The member who asks (their scope). */
          as: z.string(),
          fact: z.string(),
          /** Time-bound: the day (days before `now`) the conversation search is limited to. */
          within: z.object({ daysAgo: z.number().int().min(0) }).optional(),
          /** What a right answer contains (any of these): for the answer-level eval with a real model. */
          answer: z.array(z.string().min(1)).min(1).optional(),
        }),
      ),
    }),
  ),
});

export type EvalFixture = z.infer<typeof fixtureSchema>;
export type EvalHousehold = EvalFixture['households'][number];
export type EvalFact = z.infer<typeof factSchema>;

export function loadFixture(): EvalFixture {
  const fixture = fixtureSchema.parse(JSON.parse(readFileSync(FIXTURE, 'utf8')));
  for (const household of fixture.households) {
    const ids = new Set(household.facts.map((fact) => fact.id));
    const missing = [
      ...household.sessions.flatMap((session) => session.facts),
      ...household.questions.map((question) => question.fact),
    ].filter((id) => !ids.has(id));
    if (missing.length > 0) throw new Error(`${household.name}: unknown fact ids ${missing.join(', ')}`);
  }
  return fixture;
}
