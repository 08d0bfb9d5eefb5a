/**
 * Hearth's memory engine (DESIGN.md §4, after Letta/MemGPT): core-memory blocks shared by a
 * household's callers plus one block per member, and standalone blocks of the organization
 * attached to several households (`attachBlock`; Letta's blocks shared by agents), written
 * only by compare-and-swap on their version with a revision per write; recall memory (every
 * turn, searchable); archival memory (distilled facts in pgvector); the context compiler that
 * renders a caller's memory into the model's instructions; the six memory tools; change
 * events; and context pressure.
 *
 * @example
 * const memory = createMemoryEngine({
 *   prisma: db.prisma,
 *   embedder: createEmbedder(embedderOptions(config)), // OpenAI with a key, else the local model
 *   events: await createMemoryEvents({ db, logger }), // LISTEN/NOTIFY on Postgres, in-process on PGlite
 *   pressure: { warnTokens: config.HEARTH_MEMORY_WARN_TOKENS, evictTokens: config.HEARTH_MEMORY_EVICT_TOKENS },
 *   logger,
 * });
 * const scope = { organizationId, householdId, memberId, callId, callerVerified: false };
 * const instructions = await memory.compileContext({ scope });
 * const result = await memory.runTool({
 *   name: 'core_memory_append',
 *   arguments: '{"label":"household","content":"The cat is called Miso."}',
 *   scope,
 * }); // { ok: true, output: 'Appended to block "household"; it now has 23 of 4000 characters.' }
 * const stop = memory.onBlockChange((change) => refreshLiveCalls(change.householdId));
 * const shared = await memory.createBlock({ organizationId, householdId: null, memberId: null, label: 'family', source });
 * await memory.attachBlock({ organizationId, householdId, blockId: shared.id }); // now in this household's prompts
 * await memory.updateBlock({ organizationId, blockId: shared.id, changes: { value: 'Sunday lunch at 1.' }, source });
 * const page = await memory.listOrganizationBlocks({ organizationId, limit: 50, order: 'asc' });
 * const seenBy = await memory.blockHouseholds({ organizationId, blockIds: page.map((block) => block.id) });
 * await memory.close(); // waits for background embeddings, then closes the change channel
 */

/** The default block templates a household and a member start with, and the default base instructions. */
export { CALLER_BLOCK, DEFAULT_BASE_INSTRUCTIONS, HOUSEHOLD_DEFAULT_BLOCKS } from './defaults.js';
/** OpenAI embeddings when an API key is given, else the local Universal Sentence Encoder; cached and batched. */
export {
  createEmbedder,
  EMBEDDING_DIMENSIONS,
  type Embedder,
  embedderOptions,
  LOCAL_EMBEDDING_MODEL,
} from './embeddings/index.js';
/** Creates the engine over a Prisma client and an embedder. */
export { createMemoryEngine, type MemoryEngineOptions } from './engine.js';
/** Change events: in-process, or across instances through Postgres LISTEN/NOTIFY. */
export { type BlockChange, createInProcessEvents, createMemoryEvents, type MemoryEvents } from './events.js';
/** The engine's input limits, for callers that validate first (the admin API's schemas and OpenAPI document). */
export { MEMORY_LIMITS } from './limits.js';
/** Default context-pressure thresholds (`MemoryEngineOptions.pressure`). */
export { DEFAULT_PRESSURE, type PressureThresholds } from './pressure.js';
/**
 * The engine's types: scope, sources, views, hits, tools and the engine interface. A block is
 * addressed by label in a household (`BlockRef`) or by id in an organization (`BlockIdRef`):
 * `BlockTarget`. `BlockAttachmentInput` and `OrganizationBlocksInput` are the inputs of
 * `attachBlock`/`detachBlock` and `listOrganizationBlocks`.
 */
export type {
  AppendMessageInput,
  BlockAttachmentInput,
  BlockChanges,
  BlockHistoryInput,
  BlockIdRef,
  BlockRef,
  BlockTarget,
  BlockView,
  ContextMessage,
  ContextPressure,
  CreateBlockInput,
  DeleteBlockInput,
  HouseholdDefaultsInput,
  InsertPassageInput,
  JSONSchemaObject,
  MemberDefaultsInput,
  MemoryEngine,
  MessageRoleName,
  OrganizationBlocksInput,
  PassageHit,
  PassageSearchInput,
  PassageView,
  RecallHit,
  RecallSearchInput,
  RevisionSourceInput,
  RevisionView,
  RollbackBlockInput,
  RunToolInput,
  SearchPage,
  SearchRanking,
  SearchRequest,
  SessionScope,
  Summarizer,
  ToolDefinition,
  ToolResult,
  TranscriptInput,
  TranscriptMessage,
  UpdateBlockInput,
  WithinWrite,
} from './types.js';
