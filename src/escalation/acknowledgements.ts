/**
 * Acknowledging and resolving an escalation. The first acknowledgement wins: it stops the paging
 * chain (the chain pages only while the escalation is `open`). Every later one, by any channel,
 * is recorded, not refused: two nurses pressing 1 at once is a normal night. A responder resolves
 * the escalation with an outcome, and may leave instructions for the next time, which the
 * household's context carries.
 */
import type { AckChannel, Escalation, Prisma, PrismaClient } from '../db/index.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { signToken, verifyToken } from '../signed-tokens.js';
import { escalationEventData, recordEvent } from './events.js';

/** How long the link in a page acknowledges: long enough for a page read the next morning. */
export const ACK_LINK_TTL_SECONDS = 7 * 86_400;
const ACK_LINK_CONTEXT = 'hearth escalation ack v1';

const missing = (escalationId: string) => `No escalation ${escalationId} in this organization.`;

/** Who a link was sent to, for which escalation: the link acknowledges as that person. */
export interface AckLinkSubject {
  escalationId: string;
  staffId: string;
}

/** The token in the acknowledgement link of a page to `staffId`. */
export function ackLinkToken(secret: string, subject: AckLinkSubject, now?: number): string {
  return signToken({
    secret,
    context: ACK_LINK_CONTEXT,
    subject: `${subject.escalationId}/${subject.staffId}`,
    ttlSeconds: ACK_LINK_TTL_SECONDS,
    now,
  });
}

/** Whether `token` is a live acknowledgement link for that escalation and person. */
export function validAckLinkToken(secret: string, subject: AckLinkSubject, token: string, now?: number): boolean {
  return verifyToken({
    secret,
    context: ACK_LINK_CONTEXT,
    subject: `${subject.escalationId}/${subject.staffId}`,
    token,
    now,
  });
}

export interface AckOutcome {
  /** True for the acknowledgement that stopped the chain; false for any after it. */
  first: boolean;
  escalation: Escalation;
  /** Webhook deliveries the change wrote (`escalation.acknowledged`), for the caller to dispatch. */
  deliveryIds: string[];
}

/** Runs inside the write's transaction once it is made (an operator's audit row): both commit, or neither. */
export type WithinEscalationWrite = (tx: Prisma.TransactionClient, escalation: Escalation) => Promise<void>;

/** Records an acknowledgement; the first for an open escalation acknowledges it. */
export async function acknowledgeEscalation(
  prisma: PrismaClient,
  input: {
    organizationId: string;
    escalationId: string;
    via: AckChannel;
    /** A staff id, an API key id, or the number an SMS came from. */
    by: string;
    /** How the household's context names them (a staff member's name); default `by`. */
    byName?: string;
    /** The responder's instructions for next time; kept on the escalation whoever acknowledged first. */
    instructions?: string;
    now?: Date;
    withinWrite?: WithinEscalationWrite;
  },
): Promise<AckOutcome> {
  const { organizationId, escalationId, via, by, instructions } = input;
  const now = input.now ?? new Date();
  return prisma.$transaction(async (tx) => {
    const [won] = await tx.escalation.updateManyAndReturn({
      where: { id: escalationId, organizationId, status: 'open' },
      data: { status: 'acknowledged', acknowledgedBy: input.byName ?? by, acknowledgedAt: now },
    });
    let escalation = won ?? (await tx.escalation.findFirst({ where: { id: escalationId, organizationId } }));
    if (!escalation) throw new NotFoundError(missing(escalationId));
    if (instructions) escalation = await tx.escalation.update({ where: { id: escalationId }, data: { instructions } });
    await tx.escalationAck.create({
      data: { organizationId, escalationId, via, by, first: won !== undefined, createdAt: now },
    });
    // Pages still waiting for their turn are not sent once someone has answered.
    if (won) await tx.page.updateMany({ where: { escalationId, status: 'queued' }, data: { status: 'cancelled' } });
    const deliveryIds = won
      ? await recordEvent(tx, {
          organizationId,
          type: 'escalation.acknowledged',
          data: { ...escalationEventData(escalation), via },
          now,
        })
      : [];
    await input.withinWrite?.(tx, escalation);
    return { first: won !== undefined, escalation, deliveryIds };
  });
}

/**
 * Resolves an escalation (open, acknowledged or exhausted) with its outcome and, optionally, the
 * responder's instructions for next time. `ConflictError` when it is resolved already.
 */
export async function resolveEscalation(
  prisma: PrismaClient,
  input: {
    organizationId: string;
    escalationId: string;
    outcome: string;
    instructions?: string;
    now?: Date;
    withinWrite?: WithinEscalationWrite;
  },
): Promise<{ escalation: Escalation; deliveryIds: string[] }> {
  const { organizationId, escalationId } = input;
  const now = input.now ?? new Date();
  return prisma.$transaction(async (tx) => {
    const [resolved] = await tx.escalation.updateManyAndReturn({
      where: { id: escalationId, organizationId, status: { not: 'resolved' } },
      data: {
        status: 'resolved',
        resolvedAt: now,
        outcome: input.outcome,
        ...(input.instructions === undefined ? {} : { instructions: input.instructions }),
      },
    });
    if (resolved) {
      await tx.page.updateMany({ where: { escalationId, status: 'queued' }, data: { status: 'cancelled' } });
      const deliveryIds = await recordEvent(tx, {
        organizationId,
        type: 'escalation.resolved',
        data: escalationEventData(resolved),
        now,
      });
      await input.withinWrite?.(tx, resolved);
      return { escalation: resolved, deliveryIds };
    }
    const existing = await tx.escalation.findFirst({ where: { id: escalationId, organizationId } });
    if (!existing) throw new NotFoundError(missing(escalationId));
    throw new ConflictError(
      `Escalation ${escalationId} is resolved already (${existing.outcome ?? 'no outcome given'}).`,
    );
  });
}
