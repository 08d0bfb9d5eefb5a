/**
 * The core-memory tools: `core_memory_append`, `core_memory_replace`, `memory_rethink`. Limits
 * and read-only flags are enforced here, against the block as it is at write time, and every
 * refusal is a sentence the model can act on. Append and replace compose with concurrent
 * edits (re-applied on the newer value); a rethink never overwrites a change the model has
 * not seen.
 */
import type { BlockWriter, EditDecision, EditOutcome } from '../block-writer.js';
import { type BlockStore, isVisibleTo } from '../blocks.js';
import type { SeenVersions } from '../seen-versions.js';
import type { BlockView, RevisionSourceInput, SessionScope, ToolResult } from '../types.js';
import type { ToolArguments } from './definitions.js';

/** The refusal for an edit over a block's limit (exact text; the model and tests rely on it). */
function limitMessage(length: number, limit: number): string {
  return `Edit refused: would be ${length} characters, the limit is ${limit}; shorten or move details to archival memory`;
}

/** The refusal for any agent edit of a read-only block. */
function readOnlyMessage(label: string): string {
  return `Block "${label}" is read-only`;
}

type Context = { scope: SessionScope; source: RevisionSourceInput };

/** Executors for the three core-memory tools. */
export class CoreMemoryTools {
  readonly #store: BlockStore;
  readonly #writer: BlockWriter;
  readonly #seen: SeenVersions;

  constructor(options: { store: BlockStore; writer: BlockWriter; seen: SeenVersions }) {
    this.#store = options.store;
    this.#writer = options.writer;
    this.#seen = options.seen;
  }

  async append(args: ToolArguments<'core_memory_append'>, context: Context): Promise<ToolResult> {
    const content = contentToAppend(args);
    if (typeof content !== 'string') return content;
    return this.#edit(args.label, context, 'Appended to', (current) => appendDecision(current, content));
  }

  async replace(args: ToolArguments<'core_memory_replace'>, context: Context): Promise<ToolResult> {
    const texts = textsToReplace(args);
    if ('output' in texts) return texts;
    return this.#edit(args.label, context, 'Replaced text in', (current) =>
      replaceDecision(current, texts.oldContent, texts.newContent),
    );
  }

  async rethink(args: ToolArguments<'memory_rethink'>, context: Context): Promise<ToolResult> {
    const newMemory = args.new_memory;
    const { scope } = context;
    // What the model rewrote from: the version this session was shown, read once (before any lost race).
    let baseline: { version: number | undefined } | undefined;
    return this.#edit(args.label, context, 'Rewrote', (current) => {
      baseline ??= { version: this.#seen.get(scope, current.id) };
      if (current.version === baseline.version) return fitting(newMemory, current);
      // Either way the model now sees the current value, so a rewrite starting from it can land.
      this.#seen.recordOne(scope, current);
      const why =
        baseline.version === undefined
          ? `You have not seen block "${current.label}" in this session`
          : `Block "${current.label}" changed since you last saw it (another session saved version ${current.version})`;
      return {
        refuse:
          `${why}, so your rewrite was not saved. Its current value is:\n${current.value}\n` +
          'If your change is still needed, call memory_rethink again starting from this value',
      };
    });
  }

  /**
   * What `core_memory_append` or `core_memory_replace` would do to a draft of the block (its
   * stored value, or `draft` where given) — the same checks and messages, nothing written.
   * Returns the value the block would have (`draft`), for the next preview to build on.
   */
  async preview(
    input:
      | { tool: 'core_memory_append'; args: ToolArguments<'core_memory_append'> }
      | { tool: 'core_memory_replace'; args: ToolArguments<'core_memory_replace'> },
    scope: SessionScope,
    draft: ReadonlyMap<string, string>,
  ): Promise<ToolResult & { draft?: { label: string; value: string } }> {
    const target = await this.#target(input.args.label, scope);
    if ('output' in target) return target;
    const current = { ...target, value: draft.get(target.label) ?? target.value };
    let decision: EditDecision;
    if (input.tool === 'core_memory_append') {
      const content = contentToAppend(input.args);
      if (typeof content !== 'string') return content;
      decision = appendDecision(current, content);
    } else {
      const texts = textsToReplace(input.args);
      if ('output' in texts) return texts;
      decision = replaceDecision(current, texts.oldContent, texts.newContent);
    }
    if ('refuse' in decision) return { ok: false, output: decision.refuse };
    return {
      ok: true,
      output: `Block "${current.label}" will have ${decision.value.length} of ${current.charLimit} characters.`,
      draft: { label: current.label, value: decision.value },
    };
  }

  async #edit(
    label: string,
    context: Context,
    verb: string,
    compute: (current: BlockView) => EditDecision,
  ): Promise<ToolResult> {
    const { scope } = context;
    const target = await this.#target(label, scope);
    if ('output' in target) return target;
    const outcome = await this.#writer.edit({
      ref: { householdId: scope.householdId, memberId: target.memberId, label },
      source: context.source,
      decide: (current) => {
        // Checked on every attempt: the flags may have changed since the model's context was built.
        if (!isVisibleTo(current, scope)) return { refuse: `No block "${label}"` };
        if (current.readOnly) return { refuse: readOnlyMessage(label) };
        return compute(current);
      },
    });
    return this.#report(outcome, verb, scope);
  }

  /** The visible block the label names, or the refusal to return. */
  async #target(label: string, scope: SessionScope): Promise<BlockView | ToolResult> {
    const visible = await this.#store.visibleTo(scope);
    // A member's own block first: a shared one of the same label (left from before labels were
    // reserved) must not collect what one member says where every caller reads it.
    const named = visible.filter((candidate) => candidate.label === label);
    const block = named.find((candidate) => candidate.memberId !== null) ?? named[0];
    if (block?.readOnly) return { ok: false, output: readOnlyMessage(label) };
    if (block) return block;
    const editable = visible.filter((candidate) => !candidate.readOnly).map((candidate) => candidate.label);
    return {
      ok: false,
      output:
        editable.length > 0
          ? `No block "${label}". Blocks you can edit: ${editable.join(', ')}`
          : `No block "${label}", and no block can be edited on this call`,
    };
  }

  #report(outcome: EditOutcome, verb: string, scope: SessionScope): ToolResult {
    if (outcome.kind === 'refused') return { ok: false, output: outcome.message };
    const { block } = outcome;
    const size = `it now has ${block.value.length} of ${block.charLimit} characters.`;
    if (outcome.kind === 'unchanged')
      return { ok: true, output: `Block "${block.label}" already says exactly that; nothing changed.` };
    if (outcome.kind === 'replayed')
      return { ok: true, output: `This edit of block "${block.label}" was already applied; nothing changed.` };
    const from = block.version - 1;
    const seenBefore = this.#seen.get(scope, block.id);
    const unseenChange = outcome.attempts > 1 || (seenBefore !== undefined && seenBefore !== from);
    this.#seen.advance({ viewer: scope, blockId: block.id, from, to: block.version });
    const output = `${verb} block "${block.label}"; ${size}`;
    if (!unseenChange) return { ok: true, output };
    // The edit landed on top of a change this model has not seen: show it the whole block.
    this.#seen.recordOne(scope, block);
    return {
      ok: true,
      output: `${output} Another session changed this block too; both edits are kept. It now reads:\n${block.value}`,
    };
  }
}

/** The text to append, or the refusal for one that is only white space. */
function contentToAppend(args: ToolArguments<'core_memory_append'>): string | ToolResult {
  const { content } = args;
  return content.trim() === '' ? { ok: false, output: 'content is empty; write the text to add' } : content;
}

/** The texts of a replace, or the refusal for an empty needle (it would match everywhere). */
function textsToReplace(
  args: ToolArguments<'core_memory_replace'>,
): { oldContent: string; newContent: string } | ToolResult {
  const { old_content: oldContent, new_content: newContent } = args;
  if (oldContent === '') return { ok: false, output: 'old_content is empty; quote the exact text to replace' };
  return { oldContent, newContent };
}

/** `content` added as a new line, or the limit refusal. */
function appendDecision(current: BlockView, content: string): EditDecision {
  return fitting(current.value === '' ? content : `${current.value}\n${content}`, current);
}

/** `oldContent` (exactly one match) replaced, or the refusal naming how many places matched. */
function replaceDecision(current: BlockView, oldContent: string, newContent: string): EditDecision {
  const matches = countOccurrences(current.value, oldContent);
  if (matches === 0) {
    return {
      refuse:
        `No match for old_content in block "${current.label}"; copy the exact text from the block ` +
        '(matching is case- and whitespace-sensitive)',
    };
  }
  if (matches > 1) {
    return {
      refuse:
        `old_content matches ${matches} places in block "${current.label}"; include more of the ` +
        'surrounding text so that it matches exactly one',
    };
  }
  return fitting(
    current.value.replace(oldContent, () => newContent),
    current,
  );
}

/** The new value, or the limit refusal. */
function fitting(value: string, current: BlockView): EditDecision {
  return value.length > current.charLimit ? { refuse: limitMessage(value.length, current.charLimit) } : { value };
}

/** Occurrences of `needle`, overlapping ones included (each is a different place it could mean); 0 for ''. */
function countOccurrences(haystack: string, needle: string): number {
  // indexOf('', i) never returns -1 (past the end it returns the length), so '' would loop forever.
  if (needle === '') return 0;
  let count = 0;
  for (let index = haystack.indexOf(needle); index !== -1; index = haystack.indexOf(needle, index + 1)) count++;
  return count;
}
