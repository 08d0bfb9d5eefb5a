/**
 * Hearth's tools as Letta tools. Every agent has all of them — the memory tools, `escalate` and
 * `lookup_account` — because a care line's agent must always be able to page someone; an agent's
 * `tools` names the ones its code refers to, checked against this catalog, and a Letta alias it
 * chose (`page_on_call_doctor` for `escalate`) is the name its messages show.
 */
import { createHash } from 'node:crypto';
import type { ModelTool } from '../agent/index.js';
import { ValidationError } from '../errors.js';
import { lettaId } from './wire.js';

/** Letta names that mean a Hearth tool. */
const ALIASES: Readonly<Record<string, string>> = { page_on_call_doctor: 'escalate' };

/** Tools Letta's memory tools are built in like Hearth's; the rest are the agent's own. */
const MEMORY_TOOLS = new Set([
  'core_memory_append',
  'core_memory_replace',
  'memory_rethink',
  'archival_memory_insert',
  'archival_memory_search',
  'conversation_search',
]);

/** A stable id per tool name, shaped like Letta's `tool-<uuid>`. */
function toolId(name: string): string {
  const hex = createHash('sha256').update(`hearth-tool:${name}`).digest('hex');
  return lettaId(
    'tool',
    `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`,
  );
}

/** A tool as Letta's client reads it. */
export function toolView(name: string, tool: ModelTool) {
  return {
    id: toolId(name),
    name,
    description: tool.description,
    tool_type: MEMORY_TOOLS.has(tool.name) ? 'letta_memory_core' : 'custom',
    source_type: 'json',
    source_code: null,
    json_schema: { name, description: tool.description, parameters: tool.parameters },
    args_json_schema: null,
    tags: ALIASES[name] ? [`alias:${ALIASES[name]}`] : [],
    return_char_limit: 6000,
  };
}

export type ToolView = ReturnType<typeof toolView>;

/** The tools an agent can name: Hearth's own, and the aliases for them. */
export class ToolCatalog {
  readonly #tools: ReadonlyMap<string, ModelTool>;

  constructor(tools: readonly ModelTool[]) {
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    for (const [alias, name] of Object.entries(ALIASES)) {
      const tool = byName.get(name);
      if (tool) byName.set(alias, tool);
    }
    this.#tools = byName;
  }

  /** Every name, Hearth's and the aliases, as Letta tools. */
  all(): ToolView[] {
    return [...this.#tools].map(([name, tool]) => toolView(name, tool));
  }

  /** The names `tools` and `tool_ids` give, checked; a 400 listing what there is otherwise. */
  resolve(input: { tools?: string[] | undefined; toolIds?: string[] | undefined }): string[] {
    const byId = new Map(this.all().map((tool) => [tool.id.slice('tool-'.length), tool.name]));
    const names = [...(input.tools ?? []), ...(input.toolIds ?? []).map((id) => byId.get(id) ?? `tool-${id}`)];
    const unknown = names.filter((name) => !this.#tools.has(name));
    if (unknown.length > 0) {
      throw new ValidationError(
        `Unknown tool ${unknown.map((name) => JSON.stringify(name)).join(', ')}. Hearth's agents have these tools: ` +
          `${[...this.#tools.keys()].join(', ')}. Custom tools with source code are not supported.`,
      );
    }
    return [...new Set(names)];
  }

  /** The agent's tools, each under the name it chose for it (an alias replaces the tool it names). */
  forAgent(chosen: readonly string[]): ToolView[] {
    const aliasOf = this.#aliasesIn(chosen);
    return [...this.#tools]
      .filter(([name]) => !ALIASES[name])
      .map(([name, tool]) => toolView(aliasOf.get(name) ?? name, tool));
  }

  /** The name a recorded tool call shows for this agent: its alias, when the agent chose one. */
  displayName(chosen: readonly string[], name: string): string {
    return this.#aliasesIn(chosen).get(name) ?? name;
  }

  /** One tool by its Letta id. */
  byId(id: string): ToolView | undefined {
    return this.all().find((tool) => tool.id === lettaId('tool', id));
  }

  #aliasesIn(chosen: readonly string[]): Map<string, string> {
    return new Map(chosen.flatMap((name) => (ALIASES[name] ? [[ALIASES[name], name] as const] : [])));
  }
}
