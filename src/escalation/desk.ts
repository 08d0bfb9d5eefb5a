/**
 * The escalation desk: where an escalation starts (the agent's `escalate` tool), where every
 * acknowledgement arrives (an admin key, a signed link, an SMS reply, a keypress on a paging
 * call), and the durable jobs in between (pages, level timeouts, webhook deliveries).
 *
 * @example
 * const desk = createEscalationDesk({ prisma, memory, queue, logger, pager, publicUrl, secret });
 * await desk.registerJobs(); // after queue.start()
 * await desk.recover(); // re-queues what a restart interrupted
 * const session = new AgentSession({ ..., extraTools: [desk.tool] });
 */
import { z } from 'zod';
import type { AgentTool } from '../agent/index.js';
import type { AckChannel, Escalation, PrismaClient, Severity } from '../db/index.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { JobQueue } from '../jobs/index.js';
import type { Logger } from '../logger.js';
import type { MemoryEngine, SessionScope } from '../memory/index.js';
import type { Metrics } from '../metrics.js';
import type { SecretBox } from '../secrets.js';
import { type AckOutcome, acknowledgeEscalation, validAckLinkToken } from './acknowledgements.js';
import { escalationEventData, recordEvent, WebhookDeliveries } from './events.js';
import { describePages, newAckCode, type PagePlan, Paging, policyLevels } from './paging.js';
import type { TwilioPager } from './twilio-pager.js';

export const ESCALATE_TOOL = 'escalate';
/** The digit a paged person presses on the call to acknowledge. */
export const ACK_DIGIT = '1';
/** Of the call so far, what a page carries: the newest turns, within this many characters. */
const SUMMARY_MAX_CHARS = 600;
const SUMMARY_TURNS = 12;
const MAX_REASON_CHARS = 500;

const escalateArgumentsSchema = z.object({
  severity: z.enum(['low', 'medium', 'high', 'critical']),
  reason: z.string().trim().min(1).max(MAX_REASON_CHARS),
});

/** `ACK 482193`, optionally followed by instructions: "ACK 482193 call 999 if it worsens". */
const SMS_ACK_PATTERN = /^\s*ack\s+(\d{6})\b[\s,.:;-]*(.*)$/is;

export interface EscalationDeskDeps {
  prisma: PrismaClient;
  memory: Pick<MemoryEngine, 'transcript'>;
  queue: JobQueue;
  logger: Logger;
  /** Twilio, when TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER are set. */
  pager: TwilioPager | undefined;
  /** PUBLIC_URL: where acknowledgement links and paging calls' keypresses come back. */
  publicUrl: string | undefined;
  /** The server's secret key (signs acknowledgement links) and the box it keys (webhook secrets). */
  secret: { key: string; box: SecretBox } | undefined;
  metrics?: Metrics;
}

/** What the escalate tool did, in words for the model to pass on to the caller. */
export interface EscalateResult {
  escalation: Escalation;
  /** False when this call already had an open escalation: nobody was paged again. */
  created: boolean;
  message: string;
}

export class EscalationDesk {
  readonly #deps: EscalationDeskDeps;
  readonly #webhooks: WebhookDeliveries;
  readonly #paging: Paging;
  readonly #logger: Logger;

  constructor(deps: EscalationDeskDeps) {
    this.#deps = deps;
    this.#logger = deps.logger.child({ component: 'escalation' });
    this.#webhooks = new WebhookDeliveries({ ...deps, box: deps.secret?.box });
    this.#paging = new Paging({ ...deps, webhooks: this.#webhooks });
  }

  /** Seals secrets for storage (webhook signing secrets); undefined when the server has no secret key. */
  get box(): SecretBox | undefined {
    return this.#deps.secret?.box;
  }

  /** Declares and works the page, timeout and webhook jobs; call once the queue is started. */
  async registerJobs(): Promise<void> {
    const { queue } = this.#deps;
    const [sendPage, levelTimeout] = this.#paging.jobTypes;
    await Promise.all([queue.register(sendPage), queue.register(levelTimeout), queue.register(this.#webhooks.jobType)]);
  }

  /**
   * Re-queues what a crash or restart may have interrupted: each open escalation's unsent pages
   * and its timeout (at its original time), and every pending webhook delivery. Nothing already
   * sent is sent again.
   */
  async recover(): Promise<void> {
    const { prisma } = this.#deps;
    // Usually there is nothing to resume: one query says so, before any per-row work.
    const [waiting] = await prisma.$queryRaw<{ open: number; pending: number }[]>`
      SELECT (SELECT count(*) FROM escalations WHERE status = 'open')::int AS open,
             (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending')::int AS pending`;
    if (!waiting?.open && !waiting?.pending) return;
    const open = await prisma.escalation.findMany({ where: { status: 'open' } });
    for (const escalation of open) await this.#paging.dispatch(escalation);
    const deliveries = await this.#webhooks.recover();
    if (open.length + deliveries > 0) {
      this.#logger.info({ escalations: open.length, deliveries }, 'resumed paging and webhook deliveries');
    }
  }

  /** Queues new webhook deliveries (written by a change made elsewhere, e.g. the admin API). */
  dispatchWebhooks(deliveryIds: readonly string[]): Promise<void> {
    return this.#webhooks.dispatch(deliveryIds);
  }

  /**
   * After an acknowledgement is written (here or by the admin API): queues its webhooks and
   * counts and logs it.
   */
  async announceAcknowledgement(
    input: { escalationId: string; via: AckChannel },
    outcome: Pick<AckOutcome, 'first' | 'deliveryIds'>,
  ): Promise<void> {
    await this.#webhooks.dispatch(outcome.deliveryIds);
    if (outcome.first) this.#deps.metrics?.acknowledged(input.via);
    this.#logger.info(
      { escalationId: input.escalationId, via: input.via, first: outcome.first },
      outcome.first ? 'escalation acknowledged' : 'later acknowledgement recorded',
    );
  }

  /** Sends a webhook delivery again. */
  replayDelivery(input: { organizationId: string; deliveryId: string }): Promise<void> {
    return this.#webhooks.replay(input);
  }

  /** The agent's `escalate` tool, for phone calls and text conversations alike. */
  get tool(): AgentTool {
    return {
      definition: {
        name: ESCALATE_TOOL,
        description:
          "Get a person (the household's on-call staff) to help now: pages them by SMS, phone or webhook, level " +
          'by level, until someone acknowledges. Use it when the household instructions say a situation needs a ' +
          'person, or when someone may be in danger. Calling it again in the same call does not page twice: it ' +
          'tells you where the escalation stands. Tell the caller who is being contacted.',
        parameters: {
          type: 'object',
          properties: {
            severity: { type: 'string', enum: ['low', 'medium', 'high', 'critical'], description: 'How urgent' },
            reason: { type: 'string', description: 'What is happening, in one sentence, for the person paged' },
          },
          required: ['severity', 'reason'],
          additionalProperties: false,
        },
      },
      run: async ({ arguments: text, scope }) => {
        let input: unknown;
        try {
          input = JSON.parse(text);
        } catch {
          return { ok: false, output: 'The escalate arguments were not JSON: send {"severity": …, "reason": …}.' };
        }
        const parsed = escalateArgumentsSchema.safeParse(input);
        if (!parsed.success) {
          return { ok: false, output: `Invalid escalate arguments: ${z.prettifyError(parsed.error)}` };
        }
        const result = await this.escalate(scope, parsed.data);
        return { ok: true, output: result.message };
      },
    };
  }

  /**
   * Opens an escalation for the call in `scope` and pages level 1 of the household's policy (its
   * own, else the organization's). A call with an escalation still open or acknowledged gets
   * that one back, and nobody is paged twice.
   */
  async escalate(scope: SessionScope, input: { severity: Severity; reason: string }): Promise<EscalateResult> {
    const { prisma } = this.#deps;
    if (scope.callId) {
      const existing = await prisma.escalation.findFirst({
        where: { callId: scope.callId, status: { in: ['open', 'acknowledged'] } },
        orderBy: { createdAt: 'desc' },
      });
      if (existing) return { escalation: existing, created: false, message: await this.#progress(existing) };
    }
    const [summary, policy] = await Promise.all([
      this.#summary(scope),
      prisma.escalationPolicy.findFirst({
        where: {
          organizationId: scope.organizationId,
          OR: [{ householdId: scope.householdId }, { householdId: null }],
        },
        // The household's own policy before the organization's default.
        orderBy: [{ householdId: { sort: 'asc', nulls: 'last' } }, { createdAt: 'desc' }],
      }),
    ]);
    const levels = policyLevels(policy?.levels);
    const first = levels[0];
    const now = new Date();
    const { escalation, pages, deliveryIds } = await prisma.$transaction(async (tx) => {
      const escalation = await tx.escalation.create({
        data: {
          organizationId: scope.organizationId,
          householdId: scope.householdId,
          callId: scope.callId,
          policyId: policy?.id ?? null,
          severity: input.severity,
          reason: input.reason,
          summary,
          ackCode: newAckCode(),
          ...(first ? { level: 1, round: 0, levelStartedAt: now } : { status: 'exhausted' }),
          createdAt: now,
        },
      });
      const pages = first ? await this.#paging.writePages(tx, escalation, first, { level: 1, round: 0 }, now) : [];
      const deliveryIds = await recordEvent(tx, {
        organizationId: scope.organizationId,
        type: 'escalation.created',
        data: escalationEventData(escalation),
        now,
      });
      if (!first) {
        deliveryIds.push(
          ...(await recordEvent(tx, {
            organizationId: scope.organizationId,
            type: 'escalation.level_exhausted',
            data: { ...escalationEventData(escalation), exhaustedLevel: 0, final: true },
            now,
          })),
        );
      }
      return { escalation, pages, deliveryIds };
    });
    this.#logger.info(
      { escalationId: escalation.id, householdId: scope.householdId, severity: input.severity, pages: pages.length },
      'escalation opened',
    );
    await this.#webhooks.dispatch(deliveryIds);
    await this.#paging.dispatch(escalation, levels);
    return {
      escalation,
      created: true,
      message: this.#opened(escalation, levels.length, pages, first?.ackTimeoutSeconds),
    };
  }

  /** Acknowledges as a paged person; queues the `escalation.acknowledged` webhook. */
  async #acknowledge(input: {
    organizationId: string;
    escalationId: string;
    via: AckChannel;
    by: string;
    byName?: string;
    instructions?: string;
  }): Promise<AckOutcome> {
    const outcome = await acknowledgeEscalation(this.#deps.prisma, input);
    await this.announceAcknowledgement(input, outcome);
    return outcome;
  }

  /**
   * An SMS reply `ACK <code> [instructions]` from a paged person's phone. Answers the text to
   * reply with; a code that is not one of this number's pages acknowledges nothing.
   */
  async acknowledgeBySms(input: { from: string; body: string }): Promise<string> {
    const match = SMS_ACK_PATTERN.exec(input.body);
    if (!match?.[1]) return 'To acknowledge a page, reply ACK and its 6-digit code, e.g. ACK 482193.';
    const page = await this.#deps.prisma.page.findFirst({
      where: { escalation: { ackCode: match[1] }, staff: { phone: input.from } },
      orderBy: { createdAt: 'desc' },
      include: { staff: true },
    });
    if (!page?.staff) return `No page with code ${match[1]} was sent to this number.`;
    const instructions = match[2]?.trim() || undefined;
    const outcome = await this.#acknowledge({
      organizationId: page.organizationId,
      escalationId: page.escalationId,
      via: 'sms',
      by: page.staff.id,
      byName: page.staff.name,
      ...(instructions ? { instructions } : {}),
    });
    return this.#ackReply(outcome, instructions);
  }

  /** The keypress on a paging call; answers what to say before hanging up. */
  async acknowledgeByKeypress(input: { pageId: string; digits: string }): Promise<string> {
    const page = await this.#deps.prisma.page.findUnique({ where: { id: input.pageId }, include: { staff: true } });
    if (!page?.staff || page.channel !== 'voice') throw new NotFoundError(`No paging call ${input.pageId}.`);
    if (input.digits !== ACK_DIGIT) return `That key does not acknowledge. Press ${ACK_DIGIT} to acknowledge.`;
    const outcome = await this.#acknowledge({
      organizationId: page.organizationId,
      escalationId: page.escalationId,
      via: 'voice',
      by: page.staff.id,
      byName: page.staff.name,
    });
    return this.#ackReply(outcome);
  }

  /** The escalation a signed link names, once its token checks out; `ForbiddenError` otherwise. */
  async escalationForLink(input: { escalationId: string; staffId: string; token: string }) {
    const { secret, prisma } = this.#deps;
    const valid = secret !== undefined && validAckLinkToken(secret.key, input, input.token);
    const staff = valid ? await prisma.onCallStaff.findUnique({ where: { id: input.staffId } }) : undefined;
    const escalation = staff
      ? await prisma.escalation.findFirst({
          where: { id: input.escalationId, organizationId: staff.organizationId },
          include: { household: { select: { name: true } } },
        })
      : undefined;
    if (!staff || !escalation) {
      throw new ForbiddenError('This acknowledgement link is not valid (or has expired): reply to the SMS instead.');
    }
    return { staff, escalation };
  }

  /** Acknowledges by a signed link from a page, as the person it was sent to. */
  async acknowledgeByLink(input: {
    escalationId: string;
    staffId: string;
    token: string;
    instructions?: string;
  }): Promise<AckOutcome> {
    const { staff, escalation } = await this.escalationForLink(input);
    return this.#acknowledge({
      organizationId: escalation.organizationId,
      escalationId: escalation.id,
      via: 'link',
      by: staff.id,
      byName: staff.name,
      ...(input.instructions ? { instructions: input.instructions } : {}),
    });
  }

  #ackReply(outcome: AckOutcome, instructions?: string): string {
    const { escalation } = outcome;
    const kept = instructions ? ' Your instructions are kept for the next call.' : '';
    if (outcome.first) return `Acknowledged: ${escalation.reason}. Paging has stopped. Thank you.${kept}`;
    const who = escalation.acknowledgedBy ? ` by ${escalation.acknowledgedBy}` : '';
    return `Already ${escalation.status}${who}; your acknowledgement is recorded.${kept}`;
  }

  /** The newest turns of the call, oldest first, within `SUMMARY_MAX_CHARS` (the newest kept). */
  async #summary(scope: SessionScope): Promise<string | null> {
    if (!scope.callId) return null;
    const turns = await this.#deps.memory.transcript({
      householdId: scope.householdId,
      callId: scope.callId,
      roles: ['user', 'assistant'],
      limit: SUMMARY_TURNS,
    });
    const lines: string[] = [];
    let size = 0;
    for (const turn of [...turns].reverse()) {
      const line = `${turn.role === 'user' ? 'Caller' : 'Agent'}: ${turn.content.replace(/\s+/g, ' ').trim()}`;
      if (size + line.length > SUMMARY_MAX_CHARS) break;
      lines.unshift(line);
      size += line.length + 1;
    }
    return lines.length > 0 ? lines.join('\n') : null;
  }

  #opened(escalation: Escalation, levels: number, pages: PagePlan[], timeoutSeconds: number | undefined): string {
    if (levels === 0) {
      return (
        'No escalation policy is set up for this household, so nobody could be paged; the escalation is recorded ' +
        'for the care team. If anyone may be in danger, tell the caller to call emergency services now.'
      );
    }
    const after = levels > 1 ? ` If nobody acknowledges within ${minutes(timeoutSeconds ?? 0)}, level 2 is paged.` : '';
    if (pages.length === 0) {
      return `Escalation opened (${escalation.severity}). Nobody is on call for level 1, so the next level is being paged.`;
    }
    return (
      `Escalation opened (${escalation.severity}). Paging level 1 of ${levels} now: ${describePages(pages)}.${after} ` +
      'Tell the caller who is being contacted.'
    );
  }

  async #progress(escalation: Escalation): Promise<string> {
    if (escalation.status === 'acknowledged') {
      return `This call's escalation was acknowledged by ${escalation.acknowledgedBy ?? 'the on-call staff'}; nobody more is paged.`;
    }
    const pages = await this.#deps.prisma.page.findMany({
      where: { escalationId: escalation.id, level: escalation.level },
      include: { staff: { select: { name: true } } },
    });
    const plans = pages.map((page) => ({ staffName: page.staff?.name ?? 'a removed contact', channel: page.channel }));
    return (
      `This call already has an open escalation; nobody is paged twice. Level ${escalation.level} is paged` +
      `${plans.length > 0 ? `: ${describePages(plans)}` : ''}; no acknowledgement yet.`
    );
  }
}

function minutes(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? '' : 's'}` : `${seconds} seconds`;
}

/** The desk over the database, the queue and (when set up) Twilio and the server's secret key. */
export function createEscalationDesk(deps: EscalationDeskDeps): EscalationDesk {
  return new EscalationDesk(deps);
}
