/**
 * Probes: questions a household's agent should answer from earlier sessions. An answer probe is
 * asked through the same agent loop and compiled context as a real conversation, with memory
 * read-only (write tools refused, nothing recorded to recall) and without the escalate tool. A
 * retrieval probe needs no model: the expected passage must be among archival search's top 5,
 * or the expected fact in a block the member sees or in a top-5 archival or conversation hit.
 */
import {
  type AgentMemory,
  AgentSession,
  type ExtraContext,
  householdModel,
  type ModelProvider,
} from '../agent/index.js';
import type { MemoryProbe, PrismaClient, ProbeRun } from '../db/index.js';
import { UnavailableError } from '../errors.js';
import { recordEvent } from '../escalation/index.js';
import type { Logger } from '../logger.js';
import type { MemoryEngine, SessionScope } from '../memory/index.js';

/** Results a retrieval probe looks through, per search: the top 5 of each. */
export const RETRIEVAL_TOP_K = 5;
/** The failed runs in a row that raise `memory.probe_failed` (once, until the probe passes again). */
export const ALERT_AFTER_FAILURES = 2;
/** Memory tools that write; a probe's agent is told memory is read-only when it calls them. */
const WRITE_TOOLS = new Set(['core_memory_append', 'core_memory_replace', 'memory_rethink', 'archival_memory_insert']);
const READ_ONLY_REPLY = 'Memory is read-only in this session (a memory check): nothing was saved. Answer the question.';

export interface ProbeRunnerDeps {
  prisma: PrismaClient;
  memory: MemoryEngine;
  provider: ModelProvider;
  logger: Logger;
  maxSteps: number;
  /** Context beyond memory (the household's escalations), as a real session has it. */
  extraContext?: ExtraContext;
  /** Queues the webhook deliveries a failing probe's alert wrote. */
  dispatchWebhooks(deliveryIds: readonly string[]): Promise<void>;
}

/** What a run decided, before it is stored. */
interface Verdict {
  passed: boolean;
  answer: string;
  detail: string | null;
  toolsUsed: string[];
}

export class ProbeRunner {
  readonly #deps: ProbeRunnerDeps;

  constructor(deps: ProbeRunnerDeps) {
    this.#deps = deps;
  }

  /** Whether an answer probe can run here (a model is configured). */
  get answersEnabled(): boolean {
    return this.#deps.provider.configured;
  }

  /**
   * Runs the probe and stores the run; a second failure in a row raises `memory.probe_failed`.
   * An answer probe without a model configured throws `UnavailableError` and stores nothing.
   */
  async run(probe: MemoryProbe, options: { scheduled: boolean }): Promise<ProbeRun> {
    if (probe.kind === 'answer' && !this.answersEnabled) {
      throw new UnavailableError('Answer probes need a model: set OPENAI_API_KEY (retrieval probes run without one).');
    }
    const started = performance.now();
    const verdict = probe.kind === 'answer' ? await this.#ask(probe) : await this.#retrieve(probe);
    const latencyMs = Math.round(performance.now() - started);
    const { run, deliveryIds } = await this.#deps.prisma.$transaction(async (tx) => {
      const run = await tx.probeRun.create({
        data: {
          organizationId: probe.organizationId,
          householdId: probe.householdId,
          probeId: probe.id,
          ...verdict,
          latencyMs,
          scheduled: options.scheduled,
        },
      });
      const { failureStreak } = await tx.memoryProbe.update({
        where: { id: probe.id },
        data: { failureStreak: verdict.passed ? 0 : { increment: 1 } },
        select: { failureStreak: true },
      });
      const deliveryIds =
        failureStreak === ALERT_AFTER_FAILURES
          ? await recordEvent(tx, {
              organizationId: probe.organizationId,
              type: 'memory.probe_failed',
              data: {
                probeId: probe.id,
                householdId: probe.householdId,
                question: probe.question,
                failuresInARow: failureStreak,
                lastAnswer: verdict.answer,
                detail: verdict.detail,
              },
              now: run.createdAt,
            })
          : [];
      return { run, deliveryIds };
    });
    await this.#deps.dispatchWebhooks(deliveryIds);
    this.#deps.logger.info(
      { probeId: probe.id, householdId: probe.householdId, passed: run.passed, latencyMs },
      run.passed ? 'memory probe passed' : 'memory probe failed',
    );
    return run;
  }

  async #ask(probe: MemoryProbe): Promise<Verdict> {
    const { prisma, memory, provider, logger, maxSteps, extraContext } = this.#deps;
    const household = await prisma.household.findUniqueOrThrow({
      where: { id: probe.householdId },
      select: { agentSettings: true },
    });
    const session = new AgentSession({
      memory: readOnly(memory),
      provider,
      logger: logger.child({ probeId: probe.id }),
      scope: scopeOf(probe),
      model: householdModel({ agentSettings: household.agentSettings, defaultModel: provider.defaultModel }),
      maxSteps,
      recordToRecall: false,
      ...(extraContext ? { extraContext } : {}),
    });
    const turn = await session.turn({ text: probe.question });
    const missing = missingPhrases(turn.reply, probe);
    return {
      passed: missing === null,
      answer: turn.reply,
      detail: missing,
      toolsUsed: turn.toolCalls.map((call) => call.name),
    };
  }

  async #retrieve(probe: MemoryProbe): Promise<Verdict> {
    const { memory } = this.#deps;
    const scope = scopeOf(probe);
    const [archival, recall, blocks] = await Promise.all([
      memory.searchPassages({
        householdId: probe.householdId,
        memberId: probe.memberId,
        query: probe.question,
        limit: RETRIEVAL_TOP_K,
      }),
      memory.searchRecall({
        householdId: probe.householdId,
        ...(probe.memberId ? { memberId: probe.memberId } : {}),
        query: probe.question,
        roles: ['user', 'assistant'],
        limit: RETRIEVAL_TOP_K,
      }),
      memory.listBlocks({ householdId: probe.householdId }),
    ]);
    const visible = blocks.filter((block) => block.memberId === null || block.memberId === scope.memberId);
    const found = [
      ...archival.items.map((hit, index) => `archival ${index + 1}: ${hit.text}`),
      ...recall.items.map((hit, index) => `conversation ${index + 1}: ${hit.content}`),
    ];
    const passageFound =
      probe.expectedPassageId !== null && archival.items.some((hit) => hit.id === probe.expectedPassageId);
    const fact = probe.expectedFact?.toLowerCase();
    const factFound =
      fact !== undefined &&
      [...visible.map((block) => block.value), ...found].some((text) => text.toLowerCase().includes(fact));
    const passed = passageFound || factFound;
    const wanted = [
      probe.expectedPassageId ? `passage ${probe.expectedPassageId} in archival search's top ${RETRIEVAL_TOP_K}` : null,
      probe.expectedFact ? `"${probe.expectedFact}" in a block or a top-${RETRIEVAL_TOP_K} hit` : null,
    ].filter((part): part is string => part !== null);
    return {
      passed,
      answer: found.length > 0 ? found.join('\n') : 'Nothing found.',
      detail: passed ? null : `Not found: ${wanted.join(', or ')}.`,
      toolsUsed: ['archival_memory_search', 'conversation_search'],
    };
  }
}

/** The probe's member, verified (as an operator's text conversation is), with no call. */
function scopeOf(probe: MemoryProbe): SessionScope {
  return {
    organizationId: probe.organizationId,
    householdId: probe.householdId,
    memberId: probe.memberId,
    callId: null,
    callerVerified: probe.memberId !== null,
  };
}

/** The engine with its writing tools refused: a probe looks at memory, never changes it. */
function readOnly(memory: MemoryEngine): AgentMemory {
  return {
    compileContext: (input) => memory.compileContext(input),
    toolDefinitions: memory.toolDefinitions,
    runTool: async (input) =>
      WRITE_TOOLS.has(input.name) ? { ok: false, output: READ_ONLY_REPLY } : memory.runTool(input),
    appendMessage: () => {
      throw new Error('A probe records nothing to recall.');
    },
    contextPressure: (input) => memory.contextPressure(input),
    summarizeForEviction: (input) => memory.summarizeForEviction(input),
  };
}

/** Null when the answer has one of `expectedAny` (if any are given) and all of `expectedAll`; else what it lacks. */
export function missingPhrases(answer: string, expected: Pick<MemoryProbe, 'expectedAny' | 'expectedAll'>) {
  const text = answer.toLowerCase();
  const has = (phrase: string) => text.includes(phrase.toLowerCase());
  const lacking: string[] = [];
  if (expected.expectedAny.length > 0 && !expected.expectedAny.some(has)) {
    lacking.push(`any of ${expected.expectedAny.map((phrase) => `"${phrase}"`).join(', ')}`);
  }
  const absent = expected.expectedAll.filter((phrase) => !has(phrase));
  if (absent.length > 0) lacking.push(`all of ${absent.map((phrase) => `"${phrase}"`).join(', ')}`);
  return lacking.length > 0 ? `The answer lacks ${lacking.join(' and ')}.` : null;
}
