/**
 * Runs the agent's tools the same way for every channel: the memory engine's tools, and the
 * channel's own (`end_call` on the phone, `escalate` next), under the caller's memory scope.
 */
import type { Logger } from '../logger.js';
import type { MemoryEngine, SessionScope, ToolResult } from '../memory/index.js';
import { type Metrics, secondsSince } from '../metrics.js';
import type { ModelTool, ToolCall } from './model.js';

/** A non-memory tool (e.g. `escalate`), run next to the memory tools. */
export interface AgentTool {
  definition: ModelTool;
  /** Like the engine's tools: never throws, failures are text the model can act on. */
  run(input: { arguments: string; scope: SessionScope }): Promise<ToolResult>;
}

/** The memory tools plus a channel's own. */
export class ToolRunner {
  readonly #memory: Pick<MemoryEngine, 'toolDefinitions' | 'runTool'>;
  readonly #extraTools: Map<string, AgentTool>;
  readonly #logger: Logger;
  readonly #metrics: Metrics | undefined;

  constructor(input: {
    memory: Pick<MemoryEngine, 'toolDefinitions' | 'runTool'>;
    extraTools?: AgentTool[];
    logger: Logger;
    metrics?: Metrics;
  }) {
    this.#memory = input.memory;
    this.#extraTools = new Map(input.extraTools?.map((tool) => [tool.definition.name, tool]));
    this.#logger = input.logger;
    this.#metrics = input.metrics;
  }

  /** Every tool's definition, for the model. */
  get definitions(): ModelTool[] {
    return [...this.#memory.toolDefinitions, ...[...this.#extraTools.values()].map((tool) => tool.definition)];
  }

  /** Runs one call, timed; never throws. */
  async run(call: Pick<ToolCall, 'name' | 'arguments'>, scope: SessionScope): Promise<ToolResult> {
    const started = performance.now();
    const result = await this.#run(call, scope);
    this.#metrics?.toolRan(call.name, result.ok, secondsSince(started));
    return result;
  }

  async #run(call: Pick<ToolCall, 'name' | 'arguments'>, scope: SessionScope): Promise<ToolResult> {
    try {
      const extra = this.#extraTools.get(call.name);
      if (extra) return await extra.run({ arguments: call.arguments, scope });
      return await this.#memory.runTool({ name: call.name, arguments: call.arguments, scope });
    } catch (error) {
      // Tools report failures as text; a throw is an outage (e.g. the database), still told to the model.
      this.#logger.error({ err: error, tool: call.name }, 'tool failed unexpectedly');
      return { ok: false, output: `The ${call.name} tool failed unexpectedly; continue without it for now.` };
    }
  }
}

/** A tool call's arguments as JSON for recall; malformed ones are kept as the raw text. */
export function parseToolArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
