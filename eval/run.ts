/**
 * The memory eval: the fixture's households live their sessions through Hearth's real paths (the
 * text channel with a scripted model that saves facts with its tools, the post-call consolidation
 * job, the admin API), on the embedded database with the local embedding model. Then every later
 * question is searched as the engine searches for the agent, hybrid and each half alone, and each
 * is also a retrieval probe. Nothing here needs an API key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApiKey, createOrganization } from '../src/admin/index.js';
import { createModelProvider } from '../src/agent/index.js';
import { loadConfig } from '../src/config/index.js';
import { createMemoryHealth } from '../src/health/index.js';
import { createLogger } from '../src/logger.js';
import type { SearchRanking } from '../src/memory/index.js';
import { createServer } from '../src/server.js';
import { openServices, type Services } from '../src/services.js';
import { startOpenAIStub } from '../test/support/openai-stub.js';
import { type EvalFixture, type EvalHousehold, loadFixture } from './fixture.js';
import { scriptedModel } from './scripted-model.js';

const DAY_MS = 86_400_000;
const TOP_K = 5;
const RANKINGS: SearchRanking[] = ['hybrid', 'keyword', 'vector'];

export interface RecallFigures {
  questions: number;
  recallAt1: number;
  recallAt5: number;
}

export interface EvalReport {
  households: number;
  facts: number;
  questions: number;
  /** Archival search (paraphrase and exact-wording questions), by ranking. */
  archival: Record<SearchRanking, RecallFigures>;
  /** Conversation search within the question's day (time-bound questions), by ranking. */
  conversation: Record<SearchRanking, RecallFigures>;
  /** By question kind, hybrid ranking. */
  byKind: Record<'paraphrase' | 'exact' | 'time', RecallFigures>;
  probes: { run: number; passed: number; passRate: number };
  /** Answer probes through the agent with a real model (OPENAI_API_KEY); null when none was given. */
  answers: { model: string; questions: number; passed: number; passRate: number } | null;
  /** Characters in the household block after each session (mean over households). */
  householdBlockChars: number[];
  /** Search results that belonged to another household: must be 0. */
  crossHouseholdLeaks: number;
  seconds: number;
}

/** A question whose fact hybrid search did not rank first. */
export interface EvalMiss {
  kind: 'paraphrase' | 'exact' | 'time';
  question: string;
  wanted: string;
  /** What it found instead, best first. */
  found: string[];
}

/** `quick` (for the test suite): the first household's first five sessions, and the questions about what they told. */
export async function runEval(
  options: {
    quick?: boolean;
    progress?: (line: string) => void;
    onMiss?: (miss: EvalMiss) => void;
    /** A real chat model for the answer-level eval: OpenAI with `apiKey`, or an OpenAI-compatible `baseUrl`. */
    answerModel?: { apiKey?: string; baseUrl?: string; model?: string };
  } = {},
): Promise<EvalReport> {
  const started = performance.now();
  const progress = options.progress ?? (() => {});
  const loaded = loadFixture();
  const fixture = options.quick ? quickFixture(loaded) : loaded;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hearth-eval-'));
  const model = await startOpenAIStub({ fallbackChat: scriptedModel(fixture) });
  const config = loadConfig({
    HEARTH_DATA_DIR: dataDir,
    HEARTH_DEMO_SEED: 'false',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    LOG_FORMAT: 'json',
    // The chat model is the scripted stand-in; without OPENAI_API_KEY, embeddings are the local model's.
    OPENAI_BASE_URL: model.url,
    HEARTH_JOB_POLL_SECONDS: '0.5',
  });
  const services = await openServices({ config, logger: createLogger(config) });
  try {
    await services.start();
    const server = createServer(services);
    const url = await server.listen();
    server.setReady(true);
    try {
      const organization = await createOrganization(services.db.prisma, 'Eval care');
      const { key } = await createApiKey(services.db.prisma, { organizationId: organization.id });
      const api = adminClient(url, key);
      const lived: LivedHousehold[] = [];
      for (const household of fixture.households) {
        progress(`${household.name}: ${household.sessions.length} sessions`);
        lived.push(await live({ services, api, fixture, household }));
      }
      progress(`asking ${lived.reduce((sum, one) => sum + one.household.questions.length, 0)} questions`);
      const onMiss = options.onMiss ?? (() => {});
      const figures = await evaluate({ services, api, fixture, lived, onMiss });
      const answers = options.answerModel
        ? await answerLevel({ services, api, lived, model: options.answerModel, progress })
        : null;
      return { ...figures, answers, seconds: (performance.now() - started) / 1000 };
    } finally {
      await server.close();
    }
  } finally {
    await services.close();
    await model.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const QUICK_SESSIONS = 5;

function quickFixture(fixture: EvalFixture): EvalFixture {
  const households = fixture.households.slice(0, 1).map((household) => {
    const sessions = household.sessions.slice(0, QUICK_SESSIONS);
    const told = new Set(sessions.flatMap((session) => session.facts));
    return { ...household, sessions, questions: household.questions.filter((question) => told.has(question.fact)) };
  });
  return { ...fixture, households };
}

type AdminClient = ReturnType<typeof adminClient>;

function adminClient(baseUrl: string, key: string) {
  return async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${baseUrl}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route} answered ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

interface LivedHousehold {
  household: EvalHousehold;
  householdId: string;
  memberIds: Map<string, string>;
  blockChars: number[];
}

/** Creates the household through the admin API and runs its sessions, oldest first, each dated as the fixture says. */
async function live(input: {
  services: Services;
  api: AdminClient;
  fixture: EvalFixture;
  household: EvalHousehold;
}): Promise<LivedHousehold> {
  const { services, api, fixture, household } = input;
  const { prisma } = services.db;
  const { id: householdId } = await api<{ id: string }>('POST', '/v1/households', {
    name: household.name,
    timezone: household.timezone,
  });
  const memberIds = new Map<string, string>();
  for (const name of household.members) {
    const member = await api<{ id: string }>('POST', `/v1/households/${householdId}/members`, { name });
    memberIds.set(name, member.id);
  }
  const facts = new Map(household.facts.map((fact) => [fact.id, fact]));
  const blockChars: number[] = [];
  const now = Date.parse(fixture.now);
  for (const session of household.sessions) {
    const memberId = memberIds.get(session.member);
    if (!memberId) throw new Error(`${household.name}: no member ${session.member}`);
    const said = session.facts.map((id) => facts.get(id)!);
    const { conversationId } = await services.conversations.start({ householdId, memberId });
    for (const fact of said) {
      await services.conversations.send({ householdId, memberId, conversationId, text: fact.text });
    }
    const noted: string[] = [];
    if (session.path === 'admin') {
      for (const fact of said) {
        const passage = await api<{ id: string }>('POST', `/v1/households/${householdId}/passages`, {
          text: fact.text,
          tags: fact.tags,
        });
        noted.push(passage.id);
      }
    }
    await services.conversations.end({ householdId, conversationId });
    await waitForConsolidation(services, conversationId);
    // Dated as the fixture says: the session's day at noon, a minute per message.
    const day = new Date(now - session.daysAgo * DAY_MS);
    await prisma.$executeRaw`
      UPDATE messages m SET created_at = ${day}::timestamptz + o.n * interval '1 minute'
      FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM messages WHERE call_id = ${conversationId}::uuid) o
      WHERE m.id = o.id`;
    await prisma.passage.updateMany({
      where: { OR: [{ sourceCallId: conversationId }, { id: { in: noted } }] },
      data: { createdAt: day },
    });
    await prisma.call.update({ where: { id: conversationId }, data: { startedAt: day, endedAt: day } });
    const block = await services.memory.getBlock({ householdId, memberId: null, label: 'household' });
    blockChars.push(block.value.length);
  }
  return { household, householdId, memberIds, blockChars };
}

async function waitForConsolidation(services: Services, callId: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    const call = await services.db.prisma.call.findUniqueOrThrow({ where: { id: callId } });
    if (call.consolidatedAt) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`call ${callId} was not consolidated within a minute`);
}

/** Every question, searched three ways; every question as a retrieval probe; leaks counted by row ownership. */
async function evaluate(input: {
  services: Services;
  api: AdminClient;
  fixture: EvalFixture;
  lived: LivedHousehold[];
  onMiss: (miss: EvalMiss) => void;
}): Promise<Omit<EvalReport, 'seconds' | 'answers'>> {
  const { services, api, fixture, lived, onMiss } = input;
  const { prisma } = services.db;
  const now = Date.parse(fixture.now);
  const owners = new Map<string, string>();
  for (const row of await prisma.passage.findMany({ select: { id: true, householdId: true } })) {
    owners.set(row.id, row.householdId);
  }
  for (const row of await prisma.message.findMany({ select: { id: true, householdId: true } })) {
    owners.set(row.id, row.householdId);
  }
  const tally = () => ({ questions: 0, at1: 0, at5: 0 });
  const archival = Object.fromEntries(RANKINGS.map((ranking) => [ranking, tally()])) as Record<
    SearchRanking,
    ReturnType<typeof tally>
  >;
  const conversation = Object.fromEntries(RANKINGS.map((ranking) => [ranking, tally()])) as Record<
    SearchRanking,
    ReturnType<typeof tally>
  >;
  const byKind = { paraphrase: tally(), exact: tally(), time: tally() };
  let leaks = 0;
  let probesRun = 0;
  let probesPassed = 0;
  for (const { household, householdId, memberIds } of lived) {
    const facts = new Map(household.facts.map((fact) => [fact.id, fact]));
    for (const question of household.questions) {
      const memberId = memberIds.get(question.as)!;
      const target = facts.get(question.fact)!.text;
      for (const ranking of RANKINGS) {
        let hits: Array<{ id: string; text: string }>;
        if (question.within) {
          const day = now - question.within.daysAgo * DAY_MS;
          const page = await services.memory.searchRecall({
            householdId,
            memberId,
            query: question.ask,
            roles: ['user', 'assistant'],
            start: new Date(day - DAY_MS / 2),
            end: new Date(day + DAY_MS / 2),
            limit: TOP_K,
            ranking,
          });
          hits = page.items.map((hit) => ({ id: hit.id, text: hit.content }));
        } else {
          const page = await services.memory.searchPassages({
            householdId,
            memberId,
            query: question.ask,
            limit: TOP_K,
            ranking,
          });
          hits = page.items.map((hit) => ({ id: hit.id, text: hit.text }));
        }
        leaks += hits.filter((hit) => owners.get(hit.id) !== householdId).length;
        const rank = hits.findIndex((hit) => hit.text === target);
        if (ranking === 'hybrid' && rank !== 0) {
          onMiss({ kind: question.kind, question: question.ask, wanted: target, found: hits.map((hit) => hit.text) });
        }
        const counts = [question.within ? conversation[ranking] : archival[ranking]];
        if (ranking === 'hybrid') counts.push(byKind[question.kind]);
        for (const count of counts) {
          count.questions++;
          if (rank === 0) count.at1++;
          if (rank >= 0) count.at5++;
        }
      }
      // The same question as a retrieval probe: the fact in a block or a top-5 hit.
      const probe = await api<{ id: string }>('POST', `/v1/households/${householdId}/probes`, {
        question: question.ask,
        memberId,
        kind: 'retrieval',
        expectedFact: target,
      });
      const run = await api<{ passed: boolean }>('POST', `/v1/households/${householdId}/probes/${probe.id}/run`);
      probesRun++;
      if (run.passed) probesPassed++;
    }
  }
  const figures = (count: ReturnType<typeof tally>): RecallFigures => ({
    questions: count.questions,
    recallAt1: ratio(count.at1, count.questions),
    recallAt5: ratio(count.at5, count.questions),
  });
  const sessions = Math.max(...lived.map((one) => one.blockChars.length));
  return {
    households: lived.length,
    facts: lived.reduce((sum, one) => sum + one.household.sessions.flatMap((session) => session.facts).length, 0),
    questions: lived.reduce((sum, one) => sum + one.household.questions.length, 0),
    archival: Object.fromEntries(
      RANKINGS.map((ranking) => [ranking, figures(archival[ranking])]),
    ) as EvalReport['archival'],
    conversation: Object.fromEntries(
      RANKINGS.map((ranking) => [ranking, figures(conversation[ranking])]),
    ) as EvalReport['conversation'],
    byKind: { paraphrase: figures(byKind.paraphrase), exact: figures(byKind.exact), time: figures(byKind.time) },
    probes: { run: probesRun, passed: probesPassed, passRate: ratio(probesPassed, probesRun) },
    householdBlockChars: Array.from({ length: sessions }, (_, index) =>
      Math.round(lived.reduce((sum, one) => sum + (one.blockChars[index] ?? 0), 0) / lived.length),
    ),
    crossHouseholdLeaks: leaks,
  };
}

/**
 * Each question that says what a right answer contains, asked as an answer probe through the agent
 * loop with the real model: the same path, context and read-only memory a scheduled probe has.
 */
async function answerLevel(input: {
  services: Services;
  api: AdminClient;
  lived: LivedHousehold[];
  model: { apiKey?: string; baseUrl?: string; model?: string };
  progress: (line: string) => void;
}): Promise<NonNullable<EvalReport['answers']>> {
  const { services, api, lived } = input;
  const { config } = services;
  const provider = createModelProvider({
    apiKey: input.model.apiKey,
    baseUrl: input.model.baseUrl,
    defaultModel: input.model.model ?? config.HEARTH_MODEL,
    timeoutMs: config.HEARTH_MODEL_TIMEOUT_MS,
    maxRetries: config.HEARTH_MODEL_MAX_RETRIES,
  });
  const health = createMemoryHealth({
    prisma: services.db.prisma,
    memory: services.memory,
    provider,
    logger: services.logger,
    maxSteps: config.HEARTH_AGENT_MAX_STEPS,
    queue: services.queue,
    dispatchWebhooks: (ids) => services.escalation.dispatchWebhooks(ids),
  });
  let questions = 0;
  let passed = 0;
  for (const { household, householdId, memberIds } of lived) {
    for (const question of household.questions) {
      if (!question.answer) continue;
      const created = await api<{ id: string }>('POST', `/v1/households/${householdId}/probes`, {
        question: question.ask,
        memberId: memberIds.get(question.as),
        expectedAny: question.answer,
      });
      const probe = await services.db.prisma.memoryProbe.findUniqueOrThrow({ where: { id: created.id } });
      const run = await health.runNow(probe);
      questions++;
      if (run.passed) passed++;
    }
  }
  input.progress(`answer-level: ${passed} of ${questions} answered right by ${provider.defaultModel}`);
  return { model: provider.defaultModel, questions, passed, passRate: ratio(passed, questions) };
}

const ratio = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 1000) / 1000);

/** The report as the table `npm run eval` prints. */
export function reportLines(report: EvalReport): string[] {
  const row = (cells: string[]) =>
    cells.map((cell, index) => (index === 0 ? cell.padEnd(26) : cell.padStart(10))).join('');
  const fixed = (value: number) => value.toFixed(3);
  const lines = [
    `${report.households} households, ${report.facts} facts, ${report.questions} questions (${report.seconds.toFixed(0)} s)`,
    '',
    row(['search (questions)', 'ranking', 'recall@1', 'recall@5']),
  ];
  for (const [name, figures] of [
    ['archival', report.archival],
    ['conversation, in a day', report.conversation],
  ] as const) {
    for (const ranking of RANKINGS) {
      const one = figures[ranking];
      lines.push(row([`${name} (${one.questions})`, ranking, fixed(one.recallAt1), fixed(one.recallAt5)]));
    }
  }
  lines.push('', row(['question kind (hybrid)', '', 'recall@1', 'recall@5']));
  for (const [kind, one] of Object.entries(report.byKind)) {
    lines.push(row([`${kind} (${one.questions})`, '', fixed(one.recallAt1), fixed(one.recallAt5)]));
  }
  lines.push(
    '',
    `retrieval probes: ${report.probes.passed} of ${report.probes.run} passed (${fixed(report.probes.passRate)})`,
    report.answers
      ? `answer probes with ${report.answers.model}: ${report.answers.passed} of ${report.answers.questions} answered right (${fixed(report.answers.passRate)})`
      : 'answer probes with a real model: skipped (set OPENAI_API_KEY to run them)',
    `household block, characters after each session: ${report.householdBlockChars.join(', ')}`,
    `cross-household leaks: ${report.crossHouseholdLeaks}`,
  );
  return lines;
}
