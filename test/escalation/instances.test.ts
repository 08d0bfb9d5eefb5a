/**
 * Two Hearth instances on one database, each with its own job queue and escalation desk, as in
 * `infra/compose.yaml`: a page is sent once and a level's timeout fires once, whichever instance
 * takes the job, and both instances recovering at once after a restart send nothing twice. On
 * PGlite the two queues share the embedded engine; with TEST_DATABASE_URL they are two pg-boss
 * instances with their own connection pools on a real Postgres.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { createEscalationDesk, createTwilioPager, type EscalationDesk } from '../../src/escalation/index.js';
import { createQueue, type JobQueue } from '../../src/jobs/index.js';
import { createLogger } from '../../src/logger.js';
import { createEmbedder, createMemoryEngine } from '../../src/memory/index.js';
import { createSecretBox } from '../../src/secrets.js';
import { createTestDatabase } from '../support/database.js';
import { startTwilioRestServer, type TwilioRestServer } from '../support/twilio-rest-server.js';

const ACCOUNT_SID = `AC${'ab'.repeat(16)}`;
const AUTH_TOKEN = 'instances-auth-token';
const FIRST = '+15555550301';
const SECOND = '+15555550302';
const WAIT = { timeout: 10_000, interval: 100 };

let db: Database;
let twilio: TwilioRestServer;
const instances: { queue: JobQueue; desk: EscalationDesk }[] = [];
let scope: {
  organizationId: string;
  householdId: string;
  memberId: null;
  callId: null;
  callerVerified: boolean;
};

beforeAll(async () => {
  [db, twilio] = await Promise.all([
    createTestDatabase(),
    startTwilioRestServer({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN }),
  ]);
  const logger = createLogger({ LOG_LEVEL: 'silent', LOG_FORMAT: 'json' });
  const memory = createMemoryEngine({ prisma: db.prisma, embedder: createEmbedder({}) });
  const key = 'a shared server key, as HEARTH_SECRET_KEY on every instance';
  for (let instance = 0; instance < 2; instance++) {
    const queue = createQueue({ db, logger, pollingIntervalSeconds: 0.5, shutdownTimeoutMs: 1_000 });
    const pager = createTwilioPager({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      from: '+15555550199',
      apiBaseUrl: twilio.url,
      logger,
    });
    const desk = createEscalationDesk({
      prisma: db.prisma,
      memory,
      queue,
      logger,
      pager,
      publicUrl: 'https://hearth.test',
      secret: { key, box: createSecretBox(key) },
    });
    await queue.start();
    await desk.registerJobs();
    instances.push({ queue, desk });
  }
  const organization = await db.prisma.organization.create({ data: { name: 'Two instances' } });
  const household = await db.prisma.household.create({
    data: { organizationId: organization.id, name: 'The Ade household' },
  });
  const [first, second] = await Promise.all(
    [FIRST, SECOND].map((phone, index) =>
      db.prisma.onCallStaff.create({ data: { organizationId: organization.id, name: `Nurse ${index + 1}`, phone } }),
    ),
  );
  await db.prisma.escalationPolicy.create({
    data: {
      organizationId: organization.id,
      householdId: household.id,
      name: 'Nights',
      levels: [
        { targets: [{ staffId: first?.id }], channels: ['sms'], ackTimeoutSeconds: 300, repeat: 0 },
        { targets: [{ staffId: second?.id }], channels: ['sms'], ackTimeoutSeconds: 300, repeat: 0 },
      ],
    },
  });
  scope = {
    organizationId: organization.id,
    householdId: household.id,
    memberId: null,
    callId: null,
    callerVerified: true,
  };
});

afterAll(async () => {
  await Promise.all(instances.map(({ queue }) => queue.stop()));
  await twilio?.close();
  await db?.close();
});

const smsTo = (to: string) => twilio.requestsTo('Messages').filter((request) => request.params.To === to);

it('pages once and fires each timeout once, whichever instance runs the job, and recovers without resending', async () => {
  const [one, two] = instances;
  if (!one || !two) throw new Error('two instances expected');
  const { escalation } = await one.desk.escalate(scope, { severity: 'high', reason: 'Short of breath' });
  await vi.waitFor(() => expect(smsTo(FIRST)).toHaveLength(1), WAIT);

  // Both instances restart at the same moment and resume what is open.
  await Promise.all([one.desk.recover(), two.desk.recover()]);
  // The timeout is due: both instances' workers poll for it.
  const due = await db.prisma.$executeRaw`
    UPDATE pgboss.job SET start_after = now()
    WHERE name = 'escalation-timeout' AND state = 'created' AND data->>'escalationId' = ${escalation.id}`;
  expect(due).toBe(1);
  await vi.waitFor(() => expect(smsTo(SECOND)).toHaveLength(1), WAIT);
  // Long enough for every worker to have polled several times.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(smsTo(FIRST)).toHaveLength(1);
  expect(smsTo(SECOND)).toHaveLength(1);
  const row = await db.prisma.escalation.findUniqueOrThrow({ where: { id: escalation.id }, include: { pages: true } });
  expect(row).toMatchObject({ status: 'open', level: 2 });
  expect(row.pages.map((page) => [page.level, page.status, page.attempts])).toEqual(
    expect.arrayContaining([
      [1, 'sent', 1],
      [2, 'sent', 1],
    ]),
  );
  const timeouts = await db.prisma.$queryRaw<{ count: bigint }[]>`
    SELECT count(*) AS count FROM pgboss.job
    WHERE name = 'escalation-timeout' AND data->>'escalationId' = ${escalation.id} AND state = 'completed'`;
  expect(Number(timeouts[0]?.count)).toBe(1);
});
