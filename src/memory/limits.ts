/**
 * Every limit the engine enforces on its input, in one place: the stores, the tool schemas
 * and (through `MEMORY_LIMITS`) the admin API's schemas and OpenAPI document use these numbers.
 */

/** Labels are what the model types in tool calls: short, lowercase, no spaces. */
export const BLOCK_LABEL_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
/** Longest label `BLOCK_LABEL_PATTERN` allows. */
export const MAX_BLOCK_LABEL_CHARS = 40;
/** Smallest character limit a block may have. */
export const MIN_BLOCK_CHAR_LIMIT = 1;
/** Largest character limit a block may have; larger blocks belong in archival memory. */
export const MAX_BLOCK_CHAR_LIMIT = 20_000;
/** The character limit of a block created without one. */
export const DEFAULT_BLOCK_CHAR_LIMIT = 2000;
/** Longest block description. */
export const MAX_BLOCK_DESCRIPTION_CHARS = 1000;

/** A passage is one fact or a short paragraph; longer material belongs in several. */
export const MAX_PASSAGE_CHARS = 4000;
/** Tags one passage may carry (and a search may filter by). */
export const MAX_TAGS = 10;
/** Longest tag, after trimming. */
export const MAX_TAG_CHARS = 40;

/** Results per page of a search unless asked otherwise. */
export const DEFAULT_SEARCH_LIMIT = 10;
/** The most results one page of a search may hold. */
export const MAX_SEARCH_LIMIT = 50;
/** Results ranked past this are never returned, so pages starting beyond it are empty (pgvector's ef_search cap). */
export const MAX_SEARCH_DEPTH = 1000;

/** The most messages one transcript read returns: a call's latest ones (a long call's start stays in recall). */
export const MAX_TRANSCRIPT_MESSAGES = 2000;

/** Revisions per page of a block's history unless asked otherwise. */
export const DEFAULT_HISTORY_LIMIT = 20;
/** The most revisions one page of history may hold. */
export const MAX_HISTORY_LIMIT = 100;

/** The most blocks one page of an organization's block list may hold. */
export const MAX_BLOCK_LIST_LIMIT = 100;

/**
 * The engine's input limits for callers that validate before it does (the admin API). Lengths
 * are in characters (UTF-16 code units, as JavaScript's `length` counts), after null bytes are
 * stripped and, for tags and passage text, after trimming.
 */
export const MEMORY_LIMITS = {
  /** `label` of a block must match this (1–40 lowercase letters, digits or `_`, starting with a letter). */
  blockLabelPattern: BLOCK_LABEL_PATTERN,
  blockLabelMaxLength: MAX_BLOCK_LABEL_CHARS,
  /** `charLimit` of a block: a whole number in [charLimitMin, charLimitMax]; `value` may not exceed it. */
  charLimitMin: MIN_BLOCK_CHAR_LIMIT,
  charLimitMax: MAX_BLOCK_CHAR_LIMIT,
  /** `charLimit` when a create omits it. */
  charLimitDefault: DEFAULT_BLOCK_CHAR_LIMIT,
  blockDescriptionMaxLength: MAX_BLOCK_DESCRIPTION_CHARS,
  /** Passage `text`: non-empty after trimming, at most this long. */
  passageTextMaxLength: MAX_PASSAGE_CHARS,
  /** Tags per passage and per search filter. */
  tagsMax: MAX_TAGS,
  /** One tag: non-empty after trimming, at most this long; stored lower-case. */
  tagMaxLength: MAX_TAG_CHARS,
  /** `limit` of recall and archival search: a whole number in [1, searchLimitMax]. */
  searchLimitMax: MAX_SEARCH_LIMIT,
  searchLimitDefault: DEFAULT_SEARCH_LIMIT,
  /** Search pages starting at or past this rank, `(page - 1) * limit >= searchDepthMax`, come back empty. */
  searchDepthMax: MAX_SEARCH_DEPTH,
  /** `limit` of block history: a whole number in [1, historyLimitMax]. */
  historyLimitMax: MAX_HISTORY_LIMIT,
  historyLimitDefault: DEFAULT_HISTORY_LIMIT,
  /** `limit` of an organization's block list: a whole number in [1, blockListLimitMax]. */
  blockListLimitMax: MAX_BLOCK_LIST_LIMIT,
} as const;
