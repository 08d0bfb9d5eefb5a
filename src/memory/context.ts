/**
 * The context compiler: base instructions, then the caller's blocks in Letta's layout
 * (`<memory_blocks>`), then `<memory_metadata>`. Same memory, same minute, same text: blocks
 * come in a fixed order, and the parts that change most (time, counts) come last, so a
 * provider's prompt cache keeps the longest possible prefix.
 */
import { z } from 'zod';
import type { PrismaClient } from '../db/index.js';
import { NotFoundError } from '../errors.js';
import type { ArchivalStore } from './archival.js';
import type { BlockStore } from './blocks.js';
import { formatDateTime, safeTimeZone } from './dates.js';
import { DEFAULT_BASE_INSTRUCTIONS } from './defaults.js';
import type { RecallStore } from './recall.js';
import type { SeenVersions } from './seen-versions.js';
import type { BlockView, SessionScope } from './types.js';

/**
 * Counts in the metadata stop here: past it the model only needs to know there is much to search,
 * and counting a long history exactly was most of a call's set-up (28 of 33 ms at 50k messages).
 */
export const COUNT_CAP = 1000;

/** The operator's extra instructions for this household (agentSettings.instructions). */
const householdInstructions = z.object({ instructions: z.string().optional() });

/** Renders blocks as Letta's `_render_memory_blocks_standard` does, with `read_only` always stated. */
function renderMemoryBlocks(blocks: BlockView[]): string {
  const rendered = blocks.map((block) =>
    [
      `<${block.label}>`,
      '<description>',
      block.description,
      '</description>',
      '<metadata>',
      `- read_only=${block.readOnly}`,
      `- chars_current=${block.value.length}`,
      `- chars_limit=${block.charLimit}`,
      '</metadata>',
      '<value>',
      block.value,
      '</value>',
      `</${block.label}>`,
    ].join('\n'),
  );
  return [
    '<memory_blocks>',
    'The following memory blocks are currently engaged in your core memory unit:',
    '',
    ...rendered.flatMap((block) => [block, '']),
    '</memory_blocks>',
  ].join('\n');
}

/** Builds the instructions for a session. */
export class ContextCompiler {
  readonly #prisma: PrismaClient;
  readonly #blocks: BlockStore;
  readonly #recall: RecallStore;
  readonly #archival: ArchivalStore;
  readonly #seen: SeenVersions;
  readonly #now: () => Date;

  constructor(options: {
    prisma: PrismaClient;
    blocks: BlockStore;
    recall: RecallStore;
    archival: ArchivalStore;
    seen: SeenVersions;
    now: () => Date;
  }) {
    this.#prisma = options.prisma;
    this.#blocks = options.blocks;
    this.#recall = options.recall;
    this.#archival = options.archival;
    this.#seen = options.seen;
    this.#now = options.now;
  }

  async compile(input: { scope: SessionScope; baseInstructions?: string }): Promise<string> {
    const { scope } = input;
    const household = await this.#prisma.household.findUnique({
      where: { id: scope.householdId },
      select: { timezone: true, agentSettings: true },
    });
    if (!household) throw new NotFoundError(`No household ${scope.householdId}.`);
    const [caller, blocks, recallCount, archivalCount] = await Promise.all([
      this.#callerLine(scope),
      this.#blocks.visibleTo(scope),
      scope.memberId
        ? this.#recall.count(
            { householdId: scope.householdId, memberId: scope.memberId, exceptCallId: scope.callId },
            COUNT_CAP,
          )
        : 0,
      this.#archival.count({ householdId: scope.householdId, memberId: scope.memberId }, COUNT_CAP),
    ]);
    this.#seen.recordShown(scope, blocks);
    const timeZone = safeTimeZone(household.timezone);
    const metadata = [
      '<memory_metadata>',
      `- The current date and time is ${formatDateTime(this.#now(), timeZone)} (${timeZone})`,
      caller,
      `- ${counted(recallCount, 'previous message')} with this caller ${recallCount === 1 ? 'is' : 'are'} stored in recall memory (use conversation_search)`,
      `- ${counted(archivalCount, 'passage')} ${archivalCount === 1 ? 'is' : 'are'} stored in archival memory (use archival_memory_search)`,
      '</memory_metadata>',
    ].join('\n');
    const extra = householdInstructions.safeParse(household.agentSettings);
    return [
      input.baseInstructions ?? DEFAULT_BASE_INSTRUCTIONS,
      ...(extra.success && extra.data.instructions
        ? [`<household_instructions>\n${extra.data.instructions}\n</household_instructions>`]
        : []),
      renderMemoryBlocks(blocks),
      metadata,
    ].join('\n\n');
  }

  async #callerLine(scope: SessionScope): Promise<string> {
    if (scope.memberId === null) {
      return '- The caller is not a known member of this household (unknown caller); do not share private household details';
    }
    const member = await this.#prisma.member.findFirst({
      where: { id: scope.memberId, householdId: scope.householdId },
      select: { name: true, relationship: true },
    });
    if (!member) throw new NotFoundError(`No member ${scope.memberId} in household ${scope.householdId}.`);
    const who = member.relationship ? `${member.name} (${member.relationship})` : member.name;
    return scope.callerVerified
      ? `- The caller is ${who}, a member of this household; their identity is verified`
      : `- The caller appears to be ${who}, a member of this household, by caller ID only; their identity is NOT verified, so do not share private details until they verify`;
  }
}

/** "3 passages", or past the cap "More than 1,000 passages". */
function counted(count: number, noun: string): string {
  if (count > COUNT_CAP) return `More than ${COUNT_CAP.toLocaleString('en-US')} ${noun}s`;
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
