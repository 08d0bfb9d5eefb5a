/**
 * Whole phone calls through the running server: the simulated Twilio caller (signed webhooks,
 * real 20 ms μ-law frames of recorded speech) on one side, the wire-level Realtime stand-in on
 * the other, and the real services on PGlite in between.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { hashSecret } from '../../src/secrets.js';
import { mulawSilence } from '../../src/voice/audio.js';
import { dial, postStatus, type SimulatedCall, twilioSignature } from '../../src/voice/simulated-caller.js';
import { runHearth } from '../support/cli.js';
import { scrapeMetrics } from '../support/metrics.js';
import { mulawTone } from '../support/mulaw.js';
import { type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';
import type { ClientEventOf } from '../support/realtime-conversation.js';
import { type RealtimeServer, type StandInConnection, startRealtimeServer } from '../support/realtime-server.js';
import {
  ADAEZE_PHONE,
  CHIDI_PHONE,
  DEMO_LINE,
  PUBLIC_URL,
  startVoiceStack,
  TWILIO_AUTH_TOKEN,
  type VoiceStack,
} from '../support/voice-stack.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/audio/', import.meta.url));
const ADAEZE_SAYS_PHYSIO = path.join(FIXTURES, 'adaeze-physio-reminder.wav');
const CHIDI_ASKS = path.join(FIXTURES, 'chidi-asks-physio.wav');
const STOP_WAIT = path.join(FIXTURES, 'stop-wait.wav');
const WAIT = { timeout: 10_000, interval: 50 };
const CHAT_SUMMARY = 'The caller talked at length about the garden.';

let realtime: RealtimeServer;
let openai: OpenAIStub;
let stack: VoiceStack;

beforeAll(async () => {
  // The recorded sentences pause for breath; an utterance ends after a longer silence than that.
  [realtime, openai] = await Promise.all([
    startRealtimeServer({ silenceMs: 800 }),
    // The chat model: summaries of long calls, and consolidation after each call.
    startOpenAIStub({ fallbackChat: () => ({ text: CHAT_SUMMARY }) }),
  ]);
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

/** The first client event of `type` on `model`'s connection matching `match`, within 5 s. */
function waitOn<K extends Parameters<RealtimeServer['waitForClientEvent']>[0]>(
  model: StandInConnection,
  type: K,
  match: (event: ClientEventOf<K>) => boolean = () => true,
) {
  return realtime.waitForClientEvent(type, (event, connection) => connection === model && match(event), {
    timeoutMs: 5000,
  });
}

/** Waits until the caller has heard the scripted greeting (`ms` of it), so that what they say next is not a barge-in. */
function heardGreeting(caller: SimulatedCall, ms: number) {
  return caller.waitFor((_received, call) => call.playedMs >= ms && call.queuedMs === 0, { timeoutMs: 5000 });
}

/** Calls still open at the end of a test are hung up, so a failed test never holds a line for the next. */
const open = new Set<SimulatedCall>();
afterEach(async () => {
  await Promise.all([...open].map((call) => (call.isOpen ? call.hangUp() : undefined)));
  open.clear();
});

/** Dials `from` on `target`, and returns the call with the model connection it got. */
async function connect(
  from: string,
  target: VoiceStack = stack,
): Promise<{ caller: SimulatedCall; model: StandInConnection }> {
  const count = realtime.connections.length;
  const answer = await dial(target.dialing(from));
  if (answer.kind !== 'connected') throw new Error(`the call was not connected: ${JSON.stringify(answer)}`);
  open.add(answer.call);
  const model = await vi.waitFor(() => {
    const connection = realtime.connections[count];
    expect(connection).toBeDefined();
    return connection!;
  }, WAIT);
  return { caller: answer.call, model };
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
    const { caller: adaeze, model } = await connect(ADAEZE_PHONE);
    const first = await waitOn(model, 'session.update');
    await heardGreeting(adaeze, 400);
    expect(first.session.instructions).toContain('The caller is Adaeze Okafor, verified.');

    // Speaking while the tool runs: the audio keeps flowing both ways.
    await adaeze.sendWavFile(ADAEZE_SAYS_PHYSIO, { paced: false });
    await adaeze.sendSilence(1000);
    await waitOn(model, 'conversation.item.create', (event) => event.item.type === 'function_call_output');
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
    // An operator reads the transcript while the call is still live.
    const live = await callRow(adaeze);
    const reply = await fetch(`${stack.url}/v1/households/${stack.householdId}/calls/${live.id}`, {
      headers: { authorization: `Bearer ${stack.apiKey}` },
    });
    expect(reply.status).toBe(200);
    expect(await reply.json()).toMatchObject({
      status: 'in_progress',
      channel: 'voice',
      transcript: expect.arrayContaining([
        expect.objectContaining({
          role: 'user',
          content: 'Please remember that my physiotherapy is on Tuesdays at ten.',
        }),
      ]),
    });
    await adaeze.hangUp();
    const ended = await vi.waitFor(async () => {
      const row = await callRow(adaeze);
      expect(row.status).toBe('completed');
      return row;
    }, WAIT);
    expect(await consolidationJobs(ended.id)).toBe(1);

    realtime.scriptResponses([{ say: 'Hello Chidi.', audioMs: 300 }]);
    const { caller: chidi, model: secondModel } = await connect(CHIDI_PHONE);
    const second = await waitOn(secondModel, 'session.update');
    expect(second.session.instructions).toContain('Adaeze has physiotherapy on Tuesdays at 10am.');
    expect(second.session.instructions).toContain('The caller is Chidi Okafor, verified.');
    await chidi.sendWavFile(CHIDI_ASKS, { paced: false });
    await chidi.hangUp();
  });

  it('passes the μ-law bytes through unchanged, both ways', async () => {
    realtime.scriptResponses([{ say: 'Hello there, this is a longer greeting.', audioMs: 600 }]);
    const { caller, model: connection } = await connect(CHIDI_PHONE);
    await caller.waitFor((_received, call) => call.playedMs >= 600, { timeoutMs: 5000 });
    const spoken = Buffer.concat([mulawSilence(40), Buffer.from([0x00, 0x7f, 0x80, 0xfe]).fill(0x13, 2, 3)]);
    const sent = Buffer.concat([spoken, mulawSilence(160 * 4 - spoken.length)]);
    await caller.sendAudio(sent, { paced: false });
    await vi.waitFor(() => expect(connection.audioIn().includes(sent)).toBe(true), WAIT);
    // Every byte the model sent reached the caller in order, and played.
    expect(caller.played.equals(connection.audioOut())).toBe(true);
    await caller.hangUp();
  });

  it('stops talking when the caller talks over it: clear, a cut at what was heard, and no stale audio', async () => {
    realtime.scriptResponses([{ say: 'Let me tell you all about the week ahead, day by day.', audioMs: 4000 }]);
    realtime.scriptUtterances({ heard: 'Stop, wait a moment.' });
    const { caller, model } = await connect(CHIDI_PHONE);
    await caller.waitFor((_received, call) => call.playedMs >= 800, { timeoutMs: 5000 });
    await caller.sendWavFile(STOP_WAIT, { paced: false });
    await caller.waitFor((received) => received.some((frame) => frame.valid && frame.frame.event === 'clear'), {
      timeoutMs: 5000,
    });
    const clearAt = caller.received.findIndex((frame) => frame.valid && frame.frame.event === 'clear');
    const heardMs = caller.received[clearAt]!.playedMs;
    const truncate = await waitOn(model, 'conversation.item.truncate');
    // Cut where the caller stopped hearing it: at the last mark Twilio echoed, a chunk (100 ms) at most before.
    expect(truncate.audio_end_ms).toBeLessThanOrEqual(heardMs);
    expect(truncate.audio_end_ms).toBeGreaterThan(heardMs - 200);
    expect(truncate.audio_end_ms).toBeLessThan(4000);
    await waitOn(model, 'response.cancel');
    await caller.sendSilence(1000);
    const afterClear = caller.received.slice(clearAt + 1);
    expect(afterClear.filter((frame) => frame.valid && frame.frame.event === 'media')).toEqual([]);
    await caller.hangUp();
  });

  it('drops malformed and oversized frames, counts them, and the call goes on', async () => {
    realtime.scriptResponses([{ say: 'Hello.', audioMs: 200 }]);
    const droppedBefore = stack.services.voice.stats.framesDropped;
    const { caller, model: connection } = await connect(CHIDI_PHONE);
    await waitOn(connection, 'session.update');
    caller.sendRaw('this is not JSON');
    caller.sendRaw(JSON.stringify({ event: 'dance', streamSid: caller.streamSid }));
    caller.sendRaw(JSON.stringify({ event: 'media', streamSid: caller.streamSid, media: { payload: 42 } }));
    caller.sendRaw(JSON.stringify({ event: 'media', streamSid: 'MZ-someone-else', sequenceNumber: '9', media: {} }));
    caller.sendRaw(`{"event":"media","padding":"${'x'.repeat(100_000)}"}`);
    const after = Buffer.from(mulawTone(100));
    await caller.sendAudio(after, { paced: false });
    await vi.waitFor(() => expect(connection.audioIn().includes(after)).toBe(true), WAIT);
    expect(caller.isOpen).toBe(true);
    await caller.hangUp();
    await vi.waitFor(async () => expect((await callRow(caller)).status).toBe('completed'), WAIT);
    // Not JSON, an unknown event, a wrong field type, another stream's frame, 100 KB: five dropped.
    await vi.waitFor(() => expect(stack.services.voice.stats.framesDropped - droppedBefore).toBe(5), WAIT);
  });

  it('refuses a webhook or a stream that Twilio did not sign, and a stream with a wrong token, writing nothing', async () => {
    const calls = () => stack.services.db.prisma.call.count();
    const before = await calls();
    const forged = await dial({ ...stack.dialing(CHIDI_PHONE), webhookSignature: 'bm90IHR3aWxpbw==' });
    expect(forged).toMatchObject({ kind: 'rejected', stage: 'webhook', httpStatus: 403 });
    const unsigned = await fetch(`${stack.url}/twilio/voice`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ CallSid: `CA${'0'.repeat(32)}`, From: CHIDI_PHONE, To: '+15555550100' }),
    });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toMatchObject({ error: { message: expect.stringContaining('X-Twilio-Signature') } });
    expect(await calls()).toBe(before);

    const badUpgrade = await dial({ ...stack.dialing(CHIDI_PHONE), streamSignature: 'bm90IHR3aWxpbw==' });
    expect(badUpgrade).toMatchObject({ kind: 'rejected', stage: 'stream' });
    if (badUpgrade.kind !== 'rejected') return;
    // Twilio then fails the call and says so: the line is free again.
    const failed = await postStatus({
      ...stack.dialing(CHIDI_PHONE),
      callSid: badUpgrade.callSid,
      accountSid: `AC${'2'.repeat(32)}`,
      status: 'failed',
    });
    expect(failed.status).toBe(204);

    // A stream that names a real call but carries a token made with another key.
    const call = await stack.services.db.prisma.call.findFirstOrThrow({ where: { twilioCallSid: { not: null } } });
    const socket = new WebSocket(`${stack.url.replace('http', 'ws')}/twilio/media`);
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    socket.send(
      JSON.stringify({
        event: 'start',
        sequenceNumber: '1',
        streamSid: `MZ${'1'.repeat(32)}`,
        start: {
          accountSid: `AC${'1'.repeat(32)}`,
          streamSid: `MZ${'1'.repeat(32)}`,
          callSid: call.twilioCallSid,
          tracks: ['inbound'],
          customParameters: { callId: call.id, token: `${Math.floor(Date.now() / 1000) + 60}.${'A'.repeat(43)}` },
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        },
      }),
    );
    expect(await closed).toBe(1008);
    const unchanged = await stack.services.db.prisma.call.findUniqueOrThrow({ where: { id: call.id } });
    expect(unchanged.streamSid).toBe(call.streamSid);
  });

  it('keeps what the caller said when they hang up mid-reply, and queues one consolidation', async () => {
    realtime.scriptResponses([{ say: 'Hello.', audioMs: 200 }]);
    realtime.scriptUtterances({
      heard: 'When is mum’s physio?',
      reply: [{ say: 'Let me see, there are a few things to tell you about this week.', audioMs: 5000 }],
    });
    const { caller, model } = await connect(CHIDI_PHONE);
    await heardGreeting(caller, 200);
    await caller.sendWavFile(CHIDI_ASKS, { paced: false });
    await caller.sendSilence(1000, { paced: false });
    await caller.waitFor((_received, call) => call.playedMs >= 800, { timeoutMs: 5000 });
    await caller.hangUp();
    const row = await vi.waitFor(async () => {
      const ended = await callRow(caller);
      expect(ended.status).toBe('completed');
      return ended;
    }, WAIT);
    const lines = await transcriptOf(caller);
    expect(lines.map((line) => [line.role, line.content])).toContainEqual(['user', 'When is mum’s physio?']);
    expect(await consolidationJobs(row.id)).toBe(1);
    await vi.waitFor(() => expect(model.open).toBe(false), WAIT);
  });

  it('queues one consolidation when the status callback races the stream’s stop', async () => {
    realtime.scriptResponses([{ say: 'Hello.', audioMs: 200 }]);
    const { caller } = await connect(ADAEZE_PHONE);
    await caller.sendSilence(200);
    const [status] = await Promise.all([caller.postStatus('completed'), caller.hangUp()]);
    expect(status.status).toBe(204);
    const row = await vi.waitFor(async () => {
      const ended = await callRow(caller);
      expect(ended.status).toBe('completed');
      return ended;
    }, WAIT);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await consolidationJobs(row.id)).toBe(1);
  });
});

describe('a phone call whose model connection fails', () => {
  it('reconnects once with the same memory and the call so far, and the caller is told', async () => {
    realtime.scriptResponses([{ say: 'Hello Chidi.', audioMs: 200 }]);
    realtime.scriptUtterances({
      heard: 'When is mum’s physio?',
      reply: [{ say: 'On Tuesdays at ten.', audioMs: 300 }],
    });
    const { caller, model } = await connect(CHIDI_PHONE);
    await heardGreeting(caller, 200);
    await caller.sendWavFile(CHIDI_ASKS, { paced: false });
    await caller.sendSilence(1000, { paced: false });
    await vi.waitFor(async () => {
      expect((await transcriptOf(caller)).map((line) => line.content)).toContain('On Tuesdays at ten.');
    }, WAIT);
    model.drop();
    const resumed = await realtime.waitForClientEvent(
      'conversation.item.create',
      (event, connection) => connection.id > model.id && event.item.type === 'message',
      { timeoutMs: 5000 },
    );
    expect(JSON.stringify(resumed.item)).toContain('Caller: When is mum’s physio?');
    const told = await realtime.waitForClientEvent(
      'response.create',
      (_event, connection) => connection.id > model.id,
      {
        timeoutMs: 5000,
      },
    );
    expect(told.response?.instructions).toContain('connection dropped');
    // The caller carries on, and the new session hears them.
    const after = Buffer.from(mulawTone(100));
    await caller.sendAudio(after, { paced: false });
    await vi.waitFor(() => expect(realtime.connections.at(-1)!.audioIn().includes(after)).toBe(true), WAIT);
    await caller.hangUp();
  });

  it('apologises with the recorded message, notes it for staff, and ends the call when it cannot reconnect', async () => {
    realtime.scriptResponses([{ say: 'Hello.', audioMs: 200 }]);
    const { caller, model } = await connect(ADAEZE_PHONE);
    await caller.waitFor((_received, call) => call.playedMs >= 200, { timeoutMs: 5000 });
    realtime.refuseConnections(true);
    model.drop();
    const apology = await readFile(new URL('../../assets/voice/connection-lost.ulaw', import.meta.url));
    const receivedAudio = () =>
      Buffer.concat(
        caller.received.flatMap((frame) =>
          frame.valid && frame.frame.event === 'media' ? [Buffer.from(frame.frame.media.payload, 'base64')] : [],
        ),
      );
    try {
      // The whole recorded message reaches the caller, after a clear of anything still playing.
      await caller.waitFor(() => receivedAudio().subarray(-apology.length).equals(apology), { timeoutMs: 8000 });
    } finally {
      realtime.refuseConnections(false);
    }
    const row = await vi.waitFor(async () => {
      const ended = await callRow(caller);
      expect(ended.status).toBe('completed');
      return ended;
    }, WAIT);
    const audit = await stack.services.db.prisma.auditEvent.findFirst({
      where: { action: 'call.model_unreachable', resourceId: row.id },
    });
    expect(audit).not.toBeNull();
  });
});

describe('caller verification', () => {
  it('asks an unverified caller for their PIN, and a right PIN on the keypad unlocks their private block', async () => {
    const { prisma } = stack.services.db;
    const [adaezeId] = stack.memberIds;
    const adaeze = await prisma.member.update({ where: { id: adaezeId }, data: { pinHash: await hashSecret('2468') } });
    await stack.services.memory.createBlock({
      organizationId: adaeze.organizationId,
      householdId: adaeze.householdId,
      memberId: adaeze.id,
      label: 'private_notes',
      value: 'The spare key is under the blue flowerpot.',
      private: true,
      source: { source: 'admin' },
    });
    try {
      realtime.scriptResponses(
        [{ say: 'Hello. Please enter your PIN.', audioMs: 200 }],
        [{ say: 'That PIN was not right.', audioMs: 200 }],
        [{ say: 'Thank you, Adaeze.', audioMs: 200 }],
      );
      const { caller, model } = await connect(ADAEZE_PHONE);
      const first = await waitOn(model, 'session.update');
      expect(first.session.instructions).toContain('not verified yet');
      expect(first.session.instructions).toContain('PIN on the phone keypad');
      expect(first.session.instructions).not.toContain('blue flowerpot');

      await caller.press('1111#');
      const wrong = await waitOn(model, 'conversation.item.create', (event) =>
        JSON.stringify(event).includes('PIN entered was wrong'),
      );
      expect(JSON.stringify(wrong)).toContain('2 tries left');
      await caller.press('2468#');
      const unlocked = await waitOn(model, 'session.update', (event) =>
        event.session.instructions.includes('blue flowerpot'),
      );
      expect(unlocked.session.instructions).toContain('The caller is Adaeze Okafor, verified.');
      const row = await callRow(caller);
      expect(row).toMatchObject({ callerVerified: true, memberId: adaezeId });
      await caller.hangUp();
    } finally {
      await prisma.member.update({ where: { id: adaezeId }, data: { pinHash: null } });
    }
  });
});

describe('two calls in one household at once', () => {
  it("refreshes one call's instructions within a second when the other writes to a shared block", async () => {
    realtime.scriptResponses([{ say: 'Hello Adaeze.', audioMs: 200 }], [{ say: 'Hello Chidi.', audioMs: 200 }]);
    realtime.scriptUtterances({
      heard: 'The boiler engineer comes on Friday.',
      reply: [
        { call: 'core_memory_append', arguments: { label: 'household', content: 'Boiler engineer visits Friday.' } },
        { say: 'Noted.', audioMs: 200 },
      ],
    });
    const { caller: adaeze, model: adaezeModel } = await connect(ADAEZE_PHONE);
    await waitOn(adaezeModel, 'session.update');
    const { caller: chidi, model: chidiModel } = await connect(CHIDI_PHONE);
    await waitOn(chidiModel, 'session.update');
    await Promise.all([heardGreeting(adaeze, 200), heardGreeting(chidi, 200)]);
    await chidi.sendWavFile(CHIDI_ASKS, { paced: false });
    await chidi.sendSilence(1000, { paced: false });
    const refreshed = await waitOn(adaezeModel, 'session.update', (event) =>
      event.session.instructions.includes('Boiler engineer visits Friday.'),
    );
    expect(refreshed.session.instructions).toContain('The caller is Adaeze Okafor');
    await Promise.all([adaeze.hangUp(), chidi.hangUp()]);
  });
});

describe('a call longer than the model’s session limit', () => {
  let short: VoiceStack;
  beforeAll(async () => {
    short = await startVoiceStack({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: openai.url,
      OPENAI_REALTIME_URL: realtime.url,
      // The provider's cap, shrunk from an hour: the call rolls over halfway, at 1.5 s.
      HEARTH_REALTIME_SESSION_LIMIT_SECONDS: '3',
    });
  });
  afterAll(() => short?.close());

  it('rolls over to a fresh session with the same memory and the call so far', async () => {
    realtime.scriptResponses([{ say: 'Hello Chidi.', audioMs: 200 }]);
    realtime.scriptUtterances({
      heard: 'When is mum’s physio?',
      reply: [{ say: 'On Tuesdays at ten.', audioMs: 200 }],
    });
    const { caller, model } = await connect(CHIDI_PHONE, short);
    const first = model.id;
    await heardGreeting(caller, 200);
    await caller.sendWavFile(CHIDI_ASKS, { paced: false });
    await caller.sendSilence(1000, { paced: false });
    const next = await realtime.waitForClientEvent('session.update', (_event, c) => c.id === first + 1, {
      timeoutMs: 8000,
    });
    expect(next.session.instructions).toContain('The caller is Chidi Okafor');
    const carried = await realtime.waitForClientEvent(
      'conversation.item.create',
      (event, c) => c.id === first + 1 && event.item.type === 'message',
      { timeoutMs: 5000 },
    );
    expect(JSON.stringify(carried.item)).toContain('continuing a phone call');
    await vi.waitFor(() => expect(realtime.connections[first - 1]?.open).toBe(false), WAIT);
    await caller.hangUp();
  });
});

describe('the incoming-call webhook', () => {
  /** POSTs `params` to `path` signed as Twilio signs it. */
  function postSigned(path: string, params: Record<string, string>) {
    return fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(TWILIO_AUTH_TOKEN, `${PUBLIC_URL}${path}`, params),
      },
      body: new URLSearchParams(params),
    });
  }
  const callSid = (digit: string) => `CA${digit.repeat(32)}`;

  it('answers a retried webhook with the same call, and starts it once', async () => {
    const params = { CallSid: callSid('7'), From: CHIDI_PHONE, To: DEMO_LINE, AccountSid: `AC${'7'.repeat(32)}` };
    const first = await (await postSigned('/twilio/voice', params)).text();
    const retry = await (await postSigned('/twilio/voice', params)).text();
    const callId = /name="callId" value="([^"]+)"/.exec(first)?.[1];
    expect(callId).toBeDefined();
    expect(/name="callId" value="([^"]+)"/.exec(retry)?.[1]).toBe(callId);
    expect(first).toContain(`<Stream url="wss://hearth.test/twilio/media">`);
    expect(await stack.services.db.prisma.call.count({ where: { twilioCallSid: params.CallSid } })).toBe(1);
    await postSigned('/twilio/status', { CallSid: params.CallSid, CallStatus: 'no-answer' });
  });

  it('speaks and hangs up for a number no household owns, and for a household at its call limit', async () => {
    const unknown = await dial({ ...stack.dialing(CHIDI_PHONE), to: '+15555550199' });
    expect(unknown).toMatchObject({ kind: 'spoken', hangUp: true, text: expect.stringContaining('not set up') });

    const { prisma } = stack.services.db;
    await prisma.household.update({
      where: { id: stack.householdId },
      data: { agentSettings: { maxConcurrentCalls: 1 } },
    });
    try {
      realtime.scriptResponses([{ say: 'Hello.', audioMs: 200 }]);
      await connect(ADAEZE_PHONE);
      const calls = await prisma.call.count();
      const busy = await dial(stack.dialing(CHIDI_PHONE));
      expect(busy).toMatchObject({ kind: 'spoken', hangUp: true, text: expect.stringContaining('busy') });
      expect(await prisma.call.count()).toBe(calls);
    } finally {
      await prisma.household.update({ where: { id: stack.householdId }, data: { agentSettings: {} } });
    }
  });

  it('says what is wrong with a request it cannot take', async () => {
    const json = await fetch(`${stack.url}/twilio/voice`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ CallSid: callSid('8') }),
    });
    expect(json.status).toBe(415);
    expect(await json.json()).toMatchObject({ error: { message: expect.stringContaining('form-encoded') } });

    const missing = await postSigned('/twilio/voice', { CallSid: 'not-a-sid', To: DEMO_LINE });
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as { error: { details: unknown } };
    expect(body.error.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'CallSid', message: expect.stringContaining('Twilio call sid') }),
        expect.objectContaining({ path: 'From' }),
      ]),
    );
    const status = await postSigned('/twilio/status', { CallSid: callSid('9') });
    expect(status.status).toBe(400);
  });
});

describe('hearth call', () => {
  it('places a call against the running server and prints its transcript as Hearth writes it', async () => {
    realtime.scriptResponses([{ say: 'Hello Chidi.', audioMs: 300 }]);
    realtime.scriptUtterances({
      heard: 'When is mum’s physio?',
      reply: [{ say: 'On Tuesdays at ten.', audioMs: 300 }],
    });
    const result = await runHearth(
      [
        'call',
        '--to',
        DEMO_LINE,
        '--from',
        CHIDI_PHONE,
        '--audio',
        STOP_WAIT,
        '--server',
        stack.url,
        '--key',
        stack.apiKey,
      ],
      { PUBLIC_URL, TWILIO_AUTH_TOKEN, HEARTH_DATA_DIR: '/nonexistent-hearth-call' },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Connected: call [0-9a-f-]{36}/);
    expect(result.stdout).toContain('assistant: Hello Chidi.');
    expect(result.stdout).toContain('user: When is mum’s physio?');
    expect(result.stdout).toContain('assistant: On Tuesdays at ten.');
    expect(result.stdout).toMatch(/Hung up after hearing \d+\.\d s of the agent\./);
  });

  it('says what to pass when the call cannot be placed', async () => {
    const neither = await runHearth(['call', '--to', DEMO_LINE, '--from', CHIDI_PHONE], {});
    expect(neither).toMatchObject({ code: 1, stderr: expect.stringContaining('--audio <wav> or --say') });
    const unsigned = await runHearth(['call', '--to', DEMO_LINE, '--from', CHIDI_PHONE, '--say', 'Hi'], {});
    expect(unsigned).toMatchObject({ code: 1, stderr: expect.stringContaining('PUBLIC_URL and TWILIO_AUTH_TOKEN') });
  });
});

describe('a long call', () => {
  let long: VoiceStack;
  beforeAll(async () => {
    long = await startVoiceStack({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: openai.url,
      OPENAI_REALTIME_URL: realtime.url,
      // The engine's thresholds, shrunk so that a few long lines cross them.
      HEARTH_MEMORY_WARN_TOKENS: '1500',
      HEARTH_MEMORY_EVICT_TOKENS: '2200',
    });
  });
  afterAll(() => long?.close());

  it('warns the model, then folds the oldest turns into a summary and deletes them from the session', async () => {
    const line = (n: number) =>
      `Part ${n}: ${'the garden needs watering and the hedge wants trimming soon. '.repeat(16)}`;
    realtime.scriptResponses([{ say: 'Hello.', audioMs: 100 }]);
    realtime.scriptUtterances(...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ heard: line(n) })));
    const compiles = vi.spyOn(long.services.memory, 'compileContext');
    const { caller, model } = await connect(CHIDI_PHONE, long);
    await waitOn(model, 'session.update');
    await heardGreeting(caller, 100);
    const speak = async (lines: number) => {
      for (let n = 0; n < lines; n++) {
        await caller.sendAudio(mulawTone(300), { paced: false });
        await caller.sendSilence(1000, { paced: false });
      }
    };
    // The instructions are about 700 tokens, each line about 250: four lines cross the warning.
    await speak(4);
    const warned = await waitOn(model, 'session.update', (event) =>
      event.session.instructions.includes('Memory pressure'),
    );
    expect(warned.session.instructions).toContain('Save anything that matters');
    expect(model.events.some((event) => event.type === 'conversation.item.delete')).toBe(false);
    await speak(4);
    const deleted = await waitOn(model, 'conversation.item.delete');
    const summarised = await waitOn(model, 'session.update', (event) =>
      event.session.instructions.includes('<call_summary>'),
    );
    expect(summarised.session.instructions).toContain(CHAT_SUMMARY);
    expect(deleted.item_id).toMatch(/^item_/);
    await vi.waitFor(async () => {
      const row = await long.services.db.prisma.call.findUniqueOrThrow({ where: { twilioCallSid: caller.callSid } });
      const lines = await long.services.memory.transcript({ householdId: row.householdId, callId: row.id });
      expect(lines.map((entry) => entry.content)).toContain(`Summary of earlier in this call: ${CHAT_SUMMARY}`);
    }, WAIT);
    // Memory is compiled when the session starts (and when it changes), not again after every line.
    expect(compiles).toHaveBeenCalledTimes(1);
    compiles.mockRestore();
    const metrics = await scrapeMetrics(long.url);
    expect(metrics.get('hearth_memory_pressure_events_total', { level: 'warn' })).toBeGreaterThanOrEqual(1);
    expect(metrics.get('hearth_memory_pressure_events_total', { level: 'evict' })).toBeGreaterThanOrEqual(1);
  });
});

describe("a household's escalations in the agent's context", () => {
  it('reach a text conversation and a phone call alike: the rule, last week’s episode, and the responder’s instructions', async () => {
    const { prisma } = stack.services.db;
    const household = await prisma.household.findUniqueOrThrow({ where: { id: stack.householdId } });
    await prisma.household.update({
      where: { id: household.id },
      data: { agentSettings: { escalateWhen: 'breathing trouble at night' } },
    });
    const episode = await prisma.escalation.create({
      data: {
        organizationId: household.organizationId,
        householdId: household.id,
        severity: 'high',
        reason: 'Breathing trouble at night',
        ackCode: '4821',
        status: 'resolved',
        acknowledgedBy: 'Dr Ana Ruiz',
        outcome: 'Visited; oxygen fine by midnight.',
        instructions: 'If the breathing worsens again, call 999 and then me.',
        createdAt: new Date(Date.now() - 6 * 86_400_000),
      },
    });
    try {
      const [adaezeId] = stack.memberIds;
      const before = openai.chatRequests().length;
      await stack.services.conversations.send({
        householdId: household.id,
        memberId: adaezeId!,
        text: 'Her breathing is bad again tonight.',
      });
      const request = openai.chatRequests()[before];
      const system = JSON.stringify(request?.messages[0]);
      expect(system).toContain('breathing trouble at night');
      expect(system).toContain('If the breathing worsens again, call 999 and then me.');

      realtime.scriptResponses([{ say: 'Hello.', audioMs: 100 }]);
      const { model } = await connect(CHIDI_PHONE);
      const session = await waitOn(model, 'session.update');
      expect(session.session.instructions).toContain('Acknowledged by Dr Ana Ruiz.');
      expect(session.session.instructions).toContain('If the breathing worsens again, call 999 and then me.');
    } finally {
      await prisma.escalation.delete({ where: { id: episode.id } });
      await prisma.household.update({ where: { id: household.id }, data: { agentSettings: {} } });
    }
  });
});
