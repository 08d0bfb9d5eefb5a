/**
 * Context pressure: how full a session's live context is. Tokens are estimated as characters
 * / 4 (OpenAI's rule of thumb for English text; no tokenizer is bundled), plus a few tokens of
 * per-message framing. Past `warnTokens` the model gets a notice to save what matters; past
 * `evictTokens` the oldest turns are summarized and dropped from the live context (recall
 * memory still holds every one of them).
 */
import { HearthError, UnavailableError } from '../errors.js';
import type { ContextMessage, ContextPressure, Summarizer } from './types.js';

const CHARS_PER_TOKEN = 4;
/** Role and delimiters each message costs in chat formats. */
const TOKENS_PER_MESSAGE = 4;
/** Eviction drops enough old turns to bring the context down to this share of `evictTokens`. */
const EVICT_TARGET_RATIO = 0.5;
/** The newest turns always stay, so the model keeps the thread of the conversation. */
const KEEP_NEWEST_MESSAGES = 2;

/** Token thresholds: warn, then evict. */
export type PressureThresholds = { warnTokens: number; evictTokens: number };

/**
 * The thresholds unless the engine is given others (the composition root passes
 * HEARTH_MEMORY_WARN_TOKENS and HEARTH_MEMORY_EVICT_TOKENS, whose defaults these equal):
 * warn at about 20k estimated tokens, evict past 26k, well inside every current model's window
 * while keeping each turn's prompt, and so its latency and cost, bounded.
 */
export const DEFAULT_PRESSURE: Readonly<PressureThresholds> = { warnTokens: 20_000, evictTokens: 26_000 };

/** Throws `RangeError` unless 0 < warn < evict. */
export function checkThresholds(thresholds: PressureThresholds): PressureThresholds {
  const { warnTokens, evictTokens } = thresholds;
  if (!(Number.isInteger(warnTokens) && Number.isInteger(evictTokens) && warnTokens > 0 && warnTokens < evictTokens)) {
    throw new RangeError(
      `Memory pressure thresholds need 0 < warnTokens < evictTokens (got ${warnTokens} and ${evictTokens}).`,
    );
  }
  return thresholds;
}

/** The estimated tokens of a text. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

function messageTokens(message: ContextMessage): number {
  return estimateTokens(message.content) + TOKENS_PER_MESSAGE;
}

/** The level, the model's notice, and at 'evict' how many of the oldest messages to drop. */
export function measurePressure(input: {
  messages: ContextMessage[];
  instructions: string;
  thresholds: PressureThresholds;
}): ContextPressure {
  const { messages, instructions, thresholds } = input;
  const tokens = estimateTokens(instructions) + messages.reduce((sum, message) => sum + messageTokens(message), 0);
  if (tokens < thresholds.warnTokens) return { tokens, level: 'ok' };
  if (tokens < thresholds.evictTokens) {
    return {
      tokens,
      level: 'warn',
      notice:
        `Memory pressure: this conversation uses about ${tokens} of ${thresholds.evictTokens} tokens. ` +
        'Save anything that matters to core memory or archival memory now; the oldest turns will soon be ' +
        'summarized and removed from view (conversation_search will still find them).',
    };
  }
  const evictCount = countToEvict({
    messages,
    tokens,
    target: Math.floor(thresholds.evictTokens * EVICT_TARGET_RATIO),
  });
  return {
    tokens,
    level: 'evict',
    evictCount,
    notice:
      `Memory pressure: the ${evictCount} oldest messages of this conversation were summarized to make room. ` +
      'Use conversation_search to find what was said in them.',
  };
}

/**
 * The fewest oldest messages whose removal brings `tokens` to `target`, keeping the newest
 * ones, and never leaving a tool result whose call was dropped at the front.
 */
function countToEvict(input: { messages: ContextMessage[]; tokens: number; target: number }): number {
  const { messages, target } = input;
  const droppable = Math.max(0, messages.length - KEEP_NEWEST_MESSAGES);
  let tokens = input.tokens;
  let count = 0;
  while (count < droppable && tokens > target) tokens -= messageTokens(messages[count++]!);
  while (count < droppable && messages[count]?.role === 'tool') count++;
  return count;
}

/** Summarizes the messages that are to be dropped; the caller replaces them with the summary. */
export async function summarizeOldest(input: {
  messages: ContextMessage[];
  summarizer: Summarizer;
  count: number;
}): Promise<{ summary: string; dropCount: number }> {
  const dropCount = Math.min(Math.max(0, Math.floor(input.count)), input.messages.length);
  if (dropCount === 0) return { summary: '', dropCount: 0 };
  try {
    const summary = await input.summarizer.summarize(input.messages.slice(0, dropCount));
    return { summary, dropCount };
  } catch (error) {
    if (error instanceof HearthError) throw error;
    throw new UnavailableError(`Summarizing the oldest turns failed: ${String(error)}`, { cause: error });
  }
}
