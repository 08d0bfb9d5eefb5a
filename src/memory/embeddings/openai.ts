/**
 * OpenAI embeddings (`text-embedding-3-small` by default) through the official SDK, shortened
 * to 512 dimensions by the API's `dimensions` parameter so they share the one `vector(512)`
 * column with the local model. `baseUrl` lets any OpenAI-compatible server (or a test stand-in)
 * serve them.
 */
import type { OpenAI } from 'openai';
import { UnavailableError } from '../../errors.js';
import { EMBEDDING_DIMENSIONS, type EmbeddingBackend } from './embedder.js';

/** The OpenAI embedding model used unless HEARTH_EMBEDDING_MODEL names another. */
export const DEFAULT_OPENAI_EMBEDDING_MODEL = 'text-embedding-3-small';
/** OpenAI accepts 2048 inputs per request; smaller requests fail and retry more cheaply. */
const OPENAI_MAX_BATCH = 256;
/**
 * Embeddings sit on the voice path (a search tool embeds its query while the caller waits),
 * and every use survives without them: searches fall back to full text, passages are stored
 * without a vector, recall embeds in the background. So an outage must cost seconds, not a
 * minute (20 s × the SDK's default 3 attempts): a short timeout (answers normally take well
 * under a second) and one retry, for a dropped connection or a brief 429/5xx. Worst case ≈ 6.5 s.
 */
const REQUEST_TIMEOUT_MS = 3000;
const MAX_RETRIES = 1;

/** An embedding backend calling OpenAI's `/embeddings`. */
export function createOpenAIBackend(options: { apiKey: string; baseUrl?: string; model?: string }): EmbeddingBackend {
  const model = options.model ?? DEFAULT_OPENAI_EMBEDDING_MODEL;
  // The SDK is some 500 modules: the first embedding loads it, not every process that might need one.
  let client: Promise<OpenAI> | undefined;
  const connect = () => {
    client ??= import('openai').then(
      (sdk) =>
        new sdk.OpenAI({
          apiKey: options.apiKey,
          baseURL: options.baseUrl,
          timeout: REQUEST_TIMEOUT_MS,
          maxRetries: MAX_RETRIES,
        }),
    );
    return client;
  };
  return {
    model,
    maxBatch: OPENAI_MAX_BATCH,
    async embedBatch(texts) {
      try {
        // 'float' rather than the SDK's default base64: more OpenAI-compatible servers speak it.
        const response = await (await connect()).embeddings.create({
          model,
          input: texts,
          dimensions: EMBEDDING_DIMENSIONS,
          encoding_format: 'float',
        });
        return [...response.data].sort((a, b) => a.index - b.index).map((item) => item.embedding);
      } catch (error) {
        throw new UnavailableError(
          `Embedding with ${model} failed: ${error instanceof Error ? error.message : error}`,
          {
            cause: error,
          },
        );
      }
    },
  };
}
