/**
 * Post-call consolidation (Letta's sleep-time agent): when a call or chat ends, a durable job
 * asks the model to fold the transcript into memory — the shared `household` block, the
 * caller's block, distilled facts in archival memory — and to summarize the call.
 *
 * Exactly once, and safe to re-run after a crash: the model's edits are first *planned*
 * (recorded, not applied) and the plan is saved on the call before anything is written; each
 * step is then applied through the engine with an idempotency key, so a re-run applies only
 * what is missing and never asks the model again. The transcript and every write go through the
 * engine: this module touches only the call row (its plan, lease and summary). Only edits that compose with concurrent live
 * edits are offered (append, exact replace, archival insert): a whole-block rewrite from a
 * review that runs after the call could overwrite what a live call wrote meanwhile.
 */
import { z } from 'zod';
import { type Call, Prisma, type PrismaClient } from '../db/index.js';
import { UnavailableError } from '../errors.js';
import type { JobQueue, JobType } from '../jobs/index.js';
import type { Logger } from '../logger.js';
import type { MemoryEngine, ToolResult, TranscriptMessage } from '../memory/index.js';
import { callScope } from './call-scope.js';
import { ConsolidationLease } from './consolidation-lease.js';
import { type AgentMemory, AgentSession } from './loop.js';
import { householdModel, type ModelProvider } from './model.js';

export const CONSOLIDATE_CALL_JOB = 'consolidate-call';

const PLANNED_TOOLS = ['core_memory_append', 'core_memory_replace', 'archival_memory_insert'] as const;
const READ_TOOLS = ['archival_memory_search', 'conversation_search'] as const;
const EMPTY_CALL_SUMMARY = 'The caller hung up before anything was said.';

const CONSOLIDATION_INSTRUCTIONS = `You are the memory keeper of a household's phone assistant. A call has just ended; its
transcript is in the user message. The memory blocks below are what every future call will see.
Fold what this call taught you into memory:
- facts that matter to everyone in the household: core_memory_append or core_memory_replace on the "household" block;
- facts about this caller (how they like to be addressed, their needs, what they asked for): their "caller" block;
- details worth finding later (appointments, medication, names, dates, preferences): archival_memory_insert,
  one fact per call, with tags.
Do not repeat what memory already says; correct what the call showed to be wrong with core_memory_replace. Keep
blocks short. Tool calls in the transcript were made during the call: what they saved is already in memory.
Your edits are checked as you make them and saved when you finish. Then reply with only a summary of the call in
two to four sentences.`;

const planSchema = z.object({
  summary: z.string().nullable(),
  steps: z.array(z.object({ tool: z.enum(PLANNED_TOOLS), arguments: z.string() })),
});
type ConsolidationPlan = z.infer<typeof planSchema>;

export interface ConsolidationDeps {
  prisma: PrismaClient;
  memory: MemoryEngine;
  provider: ModelProvider;
  logger: Logger;
  /** Model calls the review may make (HEARTH_AGENT_MAX_STEPS). */
  maxSteps: number;
}

export type ConsolidationOutcome = 'consolidated' | 'already_consolidated' | 'busy' | 'no_such_call';

/**
 * Consolidates one call: plans (once), applies what is not applied yet, then marks it done.
 * Returns 'busy' when another worker holds the call: that worker (or, if it died, the retry of
 * its job once the lease runs out) finishes it.
 */
export async function consolidateCall(deps: ConsolidationDeps, callId: string): Promise<ConsolidationOutcome> {
  const call = await deps.prisma.call.findUnique({ where: { id: callId } });
  if (!call) return 'no_such_call';
  if (call.consolidatedAt) return 'already_consolidated';
  const lease = new ConsolidationLease({ prisma: deps.prisma, callId: call.id, logger: deps.logger });
  if (!(await lease.claim())) return 'busy';
  try {
    // Read again under the lease: a worker that died may have saved a plan since.
    const current = await deps.prisma.call.findUniqueOrThrow({ where: { id: callId } });
    const plan = await planConsolidation(deps, current);
    await lease.renew();
    await applyConsolidation(deps, current, plan, () => lease.renew());
    await deps.prisma.call.updateMany({
      where: { id: call.id, consolidatedAt: null },
      data: { summary: plan.summary, consolidatedAt: new Date(), consolidationLeaseUntil: null },
    });
  } catch (error) {
    await lease.release();
    throw error;
  }
  deps.logger.info({ callId }, 'call consolidated');
  return 'consolidated';
}

/** The saved plan, or a new one from the model, saved before anything is applied. */
export async function planConsolidation(deps: ConsolidationDeps, call: Call): Promise<ConsolidationPlan> {
  if (call.consolidationPlan !== null) return planSchema.parse(call.consolidationPlan);
  const transcript = await deps.memory.transcript({ householdId: call.householdId, callId: call.id });
  const plan = transcript.some((message) => message.role === 'user')
    ? await askModel(deps, call, transcript)
    : { summary: EMPTY_CALL_SUMMARY, steps: [] };
  // Two workers may plan at once; the first plan saved is the one both apply.
  const saved = await deps.prisma.call.updateMany({
    where: { id: call.id, consolidationPlan: { equals: Prisma.DbNull } },
    data: { consolidationPlan: plan },
  });
  if (saved.count === 1) return plan;
  const winner = await deps.prisma.call.findUniqueOrThrow({ where: { id: call.id } });
  return planSchema.parse(winner.consolidationPlan);
}

async function askModel(
  deps: ConsolidationDeps,
  call: Call,
  transcript: TranscriptMessage[],
): Promise<ConsolidationPlan> {
  const household = await deps.prisma.household.findUniqueOrThrow({ where: { id: call.householdId } });
  const steps: ConsolidationPlan['steps'] = [];
  const draft = new Map<string, string>();
  const planned = new Set<string>(PLANNED_TOOLS);
  const offered = new Set<string>([...PLANNED_TOOLS, ...READ_TOOLS]);
  let inOrder: Promise<unknown> = Promise.resolve();
  const planStep = async (input: Parameters<AgentMemory['runTool']>[0]): Promise<ToolResult> => {
    if (!offered.has(input.name)) return { ok: false, output: `${input.name} is not available in this review.` };
    if (!planned.has(input.name)) return deps.memory.runTool(input);
    // Checked now against the blocks as the plan so far leaves them, so the model hears every
    // refusal (over the limit, no match) while it can still do something about it.
    const preview = await deps.memory.previewTool({ ...input, draft });
    if (!preview.ok) return preview;
    if (preview.draft) draft.set(preview.draft.label, preview.draft.value);
    const args = typeof input.arguments === 'string' ? input.arguments : JSON.stringify(input.arguments);
    steps.push({ tool: input.name as ConsolidationPlan['steps'][number]['tool'], arguments: args });
    return { ok: true, output: `${preview.output} It is saved when you finish.` };
  };
  const recorder: AgentMemory = {
    compileContext: (input) => deps.memory.compileContext(input),
    toolDefinitions: deps.memory.toolDefinitions.filter((tool) => offered.has(tool.name)),
    // The loop runs parallel tool calls together; planning them one at a time, in the order the
    // model made them, keeps the plan in that order and lets each edit build on the last.
    runTool(input): Promise<ToolResult> {
      const result = inOrder.then(() => planStep(input));
      inOrder = result.catch(() => {});
      return result;
    },
    appendMessage: (input) => deps.memory.appendMessage(input),
    contextPressure: (input) => deps.memory.contextPressure(input),
    summarizeForEviction: (input) => deps.memory.summarizeForEviction(input),
  };
  const session = new AgentSession({
    memory: recorder,
    provider: deps.provider,
    logger: deps.logger,
    scope: callScope(call),
    model: householdModel({ agentSettings: household.agentSettings, defaultModel: deps.provider.defaultModel }),
    baseInstructions: CONSOLIDATION_INSTRUCTIONS,
    maxSteps: deps.maxSteps,
    recordToRecall: false,
  });
  const result = await session.turn({ text: renderTranscript(call, transcript) });
  const summary = result.stopReason === 'answered' && result.reply.trim() ? result.reply.trim() : null;
  return { summary, steps };
}

/** Transcripts longer than this keep their start and their end: one message must fit the model's context. */
const TRANSCRIPT_BUDGET_CHARS = 60_000;

function renderTranscript(call: Call, transcript: TranscriptMessage[]): string {
  const lines = transcript.map((message) => {
    if (message.role === 'tool')
      return `[${message.toolName ?? 'tool'} ${JSON.stringify(message.toolArgs)} → ${message.content}]`;
    if (message.role === 'user') return `Caller: ${message.content}`;
    if (message.role === 'assistant') return `Assistant: ${message.content}`;
    return `(${message.content})`;
  });
  const when = call.startedAt.toISOString();
  return `Transcript of the ${call.channel === 'text' ? 'chat' : 'call'} that started ${when}:\n${withinBudget(lines)}`;
}

function withinBudget(lines: string[]): string {
  const whole = lines.join('\n');
  if (whole.length <= TRANSCRIPT_BUDGET_CHARS) return whole;
  const head = whole.slice(0, TRANSCRIPT_BUDGET_CHARS / 10);
  const tail = whole.slice(whole.length - (TRANSCRIPT_BUDGET_CHARS * 9) / 10);
  return `${head}\n[… ${whole.length - head.length - tail.length} characters of the middle left out …]\n${tail}`;
}

/**
 * Applies each planned step once: the engine recognises a step's idempotency key and does not
 * write it again. A refusal (no match, over the limit) is logged and passed over; a passing failure (storage
 * unavailable) throws, so the job retries and the call is not marked done without it.
 */
export async function applyConsolidation(
  deps: ConsolidationDeps,
  call: Call,
  plan: ConsolidationPlan,
  beforeStep: () => Promise<void> = async () => {},
): Promise<void> {
  const scope = callScope(call);
  for (const [index, step] of plan.steps.entries()) {
    await beforeStep();
    const result = await deps.memory.runTool({
      name: step.tool,
      arguments: step.arguments,
      scope,
      source: 'consolidation',
      idempotencyKey: `consolidation:${call.id}:${index}`,
    });
    if (result.retryable)
      throw new UnavailableError(`Consolidation step ${index} of call ${call.id} failed: ${result.output}`);
    if (!result.ok) {
      deps.logger.warn(
        { callId: call.id, step: index, tool: step.tool, output: result.output },
        'consolidation step refused',
      );
    }
  }
}

/** Queues the consolidation of a call; a second enqueue while one is queued or running is dropped. */
export function enqueueConsolidation(queue: Pick<JobQueue, 'send'>, callId: string): Promise<string | null> {
  return queue.send({ name: CONSOLIDATE_CALL_JOB, data: { callId }, singletonKey: callId });
}

/**
 * Queues every ended call that has no consolidation yet: a crash between ending a call and
 * queueing its job must not leave it out of memory for good. Run at start-up.
 */
export async function enqueueUnconsolidated(deps: {
  prisma: PrismaClient;
  queue: Pick<JobQueue, 'send'>;
}): Promise<number> {
  const calls = await deps.prisma.call.findMany({
    where: { status: 'completed', consolidatedAt: null },
    select: { id: true },
  });
  for (const call of calls) await enqueueConsolidation(deps.queue, call.id);
  return calls.length;
}

/** The `consolidate-call` job: one per call (a second enqueue while one is queued is dropped). */
export function consolidationJob(deps: ConsolidationDeps): JobType<{ callId: string }> {
  return {
    name: CONSOLIDATE_CALL_JOB,
    schema: z.object({ callId: z.uuid() }),
    policy: 'exclusive',
    retryLimit: 3,
    retryDelaySeconds: 30,
    async handler(job) {
      const outcome = await consolidateCall(deps, job.data.callId);
      if (outcome !== 'consolidated') deps.logger.info({ callId: job.data.callId, outcome }, 'consolidation skipped');
    },
  };
}
