/**
 * Embeddings for recall and archival: OpenAI when a key is configured, else the local
 * Universal Sentence Encoder; both cached and batched, both 512-dimensional.
 */
import type { Config } from '../../config/index.js';
import { CachingEmbedder, type Embedder } from './embedder.js';
import { createLocalBackend } from './local.js';
import { createOpenAIBackend } from './openai.js';

export { CachingEmbedder, EMBEDDING_DIMENSIONS, type Embedder, type EmbeddingBackend } from './embedder.js';
export { LOCAL_EMBEDDING_MODEL } from './local.js';
export { DEFAULT_OPENAI_EMBEDDING_MODEL } from './openai.js';

/** Vectors kept in memory per embedder: 512 float32s are 2 KB, so about 10 MB. */
const DEFAULT_CACHE_ENTRIES = 5000;

/** OpenAI (`model`, default text-embedding-3-small, 512-d) when `apiKey` is set, else the local model. */
export function createEmbedder(
  options: { apiKey?: string; baseUrl?: string; model?: string; cacheEntries?: number } = {},
): Embedder {
  const backend = options.apiKey
    ? createOpenAIBackend({ apiKey: options.apiKey, baseUrl: options.baseUrl, model: options.model })
    : createLocalBackend();
  return new CachingEmbedder({ backend, cacheSize: options.cacheEntries ?? DEFAULT_CACHE_ENTRIES });
}

/** `createEmbedder` options from the configuration: OPENAI_API_KEY, OPENAI_BASE_URL, HEARTH_EMBEDDING_MODEL. */
export function embedderOptions(config: Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'HEARTH_EMBEDDING_MODEL'>) {
  return { apiKey: config.OPENAI_API_KEY, baseUrl: config.OPENAI_BASE_URL, model: config.HEARTH_EMBEDDING_MODEL };
}
