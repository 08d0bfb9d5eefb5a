/**
 * The memory engine's public types: who is asking (`SessionScope`), what the engine returns
 * (views and hits), and the engine's interface itself. Names are a contract with the admin
 * API and the agent loop.
 */
import type { z } from 'zod';
import type { Prisma } from '../db/index.js';
import type { BlockChange } from './events.js';
import type { blockChangesSchema, blockCreateSchema } from './schemas.js';

/** Who is on the session: the household, the member (null for an unknown caller) and the call. */
export type SessionScope = {
  organizationId: string;
  householdId: string;
  /** null: an unknown caller (not a member of the household). */
  memberId: string | null;
  callId: string | null;
  /** Whether the caller proved who they are (PIN or a member-configured check); caller ID alone is not proof. */
  callerVerified: boolean;
};

/** Why a block changed; stored on the `BlockRevision` the change writes. */
export type RevisionSourceInput = {
  source: 'agent_tool' | 'consolidation' | 'admin' | 'rollback' | 'system';
  /** The tool name or the admin action. */
  detail?: string;
  callId?: string | null;
  memberId?: string | null;
  /** Who acted: the API key id for admin edits. */
  actor?: string | null;
  /**
   * Marks a write that may be re-run (a consolidation step after a crash): a write whose key the
   * household already has is not applied again. Unique per household.
   */
  idempotencyKey?: string | null;
};

/** A JSON Schema object describing a tool's arguments. */
export type JSONSchemaObject = {
  type: 'object';
  properties: Record<string, unknown>;
  required?: string[];
  [keyword: string]: unknown;
};

/** A model-facing function tool (the Realtime and Responses APIs' flat shape). */
export interface ToolDefinition {
  type: 'function';
  name: string;
  description: string;
  parameters: JSONSchemaObject;
}

/** What a tool returns to the model: `output` is the text the model sees, also on failure. */
export interface ToolResult {
  ok: boolean;
  output: string;
  /** Set when the tool failed for a passing reason (storage unavailable): the same call may succeed later. */
  retryable?: boolean;
}

/** A core-memory block as the engine shows it. */
export type BlockView = {
  id: string;
  /**
   * The household that owns it; null for a standalone block (the organization's, seen by the
   * households it is attached to). A household's blocks may include others' shared blocks attached to it.
   */
  householdId: string | null;
  /** null for a block shared by the household (or standalone). */
  memberId: string | null;
  label: string;
  value: string;
  description: string;
  charLimit: number;
  readOnly: boolean;
  private: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

/** One stored version of a block, with a unified diff against the version before it. */
export type RevisionView = {
  version: number;
  value: string;
  /** Unified diff from the previous version's value (from '' for the first one). */
  diff: string;
  source: RevisionSourceInput['source'];
  detail: string | null;
  callId: string | null;
  memberId: string | null;
  actor: string | null;
  createdAt: Date;
};

/** A recall message matched by a search; `score` is the fused score (0–1). */
export type RecallHit = {
  id: string;
  callId: string | null;
  memberId: string | null;
  role: MessageRoleName;
  content: string;
  createdAt: Date;
  score: number;
};

/** An archival passage. */
export type PassageView = {
  id: string;
  householdId: string;
  memberId: string | null;
  text: string;
  tags: string[];
  embeddingModel: string;
  sourceCallId: string | null;
  createdAt: Date;
};

/** An archival passage matched by a search; `score` is the fused score (0–1). */
export type PassageHit = PassageView & { score: number };

/** A page of search results; `page` is 1-based. */
export type SearchPage<T> = { items: T[]; page: number; hasMore: boolean };

/** Who said a recall message: `user` is the caller, `assistant` the agent. */
export type MessageRoleName = 'system' | 'user' | 'assistant' | 'tool';

/** A turn of the live context, as the agent layer holds it. */
export type ContextMessage = { role: string; content: string };

/** Condenses turns into a summary; provided by the agent layer (it owns the model). */
export interface Summarizer {
  summarize(messages: ContextMessage[]): Promise<string>;
}

/** How full a session's live context is, and what to do about it. */
export type ContextPressure = {
  tokens: number;
  level: 'ok' | 'warn' | 'evict';
  /** For the model, at 'warn' and 'evict'. */
  notice?: string;
  /** At 'evict': how many of the oldest messages to summarize and drop. */
  evictCount?: number;
};

/** Fields an update may change; omitted ones stay as they are. */
export type BlockChanges = z.input<typeof blockChangesSchema>;

/**
 * Which block of a household, by label: a member's (`memberId`), or a shared one (`memberId`
 * null), which is the household's own or one attached to it.
 */
export type BlockRef = { householdId: string; memberId: string | null; label: string };

/** A block by id; it must be `organizationId`'s, else `NotFoundError`. */
export type BlockIdRef = { organizationId: string; blockId: string };

/** A block by label in a household (`BlockRef`), or by id in an organization (`BlockIdRef`, when `blockId` is given). */
export type BlockTarget = BlockRef | BlockIdRef;

/** One recall message to store. */
export type AppendMessageInput = {
  /** The row's id, when the caller named the message before it was complete (a streamed reply). */
  id?: string;
  scope: SessionScope;
  role: MessageRoleName;
  content: string;
  toolName?: string;
  toolArgs?: unknown;
  toolCallId?: string;
};

/** What every search takes: the query, an inclusive date range, and the page (1-based) of `limit` results. */
export type SearchRequest = {
  query: string;
  start?: Date;
  end?: Date;
  limit?: number;
  page?: number;
  /** Default 'hybrid'; one half alone ('keyword', 'vector') is for measuring the fusion (`npm run eval`). */
  ranking?: SearchRanking;
};

/** How a search ranks: full text and vectors fused, or one of them alone. */
export type SearchRanking = 'hybrid' | 'keyword' | 'vector';

/** A recall search; `memberId` undefined or null: the whole household. */
export type RecallSearchInput = SearchRequest & {
  householdId: string;
  memberId?: string | null;
  /** Only this call's messages. */
  callId?: string;
  roles?: MessageRoleName[];
};

/** An archival passage to store. */
export type InsertPassageInput = {
  organizationId: string;
  householdId: string;
  /** null or omitted: for the whole household; a member id: only on that member's calls. */
  memberId?: string | null;
  text: string;
  tags?: string[];
  sourceCallId?: string | null;
  /** As on `RevisionSourceInput`: a passage with this key already stored is returned, not stored again. */
  idempotencyKey?: string | null;
};

/** A call's transcript: its messages, or only `roles`, at most `limit` (the latest ones). */
export type TranscriptInput = {
  householdId: string;
  callId: string;
  roles?: MessageRoleName[];
  /** Default and most: `MAX_TRANSCRIPT_MESSAGES`. */
  limit?: number;
};

/** One message of a call's transcript, as it was recorded. */
export type TranscriptMessage = {
  id: string;
  role: MessageRoleName;
  content: string;
  memberId: string | null;
  toolName: string | null;
  toolArgs: unknown;
  createdAt: Date;
};

/**
 * An archival search. `memberId` undefined: every passage of the household; null:
 * household-wide passages only; a member id: household-wide ones plus that member's.
 */
export type PassageSearchInput = SearchRequest & {
  householdId: string;
  memberId?: string | null;
  /** Passages carrying any of these tags (all of them with `tagMatch: 'all'`). */
  tags?: string[];
  tagMatch?: 'any' | 'all';
};

/**
 * Runs inside a block write's transaction, once the change is made: what it writes (an operator's
 * audit row) commits with the change, and if it throws, the change is rolled back.
 */
export type WithinWrite = (tx: Prisma.TransactionClient, block: BlockView) => Promise<void>;

/**
 * A new block: its owner, why it is written, and its fields (a label; the rest default).
 * `householdId` and `memberId` null: a standalone block of the organization, seen by no
 * household until attached (`attachBlock`); its label need not be unique.
 */
export type CreateBlockInput = z.input<typeof blockCreateSchema> & {
  organizationId: string;
  householdId: string | null;
  memberId: string | null;
  source: RevisionSourceInput;
  withinWrite?: WithinWrite;
};

/**
 * An operator's edit of a block: conditional on `expectedVersion` when given; without it the
 * change applies to whatever version is current (last writer wins, as Letta's PATCH).
 */
export type UpdateBlockInput = BlockTarget & {
  expectedVersion?: number;
  changes: BlockChanges;
  source: RevisionSourceInput;
  withinWrite?: WithinWrite;
};

/** A block to delete; `withinWrite` sees it as it was. */
export type DeleteBlockInput = BlockTarget & { withinWrite?: WithinWrite };

/** A page of a block's revisions, newest first; `before` pages by version. */
export type BlockHistoryInput = BlockTarget & { limit?: number; before?: number };

/** Restores `toVersion`'s value as a new version, conditional on `expectedVersion` when given. */
export type RollbackBlockInput = BlockTarget & {
  toVersion: number;
  expectedVersion?: number;
  source: RevisionSourceInput;
  withinWrite?: WithinWrite;
};

/** Default blocks of a new household, written inside the caller's transaction. */
export type HouseholdDefaultsInput = {
  tx: Prisma.TransactionClient;
  organizationId: string;
  householdId: string;
};

/** A new member's default block, written inside the caller's transaction. */
export type MemberDefaultsInput = HouseholdDefaultsInput & { memberId: string };

/**
 * A block shown to a household besides its own blocks (`attachBlock`), or no longer
 * (`detachBlock`); `withinWrite` runs in the same transaction.
 */
export type BlockAttachmentInput = {
  organizationId: string;
  householdId: string;
  blockId: string;
  withinWrite?: WithinWrite;
};

/**
 * A page of the organization's blocks that are not a member's (households' shared blocks and
 * standalone ones), ordered by (createdAt, id); `after` is the last block of the previous page.
 */
export type OrganizationBlocksInput = {
  organizationId: string;
  /** Only blocks with this label. */
  label?: string;
  /** 1 to `MEMORY_LIMITS.blockListLimitMax`. */
  limit: number;
  after?: { createdAt: Date; id: string };
  order: 'asc' | 'desc';
};

/** A memory tool call from the model (or a consolidation step). */
export type RunToolInput = {
  name: string;
  /** The model's JSON text, or already-parsed arguments. */
  arguments: unknown;
  scope: SessionScope;
  source?: 'agent_tool' | 'consolidation';
  /** See `RevisionSourceInput.idempotencyKey`: a re-run of an edit or insert already applied reports it and writes nothing. */
  idempotencyKey?: string;
};

/** The engine: prompt, tools, recall, archival, blocks, change events and context pressure. */
export interface MemoryEngine {
  /** Base instructions, then `<memory_blocks>` and `<memory_metadata>` for this caller (deterministic). */
  compileContext(input: { scope: SessionScope; baseInstructions?: string }): Promise<string>;
  /** The six memory tools' definitions, for the model. */
  readonly toolDefinitions: ToolDefinition[];
  /** Runs a memory tool; never throws: failures are `{ ok: false, output }` the model can act on. */
  runTool(input: RunToolInput): Promise<ToolResult>;
  /**
   * What an edit tool would do to `draft` block values (label → value; stored values for the
   * rest), with the same checks and messages as `runTool`, writing nothing. For reviews that
   * plan edits first and apply them later (consolidation). `draft` is the block after the edit.
   */
  previewTool(input: {
    name: string;
    arguments: unknown;
    scope: SessionScope;
    draft: ReadonlyMap<string, string>;
  }): Promise<ToolResult & { draft?: { label: string; value: string } }>;
  /** Whether `name` is one of the memory tools. */
  isMemoryTool(name: string): boolean;

  /**
   * Writes one recall message and returns; user and assistant turns get their embedding in the
   * background (until then, and if embedding fails, search finds the message by full text).
   */
  appendMessage(input: AppendMessageInput): Promise<{ id: string; createdAt: Date }>;
  /** Hybrid (full-text + vector) search of recall. */
  searchRecall(input: RecallSearchInput): Promise<SearchPage<RecallHit>>;
  /** A call's messages in the order they were recorded; past `limit`, the latest ones. */
  transcript(input: TranscriptInput): Promise<TranscriptMessage[]>;

  /** Stores an archival passage with its embedding. */
  insertPassage(input: InsertPassageInput): Promise<PassageView>;
  /** Hybrid search of archival passages. */
  searchPassages(input: PassageSearchInput): Promise<SearchPage<PassageHit>>;

  /**
   * Blocks of a household: `memberId` undefined: all; null: the shared ones (attached blocks
   * included); an id: that member's.
   */
  listBlocks(input: { householdId: string; memberId?: string | null }): Promise<BlockView[]>;
  /** One block, by label or by id; `NotFoundError` when there is none. */
  getBlock(input: BlockTarget): Promise<BlockView>;
  /**
   * Creates a block (version 1, with its first revision); `ConflictError` if the label is taken
   * in the household (by its own blocks or attached ones), `ValidationError` for a default label
   * of the other kind (a shared `caller`, a member's `persona`). `householdId` null: standalone.
   */
  createBlock(input: CreateBlockInput): Promise<BlockView>;
  /**
   * Operator edit, compare-and-swap on `expectedVersion` when given (`PreconditionFailedError`
   * when stale), else on whatever version is current; `ValidationError` when the value would
   * exceed the limit. May change read-only blocks. Every household that sees the block hears of it.
   */
  updateBlock(input: UpdateBlockInput): Promise<BlockView>;
  /**
   * Deletes a block and its history, for every household that sees it; `ConflictError` for the
   * default blocks (persona, household, caller), and for a block only attached to the household
   * named by label (detach it, or delete it by id).
   */
  deleteBlock(input: DeleteBlockInput): Promise<void>;
  /** Revisions, newest first; `before` pages by version. */
  blockHistory(input: BlockHistoryInput): Promise<{ items: RevisionView[]; hasMore: boolean }>;
  /** Restores an earlier version's value as a new version (source 'rollback'). */
  rollbackBlock(input: RollbackBlockInput): Promise<BlockView>;
  /**
   * Shows a standalone block, or another household's shared block, to a household as one of its
   * shared blocks. `NotFoundError` when the household or block is not the organization's;
   * `ConflictError` for a member's block, the household's own block, or a label the household
   * already has. Attaching twice changes nothing.
   */
  attachBlock(input: BlockAttachmentInput): Promise<BlockView>;
  /** Undoes `attachBlock`; `NotFoundError` when not attached, `ConflictError` for the household's own block. */
  detachBlock(input: BlockAttachmentInput): Promise<void>;
  /** A page of the organization's blocks that are not a member's (households' shared blocks and standalone ones). */
  listOrganizationBlocks(input: OrganizationBlocksInput): Promise<BlockView[]>;
  /**
   * For each of `blockIds` that is the organization's: the households that see it, the owner
   * first, then those it is attached to (oldest attachment first). Unknown ids are left out.
   */
  blockHouseholds(input: { organizationId: string; blockIds: string[] }): Promise<Map<string, string[]>>;
  /** Creates a new household's default shared blocks inside the caller's transaction. */
  createHouseholdBlocks(input: HouseholdDefaultsInput): Promise<void>;
  /** Creates a new member's `caller` block inside the caller's transaction; `ConflictError` if a shared `caller` exists. */
  createMemberBlock(input: MemberDefaultsInput): Promise<void>;

  /** Subscribes to block changes (this process's, and other instances' on Postgres); returns unsubscribe. */
  onBlockChange(listener: (change: BlockChange) => void): () => void;

  /** Estimates the live context's tokens and says whether to warn or evict. */
  contextPressure(input: { messages: ContextMessage[]; instructions: string }): ContextPressure;
  /** Summarizes the oldest turns through `summarizer`; the caller drops `dropCount` messages. */
  summarizeForEviction(input: {
    messages: ContextMessage[];
    summarizer: Summarizer;
    /** How many to drop (contextPressure's `evictCount`); computed from the messages when omitted. */
    count?: number;
    instructions?: string;
  }): Promise<{ summary: string; dropCount: number }>;

  /**
   * Resolves once every embedding started by `appendMessage` so far is written (or has failed
   * and been logged). Tests call it before asserting on vectors; `close()` calls it too.
   */
  flush(): Promise<void>;
  /** Waits for in-flight embeddings (`flush`), then closes the change-event channel (the LISTEN connection on Postgres). */
  close(): Promise<void>;
}
