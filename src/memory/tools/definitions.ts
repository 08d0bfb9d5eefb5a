/**
 * The six memory tools as the model sees them: names and descriptions after Letta's, each
 * argument a zod schema with a `.describe()`, turned into JSON Schema with `z.toJSONSchema`.
 * Parsing the model's arguments goes through the same schemas, so definition and validation
 * cannot drift apart.
 */
import { z } from 'zod';
import { MAX_PASSAGE_CHARS, MAX_SEARCH_LIMIT, MAX_TAG_CHARS, MAX_TAGS } from '../limits.js';
import { describeIssues, nulFree } from '../schemas.js';
import type { JSONSchemaObject, ToolDefinition } from '../types.js';

// Every text argument refuses NUL (\u0000) by name, so the model can send the text again without it.
const label = nulFree()
  .min(1)
  .describe('Label of the memory block to edit, exactly as in <memory_blocks>, e.g. "household" or "caller".');
const dateBound = (which: 'start' | 'end') =>
  nulFree().describe(
    which === 'start'
      ? 'Only results from this date on, inclusive: "YYYY-MM-DD" (household time) or an ISO date-time.'
      : 'Only results up to this date, inclusive (the whole day): "YYYY-MM-DD" (household time) or an ISO date-time.',
  );
const page = z
  .number()
  .int()
  .min(1)
  .describe('Page of results: 1 is the first; ask for the next when told there are more.');
const tags = z
  .array(nulFree().min(1).max(MAX_TAG_CHARS))
  .max(MAX_TAGS)
  .describe('Short lowercase topic tags, e.g. ["health", "medication"].');

const coreMemoryAppendArgs = z.object({
  label,
  content: nulFree().min(1).describe('Text to add at the end of the block, on a new line. Keep it short and factual.'),
});

const coreMemoryReplaceArgs = z.object({
  label,
  old_content: nulFree()
    .min(1)
    .describe('Exact text currently in the block, copied character for character; it must occur exactly once.'),
  new_content: nulFree().describe('Text to put in its place; an empty string deletes old_content.'),
});

const memoryRethinkArgs = z.object({
  label,
  new_memory: nulFree().describe(
    'The complete new text of the block. It replaces everything in it, so keep what is still true.',
  ),
});

const archivalMemoryInsertArgs = z.object({
  content: nulFree()
    .min(1)
    .max(MAX_PASSAGE_CHARS)
    .describe('One self-contained fact or short paragraph, written so it makes sense on its own later.'),
  tags: tags.optional(),
  scope: z
    .enum(['household', 'caller'])
    .optional()
    .describe('"household" (default): for every caller of this household. "caller": only about and for this caller.'),
});

const archivalMemorySearchArgs = z.object({
  query: nulFree().min(1).describe('What to look for, in words or a question; matched by meaning and by keywords.'),
  tags: tags.optional().describe('Only passages with at least one of these tags.'),
  top_k: z.number().int().min(1).max(MAX_SEARCH_LIMIT).optional().describe('How many results per page (default 10).'),
  start: dateBound('start').optional(),
  end: dateBound('end').optional(),
  page: page.optional(),
});

const conversationSearchArgs = z.object({
  query: nulFree().min(1).describe('Words or a question about what was said; matched by meaning and by keywords.'),
  roles: z
    .array(z.enum(['user', 'assistant', 'tool', 'system']))
    .min(1)
    .optional()
    .describe(
      'Only messages by these speakers: "user" is the caller, "assistant" is you. Default: user and assistant.',
    ),
  start: dateBound('start').optional(),
  end: dateBound('end').optional(),
  limit: z.number().int().min(1).max(MAX_SEARCH_LIMIT).optional().describe('How many results per page (default 10).'),
  page: page.optional(),
  scope: z
    .enum(['caller', 'household'])
    .optional()
    .describe(
      '"caller" (default): conversations with the person on this call. "household": every caller of this ' +
        'household (needs a verified caller).',
    ),
});

/** Each tool's argument schema, by name. */
export const TOOL_ARGUMENTS = {
  core_memory_append: coreMemoryAppendArgs,
  core_memory_replace: coreMemoryReplaceArgs,
  memory_rethink: memoryRethinkArgs,
  archival_memory_insert: archivalMemoryInsertArgs,
  archival_memory_search: archivalMemorySearchArgs,
  conversation_search: conversationSearchArgs,
} as const;

/** The name of one of the six memory tools. */
export type MemoryToolName = keyof typeof TOOL_ARGUMENTS;
/** A tool's arguments after parsing. */
export type ToolArguments<N extends MemoryToolName> = z.infer<(typeof TOOL_ARGUMENTS)[N]>;

const DESCRIPTIONS: Record<MemoryToolName, string> = {
  core_memory_append:
    'Add a line to the end of a core memory block. Use it for new facts that every later call should know.',
  core_memory_replace:
    'Replace exact text in a core memory block (to correct or update a fact); new_content "" deletes it.',
  memory_rethink:
    'Rewrite a whole core memory block, e.g. to reorganize or condense it when it is nearly full. ' +
    'Start from the value you see in <memory_blocks>.',
  archival_memory_insert:
    'Save a detail to archival memory (long-term, searchable, not always in view): things too long or too ' +
    'rarely needed for core memory.',
  archival_memory_search:
    'Search archival memory for saved details, by meaning and keywords, optionally by tags or date.',
  conversation_search:
    'Search earlier conversations (recall memory) for what was said, by meaning and keywords, optionally by speaker or date.',
};

/** Whether `name` is one of the memory tools. */
export function isMemoryToolName(name: string): name is MemoryToolName {
  return Object.hasOwn(TOOL_ARGUMENTS, name);
}

/** The tool definitions handed to the model. */
export function memoryToolDefinitions(): ToolDefinition[] {
  return (Object.keys(TOOL_ARGUMENTS) as MemoryToolName[]).map((name) => {
    const { $schema: _dialect, ...schema } = z.toJSONSchema(TOOL_ARGUMENTS[name], { io: 'input' });
    return { type: 'function', name, description: DESCRIPTIONS[name], parameters: schema as JSONSchemaObject };
  });
}

/** The model's arguments, parsed; or the text telling it what is wrong. */
export function parseToolArguments<N extends MemoryToolName>(
  name: N,
  raw: unknown,
): { ok: true; args: ToolArguments<N> } | { ok: false; output: string } {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw === '' ? '{}' : raw);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, output: `Arguments for ${name} are not valid JSON (${reason}); send one JSON object.` };
    }
  }
  const parsed = TOOL_ARGUMENTS[name].safeParse(value);
  if (!parsed.success) return { ok: false, output: `Invalid arguments for ${name}: ${describeIssues(parsed.error)}.` };
  return { ok: true, args: parsed.data as ToolArguments<N> };
}
