import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError, ValidationError } from '../../src/errors.js';
import {
  createTwilioPager,
  PageDeliveryError,
  pageTwiml,
  type TwilioPager,
} from '../../src/escalation/twilio-pager.js';
import { startTwilioRestServer, type TwilioRestServer } from '../support/twilio-rest-server.js';

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const AUTH_TOKEN = 'test-auth-token';
const FROM = '+15005550006';
const TO = '+15551234567';
const TWIML = '<Response><Say>Test page</Say></Response>';

let server: TwilioRestServer;
let pager: TwilioPager;
const logLines: string[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(line) });

beforeAll(async () => {
  server = await startTwilioRestServer({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  pager = createTwilioPager({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    from: FROM,
    apiBaseUrl: server.url,
    logger,
  });
});
afterAll(() => server.close());
beforeEach(async () => {
  await server.reset();
  logLines.length = 0;
});

/** The pager's rejection, for assertions on its fields. */
async function failure(attempt: Promise<unknown>): Promise<PageDeliveryError> {
  const error = await attempt.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(PageDeliveryError);
  return error as PageDeliveryError;
}

describe('TwilioPager over the official SDK', () => {
  it('sends an SMS with Basic auth and the form fields To, From, Body', async () => {
    const { sid } = await pager.sendSms({ to: TO, body: 'Ana needs help: trouble breathing.' });

    expect(sid).toMatch(/^SM[0-9a-f]{32}$/);
    const [request] = server.requestsTo('Messages');
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`,
    );
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.headers['user-agent']).toMatch(/^twilio-node\/6\.2\.0 /);
    expect(request?.params).toEqual({ To: TO, From: FROM, Body: 'Ana needs help: trouble breathing.' });
    expect(logLines.join('')).toContain(sid);
    expect(logLines.join('')).not.toContain(TO);
  });

  it('places a call with the TwiML inline: To, From, Twiml (and the status callback when given)', async () => {
    const { sid } = await pager.placeCall({
      to: TO,
      twiml: TWIML,
      statusCallbackUrl: 'https://hearth.example/twilio/page-status',
    });

    expect(sid).toMatch(/^CA[0-9a-f]{32}$/);
    const [request] = server.requestsTo('Calls');
    expect(request?.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`);
    expect(request?.params).toEqual({
      To: TO,
      From: FROM,
      Twiml: TWIML,
      StatusCallback: 'https://hearth.example/twilio/page-status',
      StatusCallbackMethod: 'POST',
    });
  });

  it('fails a 429 as transient with status 429 and code 20429; the next attempt (the caller’s) succeeds', async () => {
    server.failNext('Messages', { status: 429 });

    const error = await failure(pager.sendSms({ to: TO, body: 'Page' }));
    expect(error).toMatchObject({ status: 429, twilioCode: 20429, transient: true });
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toMatch(/rate-limiting.*tried again/);

    await expect(pager.sendSms({ to: TO, body: 'Page' })).resolves.toMatchObject({ sid: expect.stringMatching(/^SM/) });
    // One request per attempt: the SDK did not retry on its own.
    expect(server.requestsTo('Messages')).toHaveLength(2);
  });

  it('fails a 500 as transient', async () => {
    server.failNext('Calls', { status: 500 });

    const error = await failure(pager.placeCall({ to: TO, twiml: TWIML }));
    expect(error).toMatchObject({ status: 500, twilioCode: 20500, transient: true });
    expect(server.requestsTo('Calls')).toHaveLength(1);
  });

  it("fails a 400 with 21211 (invalid 'To') as permanent, saying what to fix", async () => {
    server.failNext('Messages', { status: 400, code: 21211 });

    const error = await failure(pager.sendSms({ to: TO, body: 'Page' }));
    expect(error).toMatchObject({ status: 400, twilioCode: 21211, transient: false });
    expect(error.message).toContain("correct the contact's number");
    expect(error.message).toContain('…4567');
    expect(error.message).not.toContain(TO);
  });

  it('fails a 400 with 21610 (opted out) as permanent', async () => {
    server.failNext('Messages', { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });

    const error = await failure(pager.sendSms({ to: TO, body: 'Page' }));
    expect(error).toMatchObject({ status: 400, twilioCode: 21610, transient: false });
    expect(error.message).toContain('START');
  });

  it('fails wrong credentials as permanent (401, 20003)', async () => {
    const wrong = createTwilioPager({
      accountSid: ACCOUNT_SID,
      authToken: 'not-the-token',
      from: FROM,
      apiBaseUrl: server.url,
      logger,
    });

    const error = await failure(wrong.sendSms({ to: TO, body: 'Page' }));
    expect(error).toMatchObject({ status: 401, twilioCode: 20003, transient: false });
    expect(error.message).toContain('TWILIO_AUTH_TOKEN');
  });

  it('fails a refused connection as transient, with no status', async () => {
    // A stand-in of its own: the shared one's port may have a kept-alive socket in Node's pool,
    // which would fail with ECONNRESET instead of being refused.
    const down = await startTwilioRestServer({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    await down.refuseConnections();
    const unreachable = createTwilioPager({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      from: FROM,
      apiBaseUrl: down.url,
      logger,
    });

    const error = await failure(unreachable.placeCall({ to: TO, twiml: TWIML }));
    expect(error).toMatchObject({ status: undefined, twilioCode: undefined, transient: true });
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain(down.url);

    await down.acceptConnections();
    await expect(unreachable.placeCall({ to: TO, twiml: TWIML })).resolves.toMatchObject({ sid: expect.any(String) });
    await down.close();
  });

  it('fails a request that gets no answer in time as transient', async () => {
    const impatient = createTwilioPager({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      from: FROM,
      apiBaseUrl: server.url,
      requestTimeoutMs: 50,
      logger,
    });
    server.failNext('Messages', { hang: true });

    const error = await failure(impatient.sendSms({ to: TO, body: 'Page' }));
    expect(error).toMatchObject({ status: undefined, transient: true });
  });

  it('fails a dropped connection as transient', async () => {
    server.failNext('Calls', { reset: true });

    const error = await failure(pager.placeCall({ to: TO, twiml: TWIML }));
    expect(error).toMatchObject({ status: undefined, transient: true });
  });

  it.each([
    ['a number without +country code', () => pager.sendSms({ to: '5551234567', body: 'Page' }), 'to'],
    ['an empty body', () => pager.sendSms({ to: TO, body: '   ' }), 'body'],
    ['a body over 1600 characters', () => pager.sendSms({ to: TO, body: 'x'.repeat(1601) }), 'body'],
    ['a call to a non-E.164 number', () => pager.placeCall({ to: '+0123', twiml: TWIML }), 'to'],
    ['empty TwiML', () => pager.placeCall({ to: TO, twiml: '' }), 'twiml'],
    [
      'a status callback that is not a URL',
      () => pager.placeCall({ to: TO, twiml: TWIML, statusCallbackUrl: 'page-status' }),
      'statusCallbackUrl',
    ],
  ])('refuses %s with a ValidationError naming the field, before any request', async (_case, attempt, field) => {
    const error = await attempt().then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toMatchObject({ field });
    expect((error as ValidationError).message).toContain(field);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses bad options when it is created', () => {
    const options = { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: FROM, logger };
    expect(() => createTwilioPager({ ...options, accountSid: 'SK123' })).toThrow(/accountSid/);
    expect(() => createTwilioPager({ ...options, from: '555' })).toThrow(/from must be/);
    expect(() => createTwilioPager({ ...options, apiBaseUrl: 'localhost:3000' })).toThrow(/apiBaseUrl/);
  });
});

describe('pageTwiml', () => {
  const actionUrl = 'https://hearth.example/escalations/esc_1/ack?token=a&b=c';

  it('says the summary inside a one-digit Gather that posts to the action URL, twice, then hangs up', () => {
    const twiml = pageTwiml({ summary: 'Ana at 12 Elm Road reports trouble breathing.', ackDigit: '1', actionUrl });

    const gather =
      '<Gather numDigits="1" action="https://hearth.example/escalations/esc_1/ack?token=a&amp;b=c" method="POST" input="dtmf">' +
      '<Say>Ana at 12 Elm Road reports trouble breathing.</Say><Say>Press 1 to acknowledge.</Say></Gather>';
    expect(twiml).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response>${gather}${gather}<Say>No key was pressed. Goodbye.</Say><Hangup/></Response>`,
    );
  });

  it('escapes the summary and refuses a bad action URL', () => {
    expect(pageTwiml({ summary: 'Tom & Ana <3', actionUrl })).toContain('<Say>Tom &amp; Ana &lt;3</Say>');
    expect(() => pageTwiml({ summary: 'Help', actionUrl: '/ack' })).toThrow(ValidationError);
    expect(() => pageTwiml({ summary: ' ', actionUrl })).toThrow(/summary/);
  });
});
