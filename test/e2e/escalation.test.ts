/**
 * Escalation end to end, through the running server: an operator sets up the roster, a schedule,
 * a policy and a webhook endpoint with the admin API; the agent escalates from a text
 * conversation and from a phone call; pages go through the official Twilio SDK to a wire-level
 * stand-in of Twilio's REST API, and events to a receiver that verifies Standard Webhooks
 * signatures with the same package. Time is controlled: a job "due in 5 minutes" is made due now
 * in pg-boss's table, and the queue's workers (polling every 0.5 s) pick it up. Nothing waits
 * for real timeouts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApiKey } from '../../src/admin/api-keys.js';
import { dial, type SimulatedCall, twilioSignature } from '../../src/voice/simulated-caller.js';
import { scrapeMetrics } from '../support/metrics.js';
import { mulawTone } from '../support/mulaw.js';
import { type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';
import { type RealtimeServer, type StandInConnection, startRealtimeServer } from '../support/realtime-server.js';
import { startTwilioRestServer, type TwilioRestServer } from '../support/twilio-rest-server.js';
import {
  ADAEZE_PHONE,
  PUBLIC_URL,
  startVoiceStack,
  TWILIO_AUTH_TOKEN,
  type VoiceStack,
} from '../support/voice-stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const PAGING_NUMBER = '+15555550199';
const NURSE_PHONE = '+15555550201';
const DOCTOR_PHONE = '+15555550202';
const WAIT = { timeout: 10_000, interval: 100 };
const RULE = 'breathing trouble at night';

let twilio: TwilioRestServer;
let receiver: WebhookReceiver;
let openai: OpenAIStub;
let realtime: RealtimeServer;
let stack: VoiceStack;
let nurseId: string;
let doctorId: string;
let policyId: string;

/** The household's policy: whoever is on call by SMS, then the doctor by call and SMS. */
function levelsWithDoctor() {
  return [
    { targets: [{ onCall: true }], channels: ['sms'], ackTimeoutSeconds: 300 },
    { targets: [{ staffId: doctorId }], channels: ['voice', 'sms'], ackTimeoutSeconds: 600 },
  ];
}

function env(): Record<string, string> {
  return {
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: openai.url,
    OPENAI_REALTIME_URL: realtime.url,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_FROM_NUMBER: PAGING_NUMBER,
    TWILIO_API_BASE_URL: twilio.url,
    HEARTH_JOB_POLL_SECONDS: '0.5',
  };
}

async function api(method: string, path: string, body?: unknown, key = stack.apiKey) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** A form POST signed as Twilio signs it (or with `signature`, e.g. a forged one). */
async function postAsTwilio(path: string, params: Record<string, string>, signature?: string) {
  const response = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature ?? twilioSignature(TWILIO_AUTH_TOKEN, `${PUBLIC_URL}${path}`, params),
    },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: await response.text() };
}

/** Makes every delayed or retrying job of `name` due now: "time passes" without waiting. */
async function makeDue(name: 'escalation-timeout' | 'escalation-page' | 'webhook-delivery', escalationId?: string) {
  const only = escalationId ?? null;
  return stack.services.db.prisma.$executeRaw`
    UPDATE pgboss.job SET start_after = now()
    WHERE name = ${name} AND state IN ('created', 'retry') AND start_after > now()
      AND (${only}::text IS NULL OR data->>'escalationId' = ${only}::text)`;
}

function escalation(id: string) {
  return stack.services.db.prisma.escalation.findUniqueOrThrow({ where: { id }, include: { pages: true, acks: true } });
}

const smsTo = (to: string) => twilio.requestsTo('Messages').filter((request) => request.params.To === to);
const callsTo = (to: string) => twilio.requestsTo('Calls').filter((request) => request.params.To === to);

/** Opens an escalation as the agent's tool does, for a call of the household. */
async function escalateNow(reason = 'Adaeze is short of breath again tonight.') {
  const household = await stack.services.db.prisma.household.findUniqueOrThrow({ where: { id: stack.householdId } });
  const result = await stack.services.escalation.escalate(
    {
      organizationId: household.organizationId,
      householdId: stack.householdId,
      memberId: stack.memberIds[0] ?? null,
      callId: null,
      callerVerified: true,
    },
    { severity: 'high', reason },
  );
  return result;
}

/** Adaeze dials the household's line; returns the call and the model connection it got. */
async function connect(): Promise<{ caller: SimulatedCall; model: StandInConnection }> {
  const count = realtime.connections.length;
  const answer = await dial(stack.dialing(ADAEZE_PHONE));
  if (answer.kind !== 'connected') throw new Error(`the call was not connected: ${JSON.stringify(answer)}`);
  const model = await vi.waitFor(() => {
    const connection = realtime.connections[count];
    if (!connection) throw new Error('no model connection yet');
    return connection;
  }, WAIT);
  return { caller: answer.call, model };
}

beforeAll(async () => {
  [twilio, receiver, openai, realtime] = await Promise.all([
    startTwilioRestServer({ accountSid: ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN }),
    startWebhookReceiver({ secret: `whsec_${Buffer.alloc(32).toString('base64')}` }),
    startOpenAIStub({ fallbackChat: () => ({ text: 'Noted.' }) }),
    startRealtimeServer({ silenceMs: 400, pacing: 'fast' }),
  ]);
  stack = await startVoiceStack(env());

  // The operator's setup, with the admin API alone.
  const nurse = await api('POST', '/v1/on-call-staff', { name: 'Nurse Kim', phone: NURSE_PHONE });
  const doctor = await api('POST', '/v1/on-call-staff', { name: 'Dr Ana Patel', phone: DOCTOR_PHONE });
  expect([nurse.status, doctor.status]).toEqual([201, 201]);
  nurseId = nurse.body.id;
  doctorId = doctor.body.id;
  const now = Date.now();
  const shift = await api('POST', '/v1/on-call-shifts', {
    staffId: nurseId,
    startsAt: new Date(now - 3_600_000).toISOString(),
    endsAt: new Date(now + 12 * 3_600_000).toISOString(),
  });
  expect(shift.status).toBe(201);
  const policy = await api('POST', '/v1/escalation-policies', {
    name: 'Nights',
    householdId: stack.householdId,
    levels: levelsWithDoctor(),
  });
  expect(policy.status).toBe(201);
  policyId = policy.body.id;
  const settings = await api('PATCH', `/v1/households/${stack.householdId}`, {
    agentSettings: { escalateWhen: RULE },
  });
  expect(settings.status).toBe(200);
  const endpoint = await api('POST', '/v1/webhook-endpoints', { url: receiver.url });
  expect(endpoint.status).toBe(201);
  expect(endpoint.body.secret).toMatch(/^whsec_/);
  receiver.useSecret(endpoint.body.secret);
});

afterAll(async () => {
  await stack?.close();
  await Promise.all([twilio?.close(), receiver?.close(), openai?.close(), realtime?.close()]);
});

beforeEach(async () => {
  // Each test starts with no episode open, so the agent and the chain start from level 1.
  await stack.services.db.prisma.escalation.updateMany({
    where: { status: { in: ['open', 'acknowledged', 'exhausted'] } },
    data: { status: 'resolved', outcome: 'closed between tests' },
  });
  await twilio.reset();
  receiver.reset();
  await receiver.up();
});

describe('the paging chain', () => {
  it('pages level 1, then level 2 when nobody answers in time, and stops at the first acknowledgement', async () => {
    const { escalation: opened, message } = await escalateNow();
    expect(message).toContain('Paging level 1 of 2 now: Nurse Kim by SMS');
    expect(message).toContain('within 5 minutes, level 2 is paged');
    await vi.waitFor(() => expect(smsTo(NURSE_PHONE)).toHaveLength(1), WAIT);
    const sms = String(smsTo(NURSE_PHONE)[0]?.params.Body);
    expect(sms).toContain(`Reply ACK ${opened.ackCode}`);
    expect(sms).toContain(`${PUBLIC_URL}/ack/${opened.id}?staff=${nurseId}&token=`);
    expect(smsTo(NURSE_PHONE)[0]?.params.From).toBe(PAGING_NUMBER);

    // Five minutes pass without an answer.
    expect(await makeDue('escalation-timeout', opened.id)).toBe(1);
    await vi.waitFor(() => expect(callsTo(DOCTOR_PHONE)).toHaveLength(1), WAIT);
    await vi.waitFor(() => expect(smsTo(DOCTOR_PHONE)).toHaveLength(1), WAIT);
    const call = callsTo(DOCTOR_PHONE)[0];
    expect(call?.params.Twiml).toContain('Press 1 to acknowledge.');
    const levelTwo = await escalation(opened.id);
    expect(levelTwo).toMatchObject({ status: 'open', level: 2 });
    const voicePage = levelTwo.pages.find((page) => page.channel === 'voice');
    expect(voicePage).toMatchObject({ status: 'sent', staffId: doctorId, providerSid: expect.stringMatching(/^CA/) });

    // The doctor picks up and presses 1; Twilio posts the keypress, signed.
    const keypress = await postAsTwilio(`/twilio/page-ack?page=${voicePage?.id}`, { Digits: '1' });
    expect(keypress.status).toBe(200);
    expect(keypress.body).toContain('Acknowledged');
    const acknowledged = await escalation(opened.id);
    expect(acknowledged).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'Dr Ana Patel' });
    expect(acknowledged.acks).toEqual([expect.objectContaining({ via: 'voice', by: doctorId, first: true })]);

    // Level 2's timeout comes and pages nobody.
    await makeDue('escalation-timeout');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(twilio.requests).toHaveLength(3);
    expect((await escalation(opened.id)).status).toBe('acknowledged');

    // The webhook receiver heard each step once, verified.
    await vi.waitFor(() => {
      const events = receiver.messages.filter((m) => m.payload.data.escalationId === opened.id);
      expect(events.map((m) => m.payload.type)).toEqual([
        'escalation.created',
        'escalation.level_exhausted',
        'escalation.acknowledged',
      ]);
    }, WAIT);
    expect(receiver.rejected).toEqual([]);
  });

  it('is exhausted after the last level, and a webhook says so', async () => {
    const { escalation: opened } = await escalateNow();
    await vi.waitFor(() => expect(smsTo(NURSE_PHONE)).toHaveLength(1), WAIT);
    await makeDue('escalation-timeout');
    await vi.waitFor(() => expect(callsTo(DOCTOR_PHONE)).toHaveLength(1), WAIT);
    await vi.waitFor(async () => expect((await escalation(opened.id)).level).toBe(2), WAIT);
    await makeDue('escalation-timeout');
    await vi.waitFor(async () => expect((await escalation(opened.id)).status).toBe('exhausted'), WAIT);
    await vi.waitFor(() => {
      const last = receiver.messages.filter((m) => m.payload.data.escalationId === opened.id).at(-1);
      expect(last?.payload).toMatchObject({
        type: 'escalation.level_exhausted',
        data: { exhaustedLevel: 2, final: true },
      });
    }, WAIT);
  });

  it('is acknowledged by an SMS reply, with instructions; a later acknowledgement is recorded, not an error', async () => {
    const { escalation: opened } = await escalateNow();
    await vi.waitFor(() => expect(smsTo(NURSE_PHONE)).toHaveLength(1), WAIT);

    const reply = await postAsTwilio('/twilio/sms', {
      From: NURSE_PHONE,
      To: PAGING_NUMBER,
      Body: `ACK ${opened.ackCode} If the breathing worsens again, call 999 and then me.`,
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('<Message>Acknowledged');
    expect(await escalation(opened.id)).toMatchObject({
      status: 'acknowledged',
      acknowledgedBy: 'Nurse Kim',
      instructions: 'If the breathing worsens again, call 999 and then me.',
    });

    // An operator acknowledges too, a moment later: recorded, and the first stands.
    const late = await api('POST', `/v1/escalations/${opened.id}/ack`, {});
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ first: false, escalation: { acknowledgedBy: 'Nurse Kim' } });
    const again = await postAsTwilio('/twilio/sms', {
      From: NURSE_PHONE,
      To: PAGING_NUMBER,
      Body: `ack ${opened.ackCode}`,
    });
    expect(again.body).toContain('Already acknowledged by Nurse Kim');
    const detail = await api('GET', `/v1/escalations/${opened.id}`);
    expect(detail.body.acks.map((ack: { via: string; first: boolean }) => [ack.via, ack.first])).toEqual([
      ['sms', true],
      ['admin', false],
      ['sms', false],
    ]);

    // A code sent from a number that was not paged acknowledges nothing.
    const stranger = await postAsTwilio('/twilio/sms', { From: '+15555550999', Body: `ACK ${opened.ackCode}` });
    expect(stranger.body).toContain('No page with code');
  });

  it('acknowledges by the link in the SMS: the page opens, only its button acknowledges', async () => {
    const { escalation: opened } = await escalateNow();
    await vi.waitFor(() => expect(smsTo(NURSE_PHONE)).toHaveLength(1), WAIT);
    const link = /https:\/\/hearth\.test(\/ack\/\S+)/.exec(String(smsTo(NURSE_PHONE)[0]?.params.Body))?.[1] ?? '';
    const opened_ = await fetch(`${stack.url}${link}`);
    expect(opened_.status).toBe(200);
    expect(await opened_.text()).toContain('Acknowledge as Nurse Kim');
    expect((await escalation(opened.id)).status).toBe('open');

    const url = new URL(link, PUBLIC_URL);
    const token = url.searchParams.get('token') ?? '';
    // The JSON form of the same link, on the admin API's path without a key.
    const response = await fetch(`${stack.url}/v1/escalations/${opened.id}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ staffId: nurseId, token, instructions: 'Keep her sitting up.' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ first: true, escalation: { status: 'acknowledged' } });
    expect(await escalation(opened.id)).toMatchObject({
      acknowledgedBy: 'Nurse Kim',
      instructions: 'Keep her sitting up.',
    });
  });

  it('refuses bad signatures on /twilio/sms and on the link, with nothing changed', async () => {
    const { escalation: opened } = await escalateNow();
    await vi.waitFor(() => expect(smsTo(NURSE_PHONE)).toHaveLength(1), WAIT);
    const forged = await postAsTwilio('/twilio/sms', { From: NURSE_PHONE, Body: `ACK ${opened.ackCode}` }, 'forged=');
    expect(forged.status).toBe(403);
    expect(JSON.parse(forged.body).error.message).toContain('X-Twilio-Signature does not match');
    const unsigned = await fetch(`${stack.url}/twilio/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ From: NURSE_PHONE, Body: `ACK ${opened.ackCode}` }),
    });
    expect(unsigned.status).toBe(403);

    const badLink = await fetch(`${stack.url}/v1/escalations/${opened.id}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ staffId: nurseId, token: '9999999999.forgedforgedforgedforgedforgedforgedforged' }),
    });
    expect(badLink.status).toBe(403);
    expect(JSON.stringify(await badLink.json())).toContain('not valid');
    const otherPerson = await fetch(`${stack.url}/ack/${opened.id}?staff=${doctorId}&token=123.abc`);
    expect(otherPerson.status).toBe(403);
    const noToken = await fetch(`${stack.url}/v1/escalations/${opened.id}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ staffId: nurseId }),
    });
    expect(noToken.status).toBe(400);

    const after = await escalation(opened.id);
    expect(after).toMatchObject({ status: 'open', acknowledgedBy: null });
    expect(after.acks).toEqual([]);
  });

  it('retries a page Twilio rate-limits (429), records the code, and sends it once', async () => {
    const before = await scrapeMetrics(stack.url);
    twilio.failNext('Messages', { status: 429 });
    const { escalation: opened } = await escalateNow();
    await vi.waitFor(async () => {
      const [page] = (await escalation(opened.id)).pages;
      expect(page).toMatchObject({ status: 'queued', attempts: 1, errorCode: 20429 });
    }, WAIT);
    await makeDue('escalation-page');
    await vi.waitFor(async () => {
      const [page] = (await escalation(opened.id)).pages;
      expect(page).toMatchObject({ status: 'sent', attempts: 2, providerSid: expect.stringMatching(/^SM/) });
    }, WAIT);
    expect(twilio.requestsTo('Messages').map((request) => request.params.To)).toEqual([NURSE_PHONE, NURSE_PHONE]);
    expect(smsTo(NURSE_PHONE)).toHaveLength(2); // the 429 and the 201: one message sent
    const after = await scrapeMetrics(stack.url);
    expect(after.since(before, 'hearth_job_failures_total', { queue: 'escalation-page' })).toBe(1);
    expect(after.since(before, 'hearth_pages_sent_total', { channel: 'sms' })).toBe(1);
  });

  it('moves straight to the next level when a page is refused for good', async () => {
    twilio.failNext('Messages', { status: 400, code: 21211 });
    const { escalation: opened } = await escalateNow();
    await vi.waitFor(() => expect(callsTo(DOCTOR_PHONE)).toHaveLength(1), WAIT);
    const row = await escalation(opened.id);
    expect(row.level).toBe(2);
    expect(row.pages.find((page) => page.level === 1)).toMatchObject({
      status: 'failed',
      errorCode: 21211,
      error: expect.stringContaining('not a valid phone number'),
    });
  });
});

describe('a person paged by their own webhook', () => {
  it('gets a Standard Webhooks page signed with the secret shown when their URL was set', async () => {
    const own = await startWebhookReceiver({ secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` });
    try {
      const added = await api('PATCH', `/v1/on-call-staff/${doctorId}`, { webhookUrl: own.url });
      expect(added.status).toBe(200);
      expect(added.body.webhookSecret).toMatch(/^whsec_/);
      own.useSecret(added.body.webhookSecret);
      // Shown once: reading the person back does not show it.
      expect((await api('GET', `/v1/on-call-staff/${doctorId}`)).body.webhookSecret).toBeUndefined();
      const changed = await api('PATCH', `/v1/escalation-policies/${policyId}`, {
        levels: [{ targets: [{ staffId: doctorId }], channels: ['webhook'], ackTimeoutSeconds: 300 }],
      });
      expect(changed.status).toBe(200);

      const { escalation: opened, message } = await escalateNow();
      expect(message).toContain('Dr Ana Patel by webhook');
      await vi.waitFor(() => expect(own.messages).toHaveLength(1), WAIT);
      expect(own.messages[0]?.payload).toMatchObject({
        type: 'escalation.page',
        data: { escalationId: opened.id, ackCode: opened.ackCode, severity: 'high' },
      });
      expect(own.rejected).toEqual([]);
      expect((await escalation(opened.id)).pages).toEqual([
        expect.objectContaining({
          channel: 'webhook',
          status: 'sent',
          providerSid: `page_${(await escalation(opened.id)).pages[0]?.id}`,
        }),
      ]);
    } finally {
      await api('PATCH', `/v1/escalation-policies/${policyId}`, { levels: levelsWithDoctor() });
      await api('PATCH', `/v1/on-call-staff/${doctorId}`, { webhookUrl: null });
      await own.close();
    }
  });
});

describe('bad input', () => {
  it('gets a 4xx that says what is wrong, and changes nothing', async () => {
    const { escalation: opened } = await escalateNow();
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/v1/webhook-endpoints', { url: 'ftp://hooks.test/x' }, 400, 'http or https'],
      ['POST', '/v1/webhook-endpoints', { url: 'https://me:pw@hooks.test/x' }, 400, 'user name or password'],
      [
        'POST',
        '/v1/webhook-endpoints',
        { url: 'https://hooks.test/x', eventTypes: ['escalation.nope'] },
        400,
        'eventTypes',
      ],
      [
        'POST',
        '/v1/webhook-endpoints',
        { url: 'https://hooks.test/x', eventTypes: ['escalation.created', 'escalation.created'] },
        400,
        'must not repeat',
      ],
      [
        'POST',
        `/v1/escalations/${opened.id}/ack`,
        { staffId: nurseId, token: 'x' },
        400,
        'leave out staffId and token',
      ],
      ['POST', `/v1/escalations/${opened.id}/ack`, { token: 'x' }, 400, 'give staffId and token together'],
      ['POST', `/v1/webhook-deliveries/${opened.id}/replay`, undefined, 404, 'No webhook delivery'],
    ];
    for (const [method, path, body, status, says] of cases) {
      const response = await api(method, path, body);
      expect(response.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      expect(JSON.stringify(response.body)).toContain(says);
    }
    const noFrom = await postAsTwilio('/twilio/sms', { Body: `ACK ${opened.ackCode}` });
    expect(noFrom.status).toBe(400);
    expect(noFrom.body).toContain('From');
    const notAPage = await postAsTwilio('/twilio/page-ack?page=not-a-page', { Digits: '1' });
    expect(notAPage.status).toBe(400);
    const unknownPage = await postAsTwilio(`/twilio/page-ack?page=${opened.id}`, { Digits: '1' });
    expect(unknownPage.status).toBe(404);
    const notJson = await fetch(`${stack.url}/v1/escalations/${opened.id}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"staffId":',
    });
    expect(notJson.status).toBe(400);
    const wrongKey = await postAsTwilio('/twilio/sms', { From: NURSE_PHONE, Body: 'yes I am coming' });
    expect(wrongKey.body).toContain('reply ACK and its 6-digit code');
    const after = await escalation(opened.id);
    expect(after).toMatchObject({ status: 'open', acks: [] });
  });
});

describe('webhook deliveries', () => {
  it('retry while the receiver is down, are delivered once when it is up, and can be replayed', async () => {
    await receiver.down({ status: 503 });
    const { escalation: opened } = await escalateNow();
    const created = async () => {
      const [delivery] = await stack.services.db.prisma.webhookDelivery.findMany({
        where: { eventType: 'escalation.created', payload: { path: ['data', 'escalationId'], equals: opened.id } },
        include: { log: { orderBy: { createdAt: 'asc' } } },
      });
      return delivery;
    };
    await vi.waitFor(async () => expect((await created())?.log).toHaveLength(1), WAIT);
    await makeDue('webhook-delivery');
    await vi.waitFor(async () => expect((await created())?.log).toHaveLength(2), WAIT);
    expect((await created())?.status).toBe('pending');

    await receiver.up();
    await makeDue('webhook-delivery');
    await vi.waitFor(async () => expect((await created())?.status).toBe('succeeded'), WAIT);
    const delivery = await created();
    expect(delivery?.log.map((attempt) => attempt.statusCode)).toEqual([503, 503, 204]);
    const message = receiver.messages.find((m) => m.id === `msg_${delivery?.id}`);
    expect(message?.deliveries).toBe(1);

    // The operator reads the log and replays it: the same webhook-id, which the receiver knows.
    const log = await api('GET', `/v1/webhook-deliveries/${delivery?.id}`);
    expect(log.body).toMatchObject({ status: 'succeeded', attempts: 3, messageId: `msg_${delivery?.id}` });
    expect(log.body.log).toHaveLength(3);
    const replay = await api('POST', `/v1/webhook-deliveries/${delivery?.id}/replay`);
    expect(replay.status).toBe(200);
    await vi.waitFor(
      () => expect(receiver.messages.find((m) => m.id === `msg_${delivery?.id}`)?.deliveries).toBe(2),
      WAIT,
    );
    const replayAgain = await api('POST', `/v1/webhook-deliveries/${delivery?.id}/replay`);
    expect([200, 409]).toContain(replayAgain.status);
  });
});

describe('durability', () => {
  it('survives a restart between the page and its timeout, even one that lost the timeout job: nothing lost, nothing sent twice', async () => {
    const { escalation: opened } = await escalateNow();
    await vi.waitFor(() => expect(smsTo(NURSE_PHONE)).toHaveLength(1), WAIT);
    await vi.waitFor(
      () => expect(receiver.messages.some((m) => m.payload.data.escalationId === opened.id)).toBe(true),
      WAIT,
    );

    // As if the process had died after writing the escalation but before queueing its timeout.
    const removed = await stack.services.db.prisma.$executeRaw`
      DELETE FROM pgboss.job WHERE name = 'escalation-timeout' AND data->>'escalationId' = ${opened.id}`;
    expect(removed).toBe(1);
    const { dataDir, householdId, memberIds } = stack;
    await stack.close();
    stack = await startVoiceStack(env(), { dataDir, householdId, memberIds });

    // After the restart the level-1 SMS is not sent again, and the timeout still fires once.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(smsTo(NURSE_PHONE)).toHaveLength(1);
    expect(await makeDue('escalation-timeout', opened.id)).toBe(1);
    await vi.waitFor(() => expect(callsTo(DOCTOR_PHONE)).toHaveLength(1), WAIT);
    await vi.waitFor(() => expect(smsTo(DOCTOR_PHONE)).toHaveLength(1), WAIT);
    const row = await escalation(opened.id);
    expect(row.pages.map((page) => [page.level, page.channel, page.status]).sort()).toEqual([
      [1, 'sms', 'sent'],
      [2, 'sms', 'sent'],
      [2, 'voice', 'sent'],
    ]);
    expect(receiver.messages.filter((m) => m.payload.data.escalationId === opened.id && m.deliveries > 1)).toEqual([]);
  });
});

describe('tenancy', () => {
  it('another organization can neither see nor acknowledge the escalation (404)', async () => {
    const { escalation: opened } = await escalateNow();
    const other = await stack.services.db.prisma.organization.create({ data: { name: 'Other care service' } });
    const { key } = await createApiKey(stack.services.db.prisma, { organizationId: other.id });
    expect((await api('GET', `/v1/escalations/${opened.id}`, undefined, key)).status).toBe(404);
    expect((await api('POST', `/v1/escalations/${opened.id}/ack`, {}, key)).status).toBe(404);
    expect((await api('POST', `/v1/escalations/${opened.id}/resolve`, { outcome: 'x' }, key)).status).toBe(404);
    expect((await api('GET', '/v1/escalations', undefined, key)).body.data).toEqual([]);
    expect((await escalation(opened.id)).status).toBe('open');
  });
});

describe('the escalate tool', () => {
  it('from a text conversation: pages once, and the next conversation knows the episode and the instructions', async () => {
    const [adaeze] = stack.memberIds;
    openai.queueChat(
      (request) => {
        // The household's rule is in the compiled instructions.
        expect(request.messages[0]?.content).toContain(`use the escalate tool) when: ${RULE}`);
        return {
          toolCalls: [{ name: 'escalate', arguments: { severity: 'high', reason: 'Breathing trouble at night' } }],
        };
      },
      { text: 'I have paged Nurse Kim for you.' },
    );
    const first = await api('POST', `/v1/households/${stack.householdId}/messages`, {
      memberId: adaeze,
      text: "It's about my mom again, the breathing thing.",
    });
    expect(first.status).toBe(200);
    expect(first.body.toolCalls[0]).toMatchObject({ name: 'escalate', ok: true });
    expect(first.body.toolCalls[0].output).toContain('Nurse Kim by SMS');

    // The model calls it again in the same conversation: nobody is paged twice.
    openai.queueChat(
      { toolCalls: [{ name: 'escalate', arguments: { severity: 'critical', reason: 'Still breathing badly' } }] },
      { text: 'Help is on the way.' },
    );
    const second = await api('POST', `/v1/households/${stack.householdId}/messages`, {
      memberId: adaeze,
      text: 'She is still struggling.',
      conversationId: first.body.conversationId,
    });
    expect(second.body.toolCalls[0].output).toContain('already has an open escalation');
    const episodes = await stack.services.db.prisma.escalation.findMany({
      where: { callId: first.body.conversationId },
    });
    expect(episodes).toHaveLength(1);
    const [episode] = episodes;
    expect(episode?.summary).toContain("Caller: It's about my mom again, the breathing thing.");
    await vi.waitFor(() => expect(smsTo(NURSE_PHONE)).toHaveLength(1), WAIT);

    // The nurse answers with instructions, then resolves it.
    await postAsTwilio('/twilio/sms', {
      From: NURSE_PHONE,
      Body: `ACK ${episode?.ackCode} If the breathing worsens again, call 999 and then me.`,
    });
    const resolved = await api('POST', `/v1/escalations/${episode?.id}/resolve`, {
      outcome: 'Visited; oxygen fine by midnight.',
    });
    expect(resolved.status).toBe(200);

    let compiled = '';
    openai.queueChat((request) => {
      compiled = String(request.messages[0]?.content);
      return { text: 'Yes, I remember.' };
    });
    await api('POST', `/v1/households/${stack.householdId}/messages`, { memberId: adaeze, text: 'Hello again.' });
    expect(compiled).toContain('Breathing trouble at night');
    expect(compiled).toContain('Acknowledged by Nurse Kim');
    expect(compiled).toContain('Outcome: Visited; oxygen fine by midnight.');
    expect(compiled).toContain(
      "The responder's instructions for next time: If the breathing worsens again, call 999 and then me.",
    );
  });

  it('from a phone call with the realtime model: pages, tells the model who, and the next call knows', async () => {
    const before = await scrapeMetrics(stack.url);
    realtime.scriptResponses([{ say: 'Hello Adaeze.', audioMs: 200 }]);
    realtime.scriptUtterances({
      heard: 'My chest is tight and I cannot breathe properly.',
      reply: [
        { call: 'escalate', arguments: { severity: 'critical', reason: 'Adaeze cannot breathe properly' } },
        { say: 'I have paged the nurse.', audioMs: 200 },
      ],
    });
    const { caller, model } = await connect();
    const session = await realtime.waitForClientEvent('session.update', (_e, c) => c === model, { timeoutMs: 5000 });
    expect(session.session.instructions).toContain(RULE);
    await caller.sendSilence(300, { paced: false });
    await caller.sendAudio(mulawTone(800), { paced: false });
    await caller.sendSilence(800);
    const output = await realtime.waitForClientEvent(
      'conversation.item.create',
      (event, connection) => connection === model && event.item.type === 'function_call_output',
      { timeoutMs: 8000 },
    );
    expect(JSON.stringify(output.item)).toContain('Nurse Kim by SMS');
    await vi.waitFor(() => expect(smsTo(NURSE_PHONE)).toHaveLength(1), WAIT);
    const row = await stack.services.db.prisma.escalation.findFirstOrThrow({
      where: { call: { twilioCallSid: caller.callSid } },
    });
    expect(row).toMatchObject({ severity: 'critical', status: 'open' });
    expect(row.summary).toContain('My chest is tight');
    const during = await scrapeMetrics(stack.url);
    expect(during.get('hearth_calls_active')).toBe(1);
    expect(during.since(before, 'hearth_job_queue_depth', { queue: 'escalation-timeout', state: 'queued' })).toBe(1);
    await caller.hangUp();

    await postAsTwilio('/twilio/sms', {
      From: NURSE_PHONE,
      Body: `ACK ${row.ackCode} Sit her up and call 999 if lips turn blue.`,
    });
    realtime.scriptResponses([{ say: 'Hello again.', audioMs: 200 }]);
    const { caller: again, model: secondModel } = await connect();
    const secondSession = await realtime.waitForClientEvent('session.update', (_e, c) => c === secondModel, {
      timeoutMs: 5000,
    });
    expect(secondSession.session.instructions).toContain('Adaeze cannot breathe properly');
    expect(secondSession.session.instructions).toContain('Sit her up and call 999 if lips turn blue.');
    await again.hangUp();
    await vi.waitFor(async () => expect((await scrapeMetrics(stack.url)).get('hearth_calls_active')).toBe(0), WAIT);
    const after = await scrapeMetrics(stack.url);
    // 800 ms of tone and 1.1 s of silence in, 20 ms a frame; 200 ms of greeting out, twice.
    expect(after.since(before, 'hearth_media_frames_in_total')).toBeGreaterThan(95);
    expect(after.since(before, 'hearth_media_frames_out_total')).toBeGreaterThanOrEqual(20);
    expect(after.since(before, 'hearth_media_frames_dropped_total')).toBe(0);
    expect(after.since(before, 'hearth_tool_latency_seconds_count', { tool: 'escalate', outcome: 'ok' })).toBe(1);
    expect(after.since(before, 'hearth_model_latency_seconds_count', { channel: 'voice' })).toBeGreaterThanOrEqual(1);
    expect(after.since(before, 'hearth_pages_sent_total', { channel: 'sms' })).toBe(1);
    expect(after.since(before, 'hearth_escalations_acknowledged_total', { via: 'sms' })).toBe(1);
  });
});
