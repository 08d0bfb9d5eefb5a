/** zod schemas for memory probes, their runs, and the memory health reports. */
import { z } from 'zod';
import { keysetQuery } from './pagination.js';
import { someField, storedText, timestamp, uuid } from './schemas.js';

const phrase = storedText().trim().min(1).max(200);
const phrases = z.array(phrase).max(20);
/** From every five minutes to every thirty days; daily by default. */
const intervalMinutes = z.number().int().min(5).max(43_200);

const probeFields = {
  question: storedText().trim().min(1).max(1000).describe('Asked as a caller would ask it'),
  memberId: uuid.nullable().describe('Asked as this member (verified); null: as an unknown caller'),
  kind: z
    .enum(['answer', 'retrieval'])
    .describe('answer: asked through the agent (needs a model); retrieval: searched for, no model needed'),
  expectedAny: phrases.describe('Answer probes: a right answer contains at least one of these (case-insensitive)'),
  expectedAll: phrases.describe('Answer probes: a right answer contains every one of these'),
  expectedPassageId: uuid.nullable().describe("Retrieval probes: this passage must be in archival search's top 5"),
  expectedFact: storedText()
    .trim()
    .min(1)
    .max(500)
    .nullable()
    .describe('Retrieval probes: this phrase in a block, or in a top-5 archival or conversation hit'),
  intervalMinutes: intervalMinutes.describe('How often it runs (default 1440: daily)'),
};

/** What each kind must be told to expect; checked on create and on the probe as an update leaves it. */
export function probeExpectationProblem(probe: {
  kind: 'answer' | 'retrieval';
  expectedAny: string[];
  expectedAll: string[];
  expectedPassageId: string | null;
  expectedFact: string | null;
}): string | null {
  if (probe.kind === 'answer' && probe.expectedAny.length + probe.expectedAll.length === 0) {
    return 'an answer probe needs expectedAny or expectedAll: the phrases a right answer contains';
  }
  if (probe.kind === 'retrieval' && probe.expectedPassageId === null && probe.expectedFact === null) {
    return 'a retrieval probe needs expectedPassageId or expectedFact: what the searches must find';
  }
  return null;
}

export const probeCreateSchema = z
  .strictObject({
    question: probeFields.question,
    memberId: probeFields.memberId.default(null),
    kind: probeFields.kind.default('answer'),
    expectedAny: probeFields.expectedAny.default([]),
    expectedAll: probeFields.expectedAll.default([]),
    expectedPassageId: probeFields.expectedPassageId.default(null),
    expectedFact: probeFields.expectedFact.default(null),
    intervalMinutes: probeFields.intervalMinutes.default(1440),
  })
  .superRefine((probe, context) => {
    const problem = probeExpectationProblem(probe);
    if (problem) context.addIssue({ code: 'custom', message: problem, path: ['kind'] });
  })
  .meta({ id: 'MemoryProbeCreate' });

export const probeUpdateSchema = someField(
  z.strictObject({
    question: probeFields.question.optional(),
    memberId: probeFields.memberId.optional(),
    kind: probeFields.kind.optional(),
    expectedAny: probeFields.expectedAny.optional(),
    expectedAll: probeFields.expectedAll.optional(),
    expectedPassageId: probeFields.expectedPassageId.optional(),
    expectedFact: probeFields.expectedFact.optional(),
    intervalMinutes: probeFields.intervalMinutes.optional(),
  }),
).meta({ id: 'MemoryProbeUpdate' });

export const probeRunSchema = z
  .object({
    id: z.uuid(),
    probeId: z.uuid(),
    passed: z.boolean(),
    answer: z.string().describe("The agent's answer; for a retrieval probe, what the searches found"),
    detail: z.string().nullable().describe('Why it failed'),
    toolsUsed: z.array(z.string()),
    latencyMs: z.number().int(),
    scheduled: z.boolean().describe('False when an operator ran it'),
    createdAt: timestamp,
  })
  .meta({ id: 'MemoryProbeRun' });

export const probeSchema = z
  .object({
    id: z.uuid(),
    householdId: z.uuid(),
    memberId: z.uuid().nullable(),
    question: z.string(),
    kind: z.enum(['answer', 'retrieval']),
    expectedAny: z.array(z.string()),
    expectedAll: z.array(z.string()),
    expectedPassageId: z.uuid().nullable(),
    expectedFact: z.string().nullable(),
    intervalMinutes: z.number().int(),
    nextRunAt: timestamp,
    failuresInARow: z.number().int(),
    lastRun: probeRunSchema.nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'MemoryProbe' });

export const probeListQuery = z.strictObject(keysetQuery);
export const probeRunListQuery = z.strictObject(keysetQuery);

export const householdHealthSchema = z
  .object({
    householdId: z.uuid(),
    generatedAt: timestamp,
    blocks: z.array(
      z.object({
        blockId: z.uuid(),
        label: z.string(),
        memberId: z.uuid().nullable(),
        chars: z.number().int(),
        charLimit: z.number().int(),
        fill: z.number().describe('chars / charLimit'),
        growth30d: z.number().int().describe('Characters added (negative: removed) in the last 30 days'),
      }),
    ),
    archival: z.object({
      total: z.number().int(),
      byMonthAndTag: z.array(z.object({ month: z.string(), tag: z.string(), count: z.number().int() })),
      likelyDuplicates: z.array(
        z.object({
          passageIds: z.tuple([z.uuid(), z.uuid()]),
          texts: z.tuple([z.string(), z.string()]),
          distance: z.number().describe('Cosine distance; under 0.02 counts as a likely duplicate'),
        }),
      ),
    }),
    lastConsolidation: z
      .object({
        callId: z.uuid(),
        endedAt: timestamp.nullable(),
        status: z.enum(['consolidated', 'pending', 'failed']),
        consolidatedAt: timestamp.nullable(),
        summary: z.string().nullable(),
        error: z.string().nullable(),
      })
      .nullable(),
    probes: z.object({
      total: z.number().int(),
      passRateByDay: z.array(
        z.object({ day: z.string(), runs: z.number().int(), passed: z.number().int(), passRate: z.number() }),
      ),
      failing: z.array(
        z.object({
          probeId: z.uuid(),
          question: z.string(),
          failuresInARow: z.number().int(),
          lastRunAt: timestamp,
          lastAnswer: z.string(),
          detail: z.string().nullable(),
        }),
      ),
    }),
  })
  .meta({ id: 'HouseholdMemoryHealth' });

export const organizationHealthSchema = z
  .object({
    generatedAt: timestamp,
    households: z.array(
      z.object({
        householdId: z.uuid(),
        name: z.string(),
        failingProbes: z.number().int(),
        fullBlocks: z.array(z.object({ label: z.string(), memberId: z.uuid().nullable(), fill: z.number() })),
      }),
    ),
  })
  .meta({ id: 'OrganizationMemoryHealth' });

export type ProbeCreate = z.output<typeof probeCreateSchema>;
export type ProbeUpdate = z.output<typeof probeUpdateSchema>;
export type ProbeView = z.infer<typeof probeSchema>;
export type ProbeRunView = z.infer<typeof probeRunSchema>;
