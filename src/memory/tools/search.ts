/**
 * The archival and recall tools: `archival_memory_insert`, `archival_memory_search` and
 * `conversation_search`. Who may search what:
 * - archival: household-wide passages for everyone on the line; a member's own passages for
 *   that member too (as with their caller block);
 * - recall, scope "caller" (default): a member's own past conversations (verified or not, as
 *   with their non-private caller block); an unknown caller only the call in progress, since
 *   unknown callers are not one person and must not read each other's calls;
 * - recall, scope "household": every member's conversations, for verified members only.
 */
import type { PrismaClient } from '../../db/index.js';
import type { ArchivalStore } from '../archival.js';
import { formatShortDateTime, parseDateBound, safeTimeZone } from '../dates.js';
import { DEFAULT_SEARCH_LIMIT } from '../limits.js';
import type { RecallStore } from '../recall.js';
import type { SearchPage, SessionScope, ToolResult } from '../types.js';
import type { ToolArguments } from './definitions.js';

/** Long messages are cut in search results; the model can search again more narrowly. */
const MAX_RESULT_CHARS = 600;

type DateRange = { start?: Date; end?: Date };

/** Executors for the archival and recall tools. */
export class SearchTools {
  readonly #prisma: PrismaClient;
  readonly #recall: RecallStore;
  readonly #archival: ArchivalStore;

  constructor(options: { prisma: PrismaClient; recall: RecallStore; archival: ArchivalStore }) {
    this.#prisma = options.prisma;
    this.#recall = options.recall;
    this.#archival = options.archival;
  }

  async archivalInsert(
    args: ToolArguments<'archival_memory_insert'>,
    scope: SessionScope,
    idempotencyKey?: string | null,
  ): Promise<ToolResult> {
    if (args.content.trim() === '') return { ok: false, output: 'content is empty; write the fact to save' };
    if (args.scope === 'caller' && scope.memberId === null) {
      return {
        ok: false,
        output: 'This caller is not a household member, so there is no caller scope; save it with scope "household"',
      };
    }
    const passage = await this.#archival.insert({
      organizationId: scope.organizationId,
      householdId: scope.householdId,
      memberId: args.scope === 'caller' ? scope.memberId : null,
      text: args.content,
      tags: args.tags ?? [],
      sourceCallId: scope.callId,
      idempotencyKey,
    });
    const tagged = passage.tags.length > 0 ? ` with tags ${passage.tags.join(', ')}` : '';
    return { ok: true, output: `Saved to archival memory${tagged}.` };
  }

  async archivalSearch(args: ToolArguments<'archival_memory_search'>, scope: SessionScope): Promise<ToolResult> {
    const timeZone = await this.#timeZone(scope.householdId);
    const range = dateRange(args, timeZone);
    if ('output' in range) return range;
    const result = await this.#archival.search({
      householdId: scope.householdId,
      memberId: scope.memberId,
      query: args.query,
      ...(args.tags ? { tags: args.tags } : {}),
      ...range,
      limit: args.top_k,
      page: args.page,
    });
    if (result.items.length === 0) {
      return { ok: true, output: `No archival passages matched "${args.query}"${pageNote(result)}.` };
    }
    const lines = result.items.map((passage, index) => {
      const tags = passage.tags.length > 0 ? `; tags: ${passage.tags.join(', ')}` : '';
      return `${firstNumber(result, args.top_k) + index}. [${formatShortDateTime(passage.createdAt, timeZone)}${tags}] ${clip(passage.text)}`;
    });
    return { ok: true, output: [`Archival passages for "${args.query}"${pageNote(result)}:`, ...lines].join('\n') };
  }

  async conversationSearch(args: ToolArguments<'conversation_search'>, scope: SessionScope): Promise<ToolResult> {
    const audience = recallAudience(args.scope, scope);
    if ('output' in audience) return audience;
    const timeZone = await this.#timeZone(scope.householdId);
    const range = dateRange(args, timeZone);
    if ('output' in range) return range;
    const result = await this.#recall.search({
      householdId: scope.householdId,
      ...audience.filter,
      query: args.query,
      roles: args.roles ?? ['user', 'assistant'],
      ...range,
      limit: args.limit,
      page: args.page,
    });
    const { where } = audience;
    if (result.items.length === 0) {
      return { ok: true, output: `No messages matched "${args.query}" in ${where}${pageNote(result)}.` };
    }
    const names = await this.#memberNames(result.items.map((hit) => hit.memberId));
    const lines = result.items.map((hit, index) => {
      const speaker =
        hit.role === 'user' ? (hit.memberId ? (names.get(hit.memberId) ?? 'caller') : 'unknown caller') : hit.role;
      const when = formatShortDateTime(hit.createdAt, timeZone);
      return `${firstNumber(result, args.limit) + index}. [${when}, ${speaker}] ${clip(hit.content)}`;
    });
    return { ok: true, output: [`Messages in ${where} for "${args.query}"${pageNote(result)}:`, ...lines].join('\n') };
  }

  async #timeZone(householdId: string): Promise<string> {
    const household = await this.#prisma.household.findUnique({
      where: { id: householdId },
      select: { timezone: true },
    });
    return safeTimeZone(household?.timezone ?? 'UTC');
  }

  async #memberNames(ids: Array<string | null>): Promise<Map<string, string>> {
    const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
    if (wanted.length === 0) return new Map();
    const members = await this.#prisma.member.findMany({
      where: { id: { in: wanted } },
      select: { id: true, name: true },
    });
    return new Map(members.map((member) => [member.id, member.name]));
  }
}

/** Whose conversations a search covers (see the module comment), or why it may not run. */
function recallAudience(
  wanted: 'caller' | 'household' | undefined,
  scope: SessionScope,
): { filter: { memberId?: string; callId?: string }; where: string } | ToolResult {
  if (wanted === 'household') {
    if (scope.callerVerified && scope.memberId) return { filter: {}, where: "this household's conversations" };
    return {
      ok: false,
      output:
        "Searching the whole household's conversations needs a verified caller; search this caller's own " +
        'conversations instead (scope "caller")',
    };
  }
  if (scope.memberId) return { filter: { memberId: scope.memberId }, where: "this caller's conversations" };
  if (scope.callId) return { filter: { callId: scope.callId }, where: 'this call' };
  return { ok: false, output: 'There are no earlier conversations to search for an unknown caller' };
}

/** The model's start/end as instants in the household's timezone, or the refusal naming the bad one. */
function dateRange(args: { start?: string; end?: string }, timeZone: string): DateRange | ToolResult {
  const range: DateRange = {};
  for (const bound of ['start', 'end'] as const) {
    const text = args[bound];
    if (text === undefined) continue;
    const instant = parseDateBound(text, bound, timeZone);
    if (!instant) {
      return { ok: false, output: `${bound} "${text}" is not a date; use "YYYY-MM-DD" or an ISO date-time` };
    }
    range[bound] = instant;
  }
  if (range.start && range.end && range.start > range.end) {
    return { ok: false, output: `start (${args.start}) is after end (${args.end}); swap them` };
  }
  return range;
}

function pageNote(result: SearchPage<unknown>): string {
  if (result.hasMore) return ` (page ${result.page}; more on page ${result.page + 1})`;
  return result.page > 1 ? ` (page ${result.page}, the last)` : '';
}

function firstNumber(result: SearchPage<unknown>, perPage: number | undefined): number {
  return (result.page - 1) * (perPage ?? DEFAULT_SEARCH_LIMIT) + 1;
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_RESULT_CHARS ? `${oneLine.slice(0, MAX_RESULT_CHARS)}…` : oneLine;
}
