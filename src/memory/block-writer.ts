/**
 * Every write to an existing block: a compare-and-swap on `version` (`UPDATE … WHERE id = $id
 * AND version = $v`) plus the `BlockRevision` for the new version, in one transaction, then a
 * change event for each household that sees the block. Writers in this process queue on a
 * mutex per block address; writers in other processes, or reaching the block by another
 * address (its id, another household it is attached to), are caught by the version check, and
 * the loser re-reads and decides again.
 */
import type { PrismaClient } from '../db/index.js';
import { ConflictError, PreconditionFailedError, ValidationError } from '../errors.js';
import { changesOf, householdsSeeing, isById, publishChanges } from './block-scope.js';
import { type BlockStore, blockNotFound, ownerKeyOf, revisionSourceFields, toBlockView } from './blocks.js';
import type { MemoryEvents } from './events.js';
import { KeyedMutex } from './mutex.js';
import { type BlockChangesInput, blockChangesSchema, parseOrThrow } from './schemas.js';
import type { BlockChanges, BlockTarget, BlockView, RevisionSourceInput, WithinWrite } from './types.js';

/**
 * How often an agent edit re-reads and re-applies after losing a race before giving up. Each
 * lost race means another write landed, so this many attempts only run out when about as many
 * writers hit one block at the same moment.
 */
const MAX_EDIT_ATTEMPTS = 50;
/** Random pauses after lost races, doubling up to a cap, so writers in several processes stop colliding. */
const FIRST_RETRY_PAUSE_MS = 2;
const MAX_RETRY_PAUSE_MS = 20;
/** PGlite runs one transaction at a time, so a write may queue behind others for a while. */
const WRITE_TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 10_000 };

/** What an edit makes of the block as it is now: a new value, or a refusal for the model. */
export type EditDecision = { value: string } | { refuse: string };

/**
 * How an agent edit ended. `attempts` > 1 means it lost a race and was re-applied; `replayed`:
 * its idempotency key was already written, so it was not applied again.
 */
export type EditOutcome =
  | { kind: 'written'; block: BlockView; attempts: number }
  | { kind: 'unchanged'; block: BlockView }
  | { kind: 'replayed'; block: BlockView }
  | { kind: 'refused'; message: string; block: BlockView | undefined };

/** Applies block writes with compare-and-swap, revisions and change events. */
export class BlockWriter {
  readonly #prisma: PrismaClient;
  readonly #store: BlockStore;
  readonly #events: MemoryEvents;
  readonly #now: () => Date;
  readonly #mutex = new KeyedMutex();

  constructor(options: { prisma: PrismaClient; store: BlockStore; events: MemoryEvents; now: () => Date }) {
    this.#prisma = options.prisma;
    this.#store = options.store;
    this.#events = options.events;
    this.#now = options.now;
  }

  /**
   * An agent's edit: read the block, let `decide` compute the new value from it, swap. On a
   * lost race, read again and call `decide` again with the newer block (`attempt` counts), so
   * edits that compose (append, exact replace) both land, and ones that do not can refuse.
   */
  async edit(input: {
    ref: BlockTarget;
    source: RevisionSourceInput;
    decide: (current: BlockView, attempt: number) => EditDecision | Promise<EditDecision>;
    withinWrite?: WithinWrite;
  }): Promise<EditOutcome> {
    const key = blockKey(input.ref);
    return this.#mutex.run(key, async () => {
      let current: BlockView | undefined;
      for (let attempt = 1; attempt <= MAX_EDIT_ATTEMPTS; attempt++) {
        current = await this.#store.find(input.ref);
        if (!current) return { kind: 'refused', message: `${blockName(input.ref)} no longer exists`, block: undefined };
        if (attempt === 1 && (await this.#applied(current, input.ref, input.source)))
          return { kind: 'replayed', block: current };
        const decision = await input.decide(current, attempt);
        if ('refuse' in decision) return { kind: 'refused', message: decision.refuse, block: current };
        if (decision.value === current.value) return { kind: 'unchanged', block: current };
        const written = await this.#swap(current, { value: decision.value }, input.source, input.withinWrite);
        if (written) return { kind: 'written', block: written, attempts: attempt };
        await pauseAfterLostRace(attempt);
      }
      return {
        kind: 'refused',
        message: `Block "${current?.label}" is being edited by several sessions at once; try the edit again`,
        block: current,
      };
    });
  }

  /**
   * An operator's edit, conditional on `expectedVersion` when given (412 when stale); without
   * it, applied to whatever version is current, re-read and re-applied after a lost race (the
   * last writer wins, as Letta's PATCH). Operators own the persona, so read-only blocks may
   * change here; the character limit still holds.
   */
  async update(input: {
    ref: BlockTarget;
    expectedVersion?: number;
    changes: BlockChanges;
    source: RevisionSourceInput;
    withinWrite?: WithinWrite;
  }): Promise<BlockView> {
    const changes = parseOrThrow(blockChangesSchema, input.changes);
    const { expectedVersion } = input;
    return this.#mutex.run(blockKey(input.ref), async () => {
      for (let attempt = 1; ; attempt++) {
        const current = await this.#store.get(input.ref);
        if (expectedVersion !== undefined && current.version !== expectedVersion) {
          throw staleVersion(current, expectedVersion);
        }
        checkFits({
          label: current.label,
          value: changes.value ?? current.value,
          charLimit: changes.charLimit ?? current.charLimit,
        });
        const changed = Object.entries(changes).some(([field, value]) => current[field as keyof BlockView] !== value);
        if (!changed) return current;
        const written = await this.#swap(current, changes, input.source, input.withinWrite);
        if (written) return written;
        // Another writer landed between our read and our swap.
        if (expectedVersion !== undefined) {
          throw staleVersion((await this.#store.find(input.ref)) ?? current, expectedVersion);
        }
        if (attempt >= MAX_EDIT_ATTEMPTS) {
          throw new ConflictError(`Block "${current.label}" is being written by several sessions at once; try again.`);
        }
        await pauseAfterLostRace(attempt);
      }
    });
  }

  /** Sets the value to `value` (a rollback), conditional on `expectedVersion` when given. */
  async restore(input: {
    ref: BlockTarget;
    value: string;
    expectedVersion?: number;
    source: RevisionSourceInput;
    withinWrite?: WithinWrite;
  }): Promise<BlockView> {
    if (input.expectedVersion !== undefined) {
      return this.update({ ...input, expectedVersion: input.expectedVersion, changes: { value: input.value } });
    }
    const outcome = await this.edit({
      ref: input.ref,
      source: input.source,
      withinWrite: input.withinWrite,
      decide: (current) => {
        checkFits({ label: current.label, value: input.value, charLimit: current.charLimit });
        return { value: input.value };
      },
    });
    if (outcome.kind !== 'refused') return outcome.block;
    if (!outcome.block) throw blockNotFound(input.ref);
    throw new ConflictError(`${outcome.message}.`);
  }

  /**
   * Whether a write with this source's idempotency key is already in the history of the
   * household it was made for (the one `ref` names, else the block's), or of this block (a
   * standalone block's revisions have no household). A duplicate racing past this check is
   * stopped by a unique index, and its re-run then lands here.
   */
  async #applied(block: BlockView, ref: BlockTarget, source: RevisionSourceInput): Promise<boolean> {
    if (!source.idempotencyKey) return false;
    const householdId = isById(ref) ? block.householdId : ref.householdId;
    const revision = await this.#prisma.blockRevision.findFirst({
      where: {
        idempotencyKey: source.idempotencyKey,
        OR: [{ blockId: block.id }, ...(householdId === null ? [] : [{ householdId }])],
      },
      select: { id: true },
    });
    return revision !== null;
  }

  /** The compare-and-swap: null when `current.version` is no longer the block's version. */
  async #swap(
    current: BlockView,
    changes: BlockChangesInput,
    source: RevisionSourceInput,
    withinWrite: WithinWrite | undefined,
  ): Promise<BlockView | null> {
    const now = this.#now();
    const written = await this.#prisma.$transaction(async (tx) => {
      const [updated] = await tx.memoryBlock.updateManyAndReturn({
        where: { id: current.id, version: current.version },
        data: { ...changes, version: { increment: 1 }, updatedAt: now },
      });
      if (!updated) return null;
      await tx.blockRevision.create({
        data: {
          organizationId: updated.organizationId,
          householdId: updated.householdId,
          blockId: updated.id,
          version: updated.version,
          value: updated.value,
          ...revisionSourceFields(source),
          createdAt: now,
        },
      });
      await withinWrite?.(tx, toBlockView(updated));
      return { row: updated, households: await householdsSeeing(tx, updated) };
    }, WRITE_TRANSACTION_OPTIONS);
    if (!written) return null;
    await publishChanges(this.#events, changesOf(written.row, written.households));
    return toBlockView(written.row);
  }
}

function blockKey(ref: BlockTarget): string {
  if (isById(ref)) return `id:${ref.blockId}`;
  return `${ref.householdId}/${ownerKeyOf(ref.memberId)}/${ref.label}`;
}

/** `Block "household"` or `Block <id>`, to start a sentence. */
function blockName(ref: BlockTarget): string {
  return isById(ref) ? `Block ${ref.blockId}` : `Block "${ref.label}"`;
}

function staleVersion(current: BlockView, expectedVersion: number): PreconditionFailedError {
  const now =
    current.version === expectedVersion
      ? 'changed meanwhile'
      : `is at version ${current.version}, not ${expectedVersion}`;
  return new PreconditionFailedError(`Block "${current.label}" ${now}; reload it and retry.`, {
    details: { currentVersion: current.version },
  });
}

function checkFits(input: { label: string; value: string; charLimit: number }): void {
  if (input.value.length > input.charLimit) {
    throw new ValidationError(
      `Block "${input.label}" would hold ${input.value.length} characters; its limit is ${input.charLimit}. ` +
        'Shorten the value or raise the limit.',
    );
  }
}

function pauseAfterLostRace(attempt: number): Promise<void> {
  const ceiling = Math.min(MAX_RETRY_PAUSE_MS, FIRST_RETRY_PAUSE_MS * 2 ** (attempt - 1));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
