/** Escalations of one organization: the episodes, who acknowledged, the pages sent, and resolving them. */
import type { Escalation, Prisma } from '../../db/index.js';
import { NotFoundError } from '../../errors.js';
import { acknowledgeEscalation, resolveEscalation } from '../../escalation/index.js';
import type { EscalationDetailOut, EscalationListQuery, EscalationOut, ResolveBody } from '../escalation-schemas.js';
import { keysetOrder, keysetPage, keysetWhere, type Page } from '../pagination.js';
import { actorOf, recordAudit } from './principal.js';
import { ScopedRepository } from './repository.js';

const missing = (escalationId: string) => `No escalation ${escalationId} in this organization.`;

function view(row: Escalation): EscalationOut {
  return {
    id: row.id,
    householdId: row.householdId,
    callId: row.callId,
    policyId: row.policyId,
    severity: row.severity,
    reason: row.reason,
    summary: row.summary,
    status: row.status,
    level: row.level,
    acknowledgedBy: row.acknowledgedBy,
    acknowledgedAt: row.acknowledgedAt?.toISOString() ?? null,
    outcome: row.outcome,
    instructions: row.instructions,
    resolvedAt: row.resolvedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

function pageView(row: Prisma.PageModel): EscalationDetailOut['pages'][number] {
  return {
    id: row.id,
    staffId: row.staffId,
    level: row.level,
    channel: row.channel,
    status: row.status,
    providerSid: row.providerSid,
    error: row.error,
    errorCode: row.errorCode,
    attempts: row.attempts,
    createdAt: row.createdAt.toISOString(),
  };
}

export class Escalations extends ScopedRepository {
  /** A page of escalations, newest first. */
  async list(input: EscalationListQuery): Promise<Page<EscalationOut>> {
    const rows = await this.prisma.escalation.findMany({
      where: {
        organizationId: this.organizationId,
        ...(input.status ? { status: input.status } : {}),
        ...(input.householdId ? { householdId: input.householdId } : {}),
        ...keysetWhere('createdAt', input.cursor, 'desc'),
      },
      orderBy: keysetOrder('createdAt', 'desc'),
      take: input.limit + 1,
    });
    const page = keysetPage(rows, input.limit, (row) => row.createdAt);
    return { data: page.data.map(view), nextCursor: page.nextCursor };
  }

  /** One escalation with its acknowledgements and pages, oldest first. */
  async get(input: { escalationId: string }): Promise<EscalationDetailOut> {
    const row = await this.prisma.escalation.findFirst({
      where: { id: input.escalationId, organizationId: this.organizationId },
      include: { acks: { orderBy: { createdAt: 'asc' } }, pages: { orderBy: { createdAt: 'asc' } } },
    });
    if (!row) throw new NotFoundError(missing(input.escalationId));
    return {
      ...view(row),
      acks: row.acks.map((ack) => ({
        via: ack.via,
        by: ack.by,
        first: ack.first,
        createdAt: ack.createdAt.toISOString(),
      })),
      pages: row.pages.map(pageView),
    };
  }

  /** Acknowledges as the acting key; the first acknowledgement stops the paging, later ones are recorded. */
  async acknowledge(input: {
    escalationId: string;
    instructions?: string | undefined;
  }): Promise<{ first: boolean; escalation: EscalationOut }> {
    const outcome = await acknowledgeEscalation(this.prisma, {
      organizationId: this.organizationId,
      escalationId: input.escalationId,
      via: 'admin',
      by: actorOf(this.principal),
      ...(input.instructions ? { instructions: input.instructions } : {}),
      withinWrite: (tx) =>
        recordAudit(tx, this.principal, {
          action: 'escalation.acknowledge',
          resourceType: 'escalation',
          resourceId: input.escalationId,
        }),
    });
    await this.escalation?.announceAcknowledgement({ escalationId: input.escalationId, via: 'admin' }, outcome);
    return { first: outcome.first, escalation: view(outcome.escalation) };
  }

  /** Resolves with an outcome and, optionally, instructions for next time. */
  async resolve(input: { escalationId: string; resolution: ResolveBody }): Promise<EscalationOut> {
    const { escalation: row, deliveryIds } = await resolveEscalation(this.prisma, {
      organizationId: this.organizationId,
      escalationId: input.escalationId,
      ...input.resolution,
      withinWrite: (tx) =>
        recordAudit(tx, this.principal, {
          action: 'escalation.resolve',
          resourceType: 'escalation',
          resourceId: input.escalationId,
        }),
    });
    await this.escalation?.dispatchWebhooks(deliveryIds);
    return view(row);
  }
}
