/**
 * The paging chain. A level's pages are rows written with the change that starts the level (one
 * per person and channel, keyed `escalation:level:round:staff:channel`), each sent by its own
 * durable job; the level's acknowledgement timeout is a job scheduled in the database. A timeout
 * that finds the escalation still open on the same level and round repeats the level or pages the
 * next; after the last, the escalation is `exhausted`. Every step is a conditional write, so a job
 * run twice (a restart, a retry) changes nothing the second time, and a page already sent is
 * never sent again.
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import type { Escalation, PageChannel, Prisma, PrismaClient } from '../db/index.js';
import type { JobQueue, JobType } from '../jobs/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { SecretBox } from '../secrets.js';
import { ackLinkToken } from './acknowledgements.js';
import { escalationEventData, recordEvent, type WebhookDeliveries } from './events.js';
import { type EscalationLevel, escalationLevelsSchema } from './policy.js';
import {
  PAGE_SUMMARY_MAX_CHARS,
  PageDeliveryError,
  pageTwiml,
  SMS_BODY_MAX_CHARS,
  type TwilioPager,
} from './twilio-pager.js';
import { deliverWebhook, PAGE_EVENT_TYPE, webhookPayload } from './webhooks.js';

export const SEND_PAGE_JOB = 'escalation-page';
export const LEVEL_TIMEOUT_JOB = 'escalation-timeout';
/** Tries of a page after its first, on 429, 5xx and network errors: about 2.5 minutes of backoff in all. */
export const PAGE_RETRY_LIMIT = 5;
/** The path Twilio posts a paging call's keypress to. */
export const PAGE_KEYPRESS_PATH = '/twilio/page-ack';
/** The page a link in an SMS opens. */
export const ACK_LINK_PATH = '/ack';

const sendPageSchema = z.object({ pageId: z.uuid() });
const levelTimeoutSchema = z.object({
  escalationId: z.uuid(),
  level: z.number().int().min(1),
  round: z.number().int().min(0),
});
type LevelStep = z.infer<typeof levelTimeoutSchema>;

const CHANNEL_NAMES: Record<PageChannel, string> = { sms: 'SMS', voice: 'voice call', webhook: 'webhook' };

export interface PagingDeps {
  prisma: PrismaClient;
  queue: JobQueue;
  webhooks: WebhookDeliveries;
  logger: Logger;
  /** Twilio, when it is set up; without it SMS and voice pages fail, saying what to set. */
  pager: TwilioPager | undefined;
  /** PUBLIC_URL: acknowledgement links and the keypress on paging calls. */
  publicUrl: string | undefined;
  /** The server's secret key: signs links; its box opens staff webhook secrets. */
  secret: { key: string; box: SecretBox } | undefined;
  metrics?: Metrics;
}

/** A page as the tool reports it: who, how, and whether it can go out. */
export interface PagePlan {
  staffName: string;
  channel: PageChannel;
}

/** A six-digit code for `ACK <code>` replies. */
export function newAckCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** "Dr Ana Patel by SMS and voice call; Sam Lee by SMS". */
export function describePages(pages: readonly PagePlan[]): string {
  const byPerson = new Map<string, string[]>();
  for (const page of pages) {
    byPerson.set(page.staffName, [...(byPerson.get(page.staffName) ?? []), CHANNEL_NAMES[page.channel]]);
  }
  return [...byPerson].map(([name, channels]) => `${name} by ${channels.join(' and ')}`).join('; ');
}

export class Paging {
  readonly #deps: PagingDeps;
  readonly #logger: Logger;

  constructor(deps: PagingDeps) {
    this.#deps = deps;
    this.#logger = deps.logger.child({ component: 'paging' });
  }

  get jobTypes(): [JobType<z.infer<typeof sendPageSchema>>, JobType<LevelStep>] {
    return [
      {
        name: SEND_PAGE_JOB,
        schema: sendPageSchema,
        policy: 'exclusive',
        retryLimit: PAGE_RETRY_LIMIT,
        retryDelaySeconds: 5,
        handler: (job) => this.#sendPage(job.data.pageId, job.retryCount),
      },
      {
        name: LEVEL_TIMEOUT_JOB,
        schema: levelTimeoutSchema,
        policy: 'exclusive',
        handler: (job) => this.advance(job.data),
      },
    ];
  }

  /** The levels of the escalation's policy (none when it has no policy, or it was deleted). */
  async levelsOf(policyId: string | null): Promise<EscalationLevel[]> {
    if (!policyId) return [];
    const policy = await this.#deps.prisma.escalationPolicy.findUnique({ where: { id: policyId } });
    return policyLevels(policy?.levels);
  }

  /**
   * Writes the pages of `step` (in the transaction that starts it): each target of the level,
   * on each of its channels. `{ onCall: true }` is whoever the schedule has on call now, for
   * this household or the whole organization.
   */
  async writePages(
    tx: Prisma.TransactionClient,
    escalation: Escalation,
    level: EscalationLevel,
    step: { level: number; round: number },
    now: Date,
  ): Promise<PagePlan[]> {
    const named = level.targets.flatMap((target) => ('staffId' in target ? [target.staffId] : []));
    const onCall = level.targets.some((target) => 'onCall' in target)
      ? await tx.onCallShift.findMany({
          where: {
            organizationId: escalation.organizationId,
            OR: [{ householdId: escalation.householdId }, { householdId: null }],
            startsAt: { lte: now },
            endsAt: { gt: now },
          },
          orderBy: { startsAt: 'asc' },
          select: { staffId: true },
        })
      : [];
    const staffIds = [...new Set([...named, ...onCall.map((shift) => shift.staffId)])];
    const staff = await tx.onCallStaff.findMany({
      where: { id: { in: staffIds }, organizationId: escalation.organizationId },
      select: { id: true, name: true },
    });
    const ordered = staffIds.flatMap((id) => staff.filter((person) => person.id === id));
    const plans = ordered.flatMap((person) => level.channels.map((channel) => ({ person, channel })));
    await tx.page.createMany({
      data: plans.map(({ person, channel }) => ({
        organizationId: escalation.organizationId,
        householdId: escalation.householdId,
        escalationId: escalation.id,
        staffId: person.id,
        level: step.level,
        channel,
        idempotencyKey: `${escalation.id}:${step.level}:${step.round}:${person.id}:${channel}`,
      })),
      skipDuplicates: true,
    });
    return plans.map(({ person, channel }) => ({ staffName: person.name, channel }));
  }

  /**
   * Queues the current level's unsent pages and its timeout, counted from when the level started.
   * Safe to repeat: queued jobs are deduplicated by key, and a job for a page already sent does nothing.
   */
  async dispatch(escalation: Escalation, levels?: EscalationLevel[]): Promise<void> {
    if (escalation.status !== 'open' || escalation.level < 1) return;
    const level = (levels ?? (await this.levelsOf(escalation.policyId)))[escalation.level - 1];
    const step = { escalationId: escalation.id, level: escalation.level, round: escalation.round };
    const pages = await this.#deps.prisma.page.findMany({
      where: { escalationId: escalation.id, idempotencyKey: { startsWith: `${stepKey(step)}:` } },
      select: { id: true, status: true, idempotencyKey: true },
    });
    for (const page of pages.filter((page) => page.status === 'queued')) {
      await this.#deps.queue.send({
        name: SEND_PAGE_JOB,
        data: { pageId: page.id },
        singletonKey: page.idempotencyKey,
      });
    }
    if (!level || pages.length === 0) {
      // Nobody to page at this level (no one on call): on to the next at once.
      await this.advance(step);
      return;
    }
    const startedAt = escalation.levelStartedAt ?? escalation.createdAt;
    const dueInMs = startedAt.getTime() + level.ackTimeoutSeconds * 1000 - Date.now();
    await this.#deps.queue.send({
      name: LEVEL_TIMEOUT_JOB,
      data: step,
      singletonKey: stepKey(step),
      startAfterSeconds: Math.max(0, Math.ceil(dueInMs / 1000)),
    });
  }

  /**
   * The level's time is up (or every page of it failed): repeat it, page the next level, or mark
   * the escalation exhausted. Does nothing unless the escalation is still open at `step`.
   */
  async advance(step: LevelStep): Promise<void> {
    const { prisma } = this.#deps;
    const escalation = await prisma.escalation.findUnique({ where: { id: step.escalationId } });
    if (escalation?.status !== 'open' || escalation.level !== step.level || escalation.round !== step.round) return;
    const levels = await this.levelsOf(escalation.policyId);
    const current = levels[step.level - 1];
    const next =
      current && step.round < current.repeat
        ? { level: step.level, round: step.round + 1 }
        : levels[step.level]
          ? { level: step.level + 1, round: 0 }
          : undefined;
    const now = new Date();
    const moved = await prisma.$transaction(async (tx) => {
      const [row] = await tx.escalation.updateManyAndReturn({
        where: { id: escalation.id, status: 'open', level: step.level, round: step.round },
        data: next ? { level: next.level, round: next.round, levelStartedAt: now } : { status: 'exhausted' },
      });
      if (!row) return undefined;
      const nextLevel = next ? levels[next.level - 1] : undefined;
      if (next && nextLevel) await this.writePages(tx, row, nextLevel, next, now);
      // A repeat of the same level is not news; a level that ran out is.
      const deliveryIds =
        next?.level === step.level
          ? []
          : await recordEvent(tx, {
              organizationId: row.organizationId,
              type: 'escalation.level_exhausted',
              data: { ...escalationEventData(row), exhaustedLevel: step.level, final: next === undefined },
              now,
            });
      return { row, deliveryIds };
    });
    if (!moved) return;
    this.#logger.info(
      { escalationId: escalation.id, from: step, to: next ?? 'exhausted' },
      next ? 'nobody acknowledged: paging on' : 'nobody acknowledged at any level: escalation exhausted',
    );
    await this.#deps.webhooks.dispatch(moved.deliveryIds);
    if (next) await this.dispatch(moved.row, levels);
  }

  async #sendPage(pageId: string, retryCount: number): Promise<void> {
    const { prisma } = this.#deps;
    const page = await prisma.page.findUnique({
      where: { id: pageId },
      include: { escalation: { include: { household: { select: { name: true } } } }, staff: true },
    });
    if (page?.status !== 'queued') return;
    if (page.escalation.status !== 'open') {
      await prisma.page.updateMany({ where: { id: pageId, status: 'queued' }, data: { status: 'cancelled' } });
      return;
    }
    await prisma.page.update({ where: { id: pageId }, data: { attempts: { increment: 1 } } });
    try {
      const sid = await this.#deliver(page);
      await prisma.page.update({
        where: { id: pageId },
        data: { status: 'sent', providerSid: sid, error: null, errorCode: null },
      });
      this.#deps.metrics?.pageSent(page.channel);
      this.#logger.info({ pageId, escalationId: page.escalationId, channel: page.channel }, 'page sent');
    } catch (error) {
      const failure =
        error instanceof PageDeliveryError
          ? error
          : new PageDeliveryError(error instanceof Error ? error.message : String(error), { transient: true });
      const retrying = failure.transient && retryCount < PAGE_RETRY_LIMIT;
      await prisma.page.update({
        where: { id: pageId },
        data: {
          error: failure.message,
          errorCode: failure.twilioCode ?? null,
          ...(retrying ? {} : { status: 'failed' }),
        },
      });
      if (retrying) throw failure; // the queue tries again, with backoff
      this.#logger.warn({ pageId, escalationId: page.escalationId, err: failure }, 'page failed for good');
      await this.#advanceIfNobodyReachable(page.escalation, page.idempotencyKey);
    }
  }

  /** Every page of the level failed for good: waiting out its timeout would only lose time. */
  async #advanceIfNobodyReachable(escalation: Escalation, pageKey: string): Promise<void> {
    const [escalationId, level, round] = pageKey.split(':');
    const step = { escalationId: escalationId ?? escalation.id, level: Number(level), round: Number(round) };
    const pending = await this.#deps.prisma.page.count({
      where: { idempotencyKey: { startsWith: `${stepKey(step)}:` }, status: { in: ['queued', 'sent', 'delivered'] } },
    });
    if (pending === 0) await this.advance(step);
  }

  /** Sends one page; resolves with the provider's id (Twilio's SID, or the webhook message id). */
  async #deliver(page: PageWithContext): Promise<string> {
    const { pager, publicUrl, secret } = this.#deps;
    const { escalation, staff } = page;
    if (!staff) throw permanent('The person paged was removed from the on-call staff.');
    if (page.channel === 'webhook') {
      if (!staff.webhookUrl || !staff.webhookSecretEncrypted) {
        throw permanent(`${staff.name} has no webhook URL: add one to page them by webhook.`);
      }
      if (!secret) throw permanent('The server has no secret key to sign webhooks with: set HEARTH_SECRET_KEY.');
      const messageId = `page_${page.id}`;
      const attempt = await deliverWebhook({
        url: staff.webhookUrl,
        secret: secret.box.open(staff.webhookSecretEncrypted),
        messageId,
        payload: webhookPayload({
          type: PAGE_EVENT_TYPE,
          data: { ...escalationEventData(escalation), summary: escalation.summary, ackCode: escalation.ackCode },
          timestamp: page.createdAt,
        }),
      });
      if (!attempt.ok) {
        throw new PageDeliveryError(`${staff.name}'s webhook did not take the page: ${attempt.error}`, {
          status: attempt.status,
          transient: attempt.retryable,
        });
      }
      return messageId;
    }
    if (!pager) {
      throw permanent('Twilio paging is not set up: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER.');
    }
    if (!staff.phone) throw permanent(`${staff.name} has no phone number: add one to page them by SMS or call.`);
    const headline = `${escalation.severity.toUpperCase()} escalation, ${escalation.household.name}: ${escalation.reason}`;
    if (page.channel === 'sms') {
      const signed = secret ? ackLinkToken(secret.key, { escalationId: escalation.id, staffId: staff.id }) : undefined;
      const link =
        publicUrl && signed
          ? new URL(`${ACK_LINK_PATH}/${escalation.id}?staff=${staff.id}&token=${signed}`, publicUrl).href
          : undefined;
      // The link ends the message: a full stop after it would be taken into it by some phones.
      const ack = `Reply ACK ${escalation.ackCode} to acknowledge (add any instructions after the code).${link ? `\nOr open: ${link}` : ''}`;
      const room = SMS_BODY_MAX_CHARS - headline.length - ack.length - 20;
      const summary = escalation.summary ? `\n${clip(escalation.summary, room)}` : '';
      const { sid } = await pager.sendSms({ to: staff.phone, body: `Hearth: ${headline}${summary}\n${ack}` });
      return sid;
    }
    if (!publicUrl) throw permanent('Paging calls need PUBLIC_URL, where Twilio posts the keypress that acknowledges.');
    const spoken = clip(
      `This is Hearth with a page. ${headline}. ${escalation.summary ?? ''}`.trim(),
      PAGE_SUMMARY_MAX_CHARS,
    );
    const actionUrl = new URL(`${PAGE_KEYPRESS_PATH}?page=${page.id}`, publicUrl).href;
    const { sid } = await pager.placeCall({ to: staff.phone, twiml: pageTwiml({ summary: spoken, actionUrl }) });
    return sid;
  }
}

type PageWithContext = Prisma.PageGetPayload<{
  include: { escalation: { include: { household: { select: { name: true } } } }; staff: true };
}>;

/** A policy row's levels, as the admin API validated them on the way in (none if unreadable). */
export function policyLevels(levels: unknown): EscalationLevel[] {
  const parsed = escalationLevelsSchema.safeParse(levels);
  return parsed.success ? parsed.data : [];
}

function stepKey(step: LevelStep): string {
  return `${step.escalationId}:${step.level}:${step.round}`;
}

function permanent(message: string): PageDeliveryError {
  return new PageDeliveryError(message, { transient: false });
}

function clip(text: string, max: number): string {
  if (max <= 1) return '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
