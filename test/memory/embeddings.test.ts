import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/errors.js';
import {
  CachingEmbedder,
  createEmbedder,
  DEFAULT_OPENAI_EMBEDDING_MODEL,
  type EmbeddingBackend,
  LOCAL_EMBEDDING_MODEL,
} from '../../src/memory/embeddings/index.js';
import { deterministicVector, type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';
import { expectRejection } from './helpers.js';

const cosine = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * b[index]!, 0);

describe('the local embedder (Universal Sentence Encoder lite)', () => {
  const embedder = createEmbedder({});

  it('gives 512-dimensional unit vectors that place related sentences nearer than unrelated ones', async () => {
    expect(embedder.model).toBe(LOCAL_EMBEDDING_MODEL);
    const [tea, drink, boiler] = await embedder.embed([
      'Nana prefers tea in the morning.',
      'Grandmother likes a hot drink when she wakes up.',
      'The boiler needs servicing.',
    ]);
    expect(tea).toHaveLength(512);
    expect(Math.hypot(...tea!)).toBeCloseTo(1, 3);
    expect(cosine(tea!, drink!)).toBeGreaterThan(cosine(tea!, boiler!) + 0.1);
  });

  it('embeds a text once, and batches texts asked for at the same time', async () => {
    expect(embedder).toBeInstanceOf(CachingEmbedder);
    const caching = embedder as CachingEmbedder;
    const before = caching.backendCalls;
    const texts = ['The bins go out on Tuesday.', 'Miso the cat sleeps upstairs.', 'The bins go out on Tuesday.'];
    const [first, second] = await Promise.all([embedder.embed(texts), embedder.embed(texts.slice(1))]);
    expect(caching.backendCalls - before).toBe(1);
    expect(second[0]).toEqual(first[1]);
    expect(first[2]).toEqual(first[0]);
    await embedder.embed(['Miso the cat sleeps upstairs.']);
    expect(caching.backendCalls - before).toBe(1);
  });
});

describe('the caching embedder', () => {
  function countingBackend(maxBatch: number) {
    const batches: string[][] = [];
    const backend: EmbeddingBackend = {
      model: 'counting',
      maxBatch,
      async embedBatch(texts) {
        batches.push(texts);
        return texts.map((text) => deterministicVector(text, 512));
      },
    };
    return { backend, batches };
  }

  it('splits large requests into batches of the backend’s size and forgets the least recently used', async () => {
    const { backend, batches } = countingBackend(2);
    const embedder = new CachingEmbedder({ backend, cacheSize: 3 });
    await embedder.embed(['a', 'b', 'c', 'd', 'e']);
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    await embedder.embed(['e', 'd', 'c']);
    expect(batches).toHaveLength(3);
    await embedder.embed(['a']);
    expect(batches.at(-1)).toEqual(['a']);
  });

  it('does not cache failures, and rejects vectors that are not 512-dimensional', async () => {
    let fail = true;
    const backend: EmbeddingBackend = {
      model: 'flaky',
      maxBatch: 8,
      async embedBatch(texts) {
        if (fail) throw new UnavailableError('down');
        return texts.map(() => [1, 0]);
      },
    };
    const embedder = new CachingEmbedder({ backend, cacheSize: 10 });
    await expectRejection(embedder.embed(['x']), UnavailableError, 'down');
    fail = false;
    await expectRejection(embedder.embed(['x']), UnavailableError, 'flaky returned 2 dimensions, not 512.');
  });
});

describe('the OpenAI embedder', () => {
  let stub: OpenAIStub;

  beforeAll(async () => {
    stub = await startOpenAIStub();
  });
  afterAll(async () => {
    await stub.close();
  });

  it('calls /embeddings at the base URL with the model, 512 dimensions and float encoding, in one batch', async () => {
    stub.reset();
    const embedder = createEmbedder({ apiKey: 'sk-test', baseUrl: stub.url });
    expect(embedder.model).toBe(DEFAULT_OPENAI_EMBEDDING_MODEL);
    const vectors = await embedder.embed(['Miso is a cat.', 'Rex is a dog.']);
    expect(vectors[0]).toEqual(deterministicVector('Miso is a cat.', 512).map((value) => expect.closeTo(value, 6)));
    expect(stub.embeddingRequests()).toEqual([
      expect.objectContaining({
        model: 'text-embedding-3-small',
        input: ['Miso is a cat.', 'Rex is a dog.'],
        dimensions: 512,
        encoding_format: 'float',
      }),
    ]);
    expect(stub.requests[0]?.headers.authorization).toBe('Bearer sk-test');
    await embedder.embed(['Rex is a dog.']);
    expect(stub.embeddingRequests()).toHaveLength(1);
  });

  it('retries a failed request once, not the SDK’s default twice, so an outage costs a turn little', async () => {
    stub.reset();
    const embedder = createEmbedder({ apiKey: 'sk-test', baseUrl: stub.url });
    const outage = { error: { status: 503, message: 'overloaded' }, headers: { 'retry-after-ms': '0' } };
    stub.queueEmbeddings(outage, outage, outage);
    await expectRejection(
      embedder.embed(['anything']),
      UnavailableError,
      'Embedding with text-embedding-3-small failed: 503 overloaded',
    );
    expect(stub.embeddingRequests()).toHaveLength(2);
  });

  it('uses the configured model and turns API failures into UnavailableError', async () => {
    stub.reset();
    const embedder = createEmbedder({ apiKey: 'sk-test', baseUrl: stub.url, model: 'my-embedder' });
    stub.queueEmbeddings({
      error: { status: 400, message: 'model not found' },
      headers: { 'x-should-retry': 'false' },
    });
    const failure = await embedder.embed(['anything']).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnavailableError);
    expect((failure as Error).message).toBe('Embedding with my-embedder failed: 400 model not found');
    expect(stub.embeddingRequests()[0]?.model).toBe('my-embedder');
  });
});
