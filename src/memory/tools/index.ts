/**
 * Runs the memory tools for the agent loop: parses the model's arguments against the same
 * schemas the definitions came from, dispatches, and turns every failure into a short text
 * result. Nothing thrown here reaches the loop.
 */
import { HearthError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { RevisionSourceInput, SessionScope, ToolResult } from '../types.js';
import type { CoreMemoryTools } from './core.js';
import {
  isMemoryToolName,
  type MemoryToolName,
  parseToolArguments,
  TOOL_ARGUMENTS,
  type ToolArguments,
} from './definitions.js';
import type { SearchTools } from './search.js';

export { isMemoryToolName, memoryToolDefinitions } from './definitions.js';

type Handler<N extends MemoryToolName> = (
  args: ToolArguments<N>,
  scope: SessionScope,
  source: RevisionSourceInput,
) => Promise<ToolResult>;

/** Dispatches a tool call to its executor. */
export class MemoryToolRunner {
  readonly #handlers: { [N in MemoryToolName]: Handler<N> };
  readonly #logger: Logger | undefined;
  readonly #core: CoreMemoryTools;

  constructor(options: { core: CoreMemoryTools; search: SearchTools; logger?: Logger }) {
    const { core, search } = options;
    this.#core = core;
    this.#handlers = {
      core_memory_append: (args, scope, source) => core.append(args, { scope, source }),
      core_memory_replace: (args, scope, source) => core.replace(args, { scope, source }),
      memory_rethink: (args, scope, source) => core.rethink(args, { scope, source }),
      archival_memory_insert: (args, scope, source) => search.archivalInsert(args, scope, source.idempotencyKey),
      archival_memory_search: (args, scope) => search.archivalSearch(args, scope),
      conversation_search: (args, scope) => search.conversationSearch(args, scope),
    };
    this.#logger = options.logger;
  }

  async run(input: {
    name: string;
    arguments: unknown;
    scope: SessionScope;
    source?: 'agent_tool' | 'consolidation';
    idempotencyKey?: string;
  }): Promise<ToolResult> {
    const { name, scope } = input;
    if (!isMemoryToolName(name)) {
      return {
        ok: false,
        output: `Unknown tool "${name}". Memory tools are: ${Object.keys(TOOL_ARGUMENTS).join(', ')}`,
      };
    }
    try {
      return await this.#invoke(name, input.arguments, scope, {
        source: input.source ?? 'agent_tool',
        detail: name,
        callId: scope.callId,
        memberId: scope.memberId,
        idempotencyKey: input.idempotencyKey ?? null,
      });
    } catch (error) {
      if (error instanceof HearthError && error.httpStatus < 500) return { ok: false, output: error.message };
      this.#logger?.error({ err: error, tool: name, callId: scope.callId }, 'memory tool failed');
      return {
        ok: false,
        output: `${name} failed: memory storage is unavailable right now; try again shortly`,
        retryable: true,
      };
    }
  }

  /**
   * Checks an edit as `run` would, against `draft` block values (label → value) instead of
   * storage, and writes nothing: `core_memory_append` and `core_memory_replace` are decided as
   * they would be; `archival_memory_insert` has its arguments checked. Other tools are refused.
   */
  async preview(input: {
    name: string;
    arguments: unknown;
    scope: SessionScope;
    draft: ReadonlyMap<string, string>;
  }): Promise<ToolResult & { draft?: { label: string; value: string } }> {
    const { name, scope, draft } = input;
    if (name === 'core_memory_append' || name === 'core_memory_replace') {
      const parsed = parseToolArguments(name, input.arguments);
      if (!parsed.ok) return { ok: false, output: parsed.output };
      return name === 'core_memory_append'
        ? this.#core.preview({ tool: name, args: parsed.args as ToolArguments<'core_memory_append'> }, scope, draft)
        : this.#core.preview({ tool: name, args: parsed.args as ToolArguments<'core_memory_replace'> }, scope, draft);
    }
    if (name === 'archival_memory_insert') {
      const parsed = parseToolArguments(name, input.arguments);
      return parsed.ok
        ? { ok: true, output: 'The fact will be saved to archival memory.' }
        : { ok: false, output: parsed.output };
    }
    return { ok: false, output: `${name} cannot be previewed.` };
  }

  async #invoke<N extends MemoryToolName>(
    name: N,
    raw: unknown,
    scope: SessionScope,
    source: RevisionSourceInput,
  ): Promise<ToolResult> {
    const parsed = parseToolArguments(name, raw);
    if (!parsed.ok) return { ok: false, output: parsed.output };
    const handler: Handler<N> = this.#handlers[name];
    return handler(parsed.args, scope, source);
  }
}
