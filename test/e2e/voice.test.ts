/**
 * Whole phone calls through the running server: the simulated Twilio caller (signed webhooks,
 * real 20 ms μ-law frames of recorded speech) on one side, the wire-level Realtime stand-in on
 * the other, and the real services on PGlite in between.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mulawSilence } from '../../src/voice/audio.js';
import { dial, type SimulatedCall } from '../../src/voice/simulated-caller.js';
import { type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';
import { type RealtimeServer, startRealtimeServer } from '../support/realtime-server.js';
import { ADAEZE_PHONE, CHIDI_PHONE, startVoiceStack, type VoiceStack } from '../support/voice-stack.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/audio/', import.meta.url));
const ADAEZE_SAYS_PHYSIO = path.join(FIXTURES, 'adaeze-physio-reminder.wav');
const CHIDI_ASKS = path.join(FIXTURES, 'chidi-asks-physio.wav');
const WAIT = { timeout: 10_000, interval: 50 };

let realtime: RealtimeServer;
let openai: OpenAIStub;
let stack: VoiceStack;

beforeAll(async () => {
  // The recorded sentences pause for breath; an utterance ends after a longer silence than that.
  [realtime, openai] = await Promise.all([startRealtimeServer({ silenceMs: 800 }), startOpenAIStub()]);
  stack = await startVoiceStack({
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: openai.url,
    OPENAI_REALTIME_URL: realtime.url,
  });
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([realtime?.close(), openai?.close()]);
});

async function connect(from: string): Promise<SimulatedCall> {
  const answer = await dial(stack.dialing(from));
  if (answer.kind !== 'connected') throw new Error(`the call was not connected: ${JSON.stringify(answer)}`);
  return answer.call;
}

function callRow(call: SimulatedCall) {
  return stack.services.db.prisma.call.findUniqueOrThrow({ where: { twilioCallSid: call.callSid } });
}

async function transcriptOf(call: SimulatedCall) {
  const row = await callRow(call);
  return stack.services.memory.transcript({ householdId: row.householdId, callId: row.id });
}

async function consolidationJobs(callId: string): Promise<number> {
  const rows = await stack.services.db.prisma.$queryRaw<{ count: bigint }[]>`
    SELECT count(*) AS count FROM pgboss.job WHERE name = 'consolidate-call' AND data->>'callId' = ${callId}`;
  return Number(rows[0]?.count ?? 0);
}

describe('a phone call', () => {
  it("writes what the caller says to the household's memory, and the next caller's agent knows it", async () => {
    realtime.scriptResponses([{ say: 'Hello Adaeze, how can I help?', audioMs: 400 }]);
    realtime.scriptUtterances({
      heard: 'Please remember that my physiotherapy is on Tuesdays at ten.',
      reply: [
        {
          call: 'core_memory_append',
          arguments: { label: 'household', content: 'Adaeze has physiotherapy on Tuesdays at 10am.' },
        },
        { say: "I've made a note of that.", audioMs: 400 },
      ],
    });
    const adaeze = await connect(ADAEZE_PHONE);
    const first = await realtime.waitForClientEvent('session.update', undefined, { timeoutMs: 5000 });
    expect(first.session.instructions).toContain('The caller is Adaeze Okafor, verified.');

    // Speaking while the tool runs: the audio keeps flowing both ways.
    await adaeze.sendWavFile(ADAEZE_SAYS_PHYSIO);
    await adaeze.sendSilence(1000);
    await realtime.waitForClientEvent('conversation.item.create', (event) => event.item.type === 'function_call_output', {
      timeoutMs: 5000,
    });
    await adaeze.waitFor((received) => received.some((frame) => frame.valid && frame.frame.event === 'media'), {
      timeoutMs: 5000,
    });
    await vi.waitFor(async () => {
      const lines = await transcriptOf(adaeze);
      expect(lines.map((line) => [line.role, line.content])).toEqual(
        expect.arrayContaining([
          ['user', 'Please remember that my physiotherapy is on Tuesdays at ten.'],
          ['tool', expect.stringContaining('Appended')],
          ['assistant', "I've made a note of that."],
        ]),
      );
    }, WAIT);
    await adaeze.hangUp();
    const ended = await vi.waitFor(async () => {
      const row = await callRow(adaeze);
      expect(row.status).toBe('completed');
      return row;
    }, WAIT);
    expect(await consolidationJobs(ended.id)).toBe(1);

    realtime.scriptResponses([{ say: 'Hello Chidi.', audioMs: 300 }]);
    const chidi = await connect(CHIDI_PHONE);
    const second = await realtime.waitForClientEvent('session.update', (_event, connection) => connection.id === 2, {
      timeoutMs: 5000,
    });
    expect(second.session.instructions).toContain('Adaeze has physiotherapy on Tuesdays at 10am.');
    expect(second.session.instructions).toContain('The caller is Chidi Okafor, verified.');
    await chidi.sendWavFile(CHIDI_ASKS, { paced: false });
    await chidi.hangUp();
  });

  it('passes the μ-law bytes through unchanged, both ways', async () => {
    realtime.scriptResponses([{ say: 'Hello there, this is a longer greeting.', audioMs: 600 }]);
    const caller = await connect(CHIDI_PHONE);
    const connection = await vi.waitFor(() => {
      const latest = realtime.connections.at(-1);
      expect(latest?.open).toBe(true);
      return latest!;
    }, WAIT);
    await caller.waitFor((_received, call) => call.playedMs >= 600, { timeoutMs: 5000 });
    const spoken = Buffer.concat([mulawSilence(40), Buffer.from([0x00, 0x7f, 0x80, 0xfe]).fill(0x13, 2, 3)]);
    const sent = Buffer.concat([spoken, mulawSilence(160 * 4 - spoken.length)]);
    await caller.sendAudio(sent, { paced: false });
    await vi.waitFor(() => expect(connection.audioIn().includes(sent)).toBe(true), WAIT);
    // Every byte the model sent reached the caller in order, and played.
    expect(caller.played.equals(connection.audioOut())).toBe(true);
    await caller.hangUp();
  });
});
