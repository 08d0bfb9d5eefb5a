/**
 * Two `hearth serve` processes on one Postgres, as `infra/compose.yaml` runs them: a memory write
 * made by a call on one instance refreshes a live call on the other (LISTEN/NOTIFY). Runs only
 * when TEST_DATABASE_URL names a Postgres server with pgvector: the embedded database (PGlite)
 * lives inside one process and cannot be shared, which is why it serves one instance only.
 */
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { seedDemo } from '../../src/admin/index.js';
import { openDatabase } from '../../src/db/index.js';
import { createEmbedder, createMemoryEngine } from '../../src/memory/index.js';
import { dial, type SimulatedCall } from '../../src/voice/simulated-caller.js';
import { PROCESS_TEST_TIMEOUT_MS, type RunningServer, startHearth } from '../support/cli.js';
import { mulawTone } from '../support/mulaw.js';
import { type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';
import { createPostgresCopy } from '../support/postgres.js';
import { type RealtimeServer, type StandInConnection, startRealtimeServer } from '../support/realtime-server.js';
import { ADAEZE_PHONE, CHIDI_PHONE, DEMO_LINE, PUBLIC_URL, TWILIO_AUTH_TOKEN } from '../support/voice-stack.js';

const url = process.env.TEST_DATABASE_URL;
const WAIT = { timeout: 10_000, interval: 50 };

describe.skipIf(!url)('two Hearth instances on one Postgres', () => {
  let database: Awaited<ReturnType<typeof createPostgresCopy>>;
  let realtime: RealtimeServer;
  let openai: OpenAIStub;
  let instances: RunningServer[] = [];

  beforeAll(async () => {
    const template = inject('postgresTemplate');
    if (!url || !template) throw new Error('TEST_DATABASE_URL is set but the Postgres template was not made');
    database = await createPostgresCopy(url, template);
    const db = await openDatabase({ kind: 'postgres', url: database.url });
    const memory = createMemoryEngine({ prisma: db.prisma, embedder: createEmbedder({}) });
    await seedDemo({ prisma: db.prisma, memory });
    await memory.close();
    await db.close();
    [realtime, openai] = await Promise.all([
      startRealtimeServer({ silenceMs: 800 }),
      startOpenAIStub({ fallbackChat: () => ({ text: 'Nothing to keep.' }) }),
    ]);
    const env = {
      DATABASE_URL: database.url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      PUBLIC_URL,
      TWILIO_AUTH_TOKEN,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: openai.url,
      OPENAI_REALTIME_URL: realtime.url,
    };
    instances = await Promise.all([startHearth(env), startHearth(env)]);
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await Promise.all([realtime?.close(), openai?.close()]);
    await database?.drop();
  }, PROCESS_TEST_TIMEOUT_MS);

  async function connect(instance: RunningServer, from: string) {
    const count = realtime.connections.length;
    const answer = await dial({
      serverUrl: instance.url,
      publicUrl: PUBLIC_URL,
      authToken: TWILIO_AUTH_TOKEN,
      to: DEMO_LINE,
      from,
    });
    if (answer.kind !== 'connected') throw new Error(`the call was not connected: ${JSON.stringify(answer)}`);
    const model = await vi.waitFor(() => {
      const connection = realtime.connections[count];
      expect(connection).toBeDefined();
      return connection as StandInConnection;
    }, WAIT);
    await realtime.waitForClientEvent('session.update', (_event, connection) => connection === model, {
      timeoutMs: 5000,
    });
    return { caller: answer.call, model };
  }

  function heardGreeting(caller: SimulatedCall, ms: number) {
    return caller.waitFor((_received, call) => call.playedMs >= ms && call.queuedMs === 0, { timeoutMs: 5000 });
  }

  it(
    'a write by a call on one instance refreshes a live call on the other',
    async () => {
      const [first, second] = instances;
      if (!first || !second) throw new Error('two instances were not started');
      realtime.scriptResponses([{ say: 'Hello Adaeze.', audioMs: 200 }], [{ say: 'Hello Chidi.', audioMs: 200 }]);
      realtime.scriptUtterances({
        heard: 'The boiler engineer comes on Friday.',
        reply: [
          { call: 'core_memory_append', arguments: { label: 'household', content: 'Boiler engineer visits Friday.' } },
          { say: 'Noted.', audioMs: 200 },
        ],
      });
      const adaeze = await connect(first, ADAEZE_PHONE);
      const chidi = await connect(second, CHIDI_PHONE);
      await Promise.all([heardGreeting(adaeze.caller, 200), heardGreeting(chidi.caller, 200)]);
      await chidi.caller.sendSilence(200, { paced: false });
      await chidi.caller.sendAudio(mulawTone(800), { paced: false });
      await chidi.caller.sendSilence(1000, { paced: false });
      const refreshed = await realtime.waitForClientEvent(
        'session.update',
        (event, connection) =>
          connection === adaeze.model && event.session.instructions.includes('Boiler engineer visits Friday.'),
        { timeoutMs: 5000 },
      );
      expect(refreshed.session.instructions).toContain('The caller is Adaeze Okafor');
      await Promise.all([adaeze.caller.hangUp(), chidi.caller.hangUp()]);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
