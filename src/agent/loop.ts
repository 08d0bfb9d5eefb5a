/**
 * The agent loop: compile the caller's memory into the instructions, ask the model, run the tools
 * it calls (parallel calls together) through the memory engine, feed the results back, and repeat
 * until it answers or the step limit ends the turn with a message. Every turn and tool call is
 * written to recall as it happens; a memory write shows in the next step's instructions.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, HearthError, UnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ContextMessage, MemoryEngine, MessageRoleName, SessionScope } from '../memory/index.js';
import { type Metrics, secondsSince } from '../metrics.js';
import type { ModelMessage, ModelProvider, ToolCall } from './model.js';
import { createSummarizer, type Summarizer } from './summarizer.js';
import { type AgentTool, parseToolArguments, ToolRunner } from './tool-runner.js';

/** What the loop needs of the memory engine. */
export type AgentMemory = Pick<
  MemoryEngine,
  'compileContext' | 'toolDefinitions' | 'runTool' | 'appendMessage' | 'contextPressure' | 'summarizeForEviction'
>;

export interface AgentSessionOptions {
  memory: AgentMemory;
  provider: ModelProvider;
  logger: Logger;
  scope: SessionScope;
  /** Default: the provider's default model (see `householdModel`). */
  model?: string;
  /** Default: the engine's default instructions. */
  baseInstructions?: string;
  /** Model calls per turn before it ends with `STEP_LIMIT_REPLY` (HEARTH_AGENT_MAX_STEPS). */
  maxSteps: number;
  /** Default: the model summarizes evicted turns itself. */
  summarizer?: Summarizer;
  extraTools?: AgentTool[];
  /** Earlier turns of this session, e.g. after a reconnect. */
  history?: ModelMessage[];
  /** Write turns and tool calls to recall (default). Off for internal sessions such as consolidation. */
  recordToRecall?: boolean;
  /** Context beyond memory, compiled afresh each step (the household's escalations). */
  extraContext?: ExtraContext;
  metrics?: Metrics;
}

type RecallMessage = Omit<Parameters<AgentMemory['appendMessage']>[0], 'scope'>;

/** A section of the instructions that is not memory, for the caller's scope; empty for none. */
export type ExtraContext = (scope: SessionScope) => Promise<string>;

/** A tool call the model made during a turn, with what it got back. */
export interface TurnToolCall extends ToolCall {
  ok: boolean;
  output: string;
}

/** A message of a turn as recall stored it, for channels that show each one as it happens. */
export interface RecordedMessage {
  id: string;
  createdAt: Date;
  role: MessageRoleName;
  content: string;
  /** On a tool message: the call the model made, and whether it succeeded. */
  tool?: { name: string; arguments: string; callId: string; ok: boolean };
}

/** What one turn takes: the user's text, and optional hooks for channels that stream. */
export interface TurnInput {
  text: string;
  signal?: AbortSignal;
  /** Each piece of the reply's text as it arrives, with the id its recall message will have. */
  onTextDelta?: (delta: string, messageId: string) => void;
  /** Called with each message once recall has stored it, the user's first. */
  onMessage?: (message: RecordedMessage) => void;
}

export interface TurnResult {
  /** What to say or show to the caller. */
  reply: string;
  toolCalls: TurnToolCall[];
  /** Model calls made. */
  steps: number;
  stopReason: 'answered' | 'step_limit';
  usage: { inputTokens: number; outputTokens: number };
}

/** Said when the step limit ends a turn, so the caller is never left waiting. */
export const STEP_LIMIT_REPLY =
  "I'm sorry, I couldn't finish that just now. Could you say it again, perhaps more simply?";

/** One conversation (a call or a chat) with its live context; `turn` runs the loop for one user message. */
export class AgentSession {
  readonly #memory: AgentMemory;
  readonly #provider: ModelProvider;
  readonly #logger: Logger;
  readonly #scope: SessionScope;
  readonly #model: string;
  readonly #baseInstructions: string | undefined;
  readonly #maxSteps: number;
  readonly #summarizer: Summarizer;
  readonly #tools: ToolRunner;
  readonly #metrics: Metrics | undefined;
  readonly #messages: ModelMessage[];
  readonly #recordToRecall: boolean;
  readonly #extraContext: ExtraContext | undefined;
  /** Summaries of turns evicted from the live context under pressure, oldest first. */
  readonly #summaries: string[] = [];
  #busy = false;

  constructor(options: AgentSessionOptions) {
    if (!Number.isInteger(options.maxSteps) || options.maxSteps < 1) {
      throw new RangeError(`maxSteps must be a positive integer, got ${options.maxSteps}`);
    }
    this.#memory = options.memory;
    this.#provider = options.provider;
    this.#scope = options.scope;
    this.#logger = options.logger.child({ householdId: options.scope.householdId, callId: options.scope.callId });
    this.#model = options.model ?? options.provider.defaultModel;
    this.#baseInstructions = options.baseInstructions;
    this.#maxSteps = options.maxSteps;
    this.#summarizer = options.summarizer ?? createSummarizer({ provider: options.provider, model: this.#model });
    this.#metrics = options.metrics;
    this.#tools = new ToolRunner({
      memory: options.memory,
      extraTools: options.extraTools,
      logger: this.#logger,
      metrics: options.metrics,
    });
    this.#messages = [...(options.history ?? [])];
    this.#recordToRecall = options.recordToRecall ?? true;
    this.#extraContext = options.extraContext;
  }

  /** The live context (oldest turns may have been summarized away). */
  get messages(): readonly ModelMessage[] {
    return this.#messages;
  }

  /** Runs one turn. Throws the provider's `UnavailableError` or `UpstreamError` when it fails (the user turn is already in recall). */
  async turn(input: TurnInput): Promise<TurnResult> {
    if (this.#busy)
      throw new ConflictError('This session is already answering; wait for the reply before sending more.');
    this.#busy = true;
    try {
      return await this.#turn(input);
    } finally {
      this.#busy = false;
    }
  }

  async #turn(input: TurnInput) {
    const record = (message: RecallMessage, tool?: RecordedMessage['tool']) =>
      this.#record(message, tool, input.onMessage);
    await record({ role: 'user', content: input.text });
    this.#messages.push({ role: 'user', content: input.text });
    const tools = this.#tools.definitions;
    const toolCalls: TurnToolCall[] = [];
    const usage = { inputTokens: 0, outputTokens: 0 };

    for (let step = 1; step <= this.#maxSteps; step++) {
      if (input.signal?.aborted)
        throw new UnavailableError('The turn was cancelled.', { details: { reason: 'aborted' } });
      const instructions = await this.#instructions();
      const asked = performance.now();
      // Named before it is written, so a channel that streams the text can say which message it becomes.
      const replyId = randomUUID();
      const { onTextDelta } = input;
      const completion = await this.#provider.complete({
        model: this.#model,
        instructions,
        messages: this.#messages,
        tools,
        signal: input.signal,
        ...(onTextDelta ? { onTextDelta: (delta: string) => onTextDelta(delta, replyId) } : {}),
      });
      this.#metrics?.modelResponded('text', secondsSince(asked));
      usage.inputTokens += completion.usage?.inputTokens ?? 0;
      usage.outputTokens += completion.usage?.outputTokens ?? 0;
      this.#logger.debug(
        { step, tools: completion.toolCalls.map((call) => call.name), usage: completion.usage },
        'agent step',
      );
      if (completion.text) await record({ id: replyId, role: 'assistant', content: completion.text });
      if (completion.toolCalls.length === 0) {
        this.#messages.push({ role: 'assistant', content: completion.text });
        return { reply: completion.text, toolCalls, steps: step, stopReason: 'answered' as const, usage };
      }
      // Parallel calls run together; writes to one block are compare-and-swap in the engine.
      const results = await Promise.all(
        completion.toolCalls.map(async (call) => ({ call, result: await this.#tools.run(call, this.#scope) })),
      );
      for (const { call, result } of results) {
        await record(
          {
            role: 'tool',
            content: result.output,
            toolName: call.name,
            toolArgs: parseToolArguments(call.arguments),
            toolCallId: call.id,
          },
          { name: call.name, arguments: call.arguments, callId: call.id, ok: result.ok },
        );
      }
      // The calls and their results join the live context together, once all are recorded: a
      // call without its result would make every later request to the provider invalid.
      this.#messages.push({ role: 'assistant', content: completion.text, toolCalls: completion.toolCalls });
      for (const { call, result } of results) {
        this.#messages.push({ role: 'tool', toolCallId: call.id, content: result.output });
        toolCalls.push({ ...call, ...result });
      }
    }
    this.#logger.warn({ maxSteps: this.#maxSteps }, 'agent turn ended at the step limit');
    await record({ role: 'assistant', content: STEP_LIMIT_REPLY });
    this.#messages.push({ role: 'assistant', content: STEP_LIMIT_REPLY });
    return { reply: STEP_LIMIT_REPLY, toolCalls, steps: this.#maxSteps, stopReason: 'step_limit' as const, usage };
  }

  /** Memory compiled now (so the last write shows), evicted-turn summaries, and any pressure notice. */
  async #instructions(): Promise<string> {
    const [memory, extra] = await Promise.all([
      this.#memory.compileContext({ scope: this.#scope, baseInstructions: this.#baseInstructions }),
      this.#extraContext?.(this.#scope) ?? '',
    ]);
    const compiled = extra ? `${memory}\n\n${extra}` : memory;
    let pressure = this.#memory.contextPressure({ messages: this.#contextMessages(), instructions: compiled });
    if (pressure.level !== 'ok') this.#metrics?.memoryPressure(pressure.level);
    if (pressure.level === 'evict') {
      await this.#evict(compiled, pressure.evictCount);
      pressure = this.#memory.contextPressure({ messages: this.#contextMessages(), instructions: compiled });
    }
    const parts = [compiled];
    if (this.#summaries.length > 0) {
      parts.push(`<conversation_summary>\n${this.#summaries.join('\n\n')}\n</conversation_summary>`);
    }
    if (pressure.notice) parts.push(pressure.notice);
    return parts.join('\n\n');
  }

  /** Folds the oldest turns into a summary (kept in recall too) and drops them from the live context. */
  async #evict(instructions: string, count: number | undefined) {
    let evicted: { summary: string; dropCount: number };
    try {
      evicted = await this.#memory.summarizeForEviction({
        messages: this.#contextMessages(),
        summarizer: this.#summarizer,
        count,
        instructions,
      });
    } catch (error) {
      // A failed summary costs tokens, not the turn: keep the turns and try again next step.
      if (!(error instanceof HearthError)) throw error;
      this.#logger.warn({ err: error }, 'context pressure: could not summarize; keeping the turns');
      return;
    }
    const { summary, dropCount } = evicted;
    // Keep the newest message, and never leave tool results without the call that asked for them.
    let drop = Math.min(dropCount, this.#messages.length - 1);
    while (this.#messages[drop]?.role === 'tool') drop++;
    if (drop <= 0 || drop >= this.#messages.length) return;
    this.#messages.splice(0, drop);
    this.#summaries.push(summary);
    await this.#record({ role: 'system', content: `Summary of earlier turns: ${summary}` });
    this.#logger.info({ dropped: drop }, 'context pressure: summarized the oldest turns');
  }

  async #record(
    message: RecallMessage,
    tool?: RecordedMessage['tool'],
    onMessage?: TurnInput['onMessage'],
  ): Promise<void> {
    if (!this.#recordToRecall) return;
    const stored = await this.#memory.appendMessage({ scope: this.#scope, ...message });
    onMessage?.({ ...stored, role: message.role, content: message.content, ...(tool ? { tool } : {}) });
  }

  #contextMessages(): ContextMessage[] {
    return this.#messages.map((message) => {
      if (message.role !== 'assistant' || !message.toolCalls?.length) return message;
      const calls = message.toolCalls.map((call) => `${call.name}(${call.arguments})`).join('\n');
      return { role: 'assistant', content: [message.content, calls].filter(Boolean).join('\n') };
    });
  }
}
