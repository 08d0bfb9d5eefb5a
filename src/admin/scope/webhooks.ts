/** The organization's webhook endpoints (their secrets sealed) and the log of every delivery. */
import type { Prisma } from '../../db/index.js';
import { NotFoundError, UnavailableError } from '../../errors.js';
import { newSealedWebhookSecret } from '../../escalation/index.js';
import { type Keyset, keysetOrder, keysetPage, keysetWhere, type Page } from '../pagination.js';
import type {
  DeliveryDetailView,
  DeliveryListQuery,
  DeliveryView,
  EndpointCreate,
  EndpointUpdate,
  EndpointView,
} from '../webhook-schemas.js';
import { guarded } from './guards.js';
import { recordAudit } from './principal.js';
import { ScopedRepository } from './repository.js';

const missingEndpoint = (endpointId: string) => `No webhook endpoint ${endpointId} in this organization.`;
const missingDelivery = (deliveryId: string) => `No webhook delivery ${deliveryId} in this organization.`;

function endpointView(row: Prisma.WebhookEndpointModel): EndpointView {
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.eventTypes,
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function deliveryView(row: Prisma.WebhookDeliveryModel): DeliveryView {
  return {
    id: row.id,
    endpointId: row.endpointId,
    eventType: row.eventType,
    messageId: `msg_${row.id}`,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? (row.nextAttemptAt?.toISOString() ?? null) : null,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
  };
}

export class Webhooks extends ScopedRepository {
  async listEndpoints(input: { limit: number; cursor?: Keyset | undefined }): Promise<Page<EndpointView>> {
    const rows = await this.prisma.webhookEndpoint.findMany({
      where: { organizationId: this.organizationId, ...keysetWhere('createdAt', input.cursor, 'asc') },
      orderBy: keysetOrder('createdAt', 'asc'),
      take: input.limit + 1,
    });
    const page = keysetPage(rows, input.limit, (row) => row.createdAt);
    return { data: page.data.map(endpointView), nextCursor: page.nextCursor };
  }

  async createEndpoint(input: { endpoint: EndpointCreate }): Promise<EndpointView & { secret: string }> {
    const { secret, sealed } = newSealedWebhookSecret(this.escalation?.box);
    const row = await this.prisma.$transaction(async (tx) => {
      const endpoint = await tx.webhookEndpoint.create({
        data: { ...input.endpoint, secretEncrypted: sealed, organizationId: this.organizationId },
      });
      await recordAudit(tx, this.principal, {
        action: 'webhook_endpoint.create',
        resourceType: 'webhook_endpoint',
        resourceId: endpoint.id,
      });
      return endpoint;
    });
    return { ...endpointView(row), secret };
  }

  async updateEndpoint(input: { endpointId: string; changes: EndpointUpdate }): Promise<EndpointView> {
    const { endpointId, changes } = input;
    const row = await this.prisma.$transaction(async (tx) => {
      const endpoint = await guarded(
        () =>
          tx.webhookEndpoint.update({ where: { id: endpointId, organizationId: this.organizationId }, data: changes }),
        { notFound: missingEndpoint(endpointId) },
      );
      await recordAudit(tx, this.principal, {
        action: 'webhook_endpoint.update',
        resourceType: 'webhook_endpoint',
        resourceId: endpointId,
        details: { fields: Object.keys(changes) },
      });
      return endpoint;
    });
    return endpointView(row);
  }

  async deleteEndpoint(input: { endpointId: string }): Promise<void> {
    const { endpointId } = input;
    await this.prisma.$transaction(async (tx) => {
      await guarded(
        () => tx.webhookEndpoint.delete({ where: { id: endpointId, organizationId: this.organizationId } }),
        {
          notFound: missingEndpoint(endpointId),
        },
      );
      await recordAudit(tx, this.principal, {
        action: 'webhook_endpoint.delete',
        resourceType: 'webhook_endpoint',
        resourceId: endpointId,
      });
    });
  }

  /** Deliveries, newest first. */
  async listDeliveries(input: DeliveryListQuery): Promise<Page<DeliveryView>> {
    const rows = await this.prisma.webhookDelivery.findMany({
      where: {
        organizationId: this.organizationId,
        ...(input.endpointId ? { endpointId: input.endpointId } : {}),
        ...(input.status ? { status: input.status } : {}),
        ...keysetWhere('createdAt', input.cursor, 'desc'),
      },
      orderBy: keysetOrder('createdAt', 'desc'),
      take: input.limit + 1,
    });
    const page = keysetPage(rows, input.limit, (row) => row.createdAt);
    return { data: page.data.map(deliveryView), nextCursor: page.nextCursor };
  }

  /** One delivery with its body and every attempt, oldest first. */
  async getDelivery(input: { deliveryId: string }): Promise<DeliveryDetailView> {
    const row = await this.prisma.webhookDelivery.findFirst({
      where: { id: input.deliveryId, organizationId: this.organizationId },
      include: { log: { orderBy: { createdAt: 'asc' } } },
    });
    if (!row) throw new NotFoundError(missingDelivery(input.deliveryId));
    return {
      ...deliveryView(row),
      payload: row.payload,
      log: row.log.map((attempt) => ({
        statusCode: attempt.statusCode,
        latencyMs: attempt.latencyMs,
        error: attempt.error,
        createdAt: attempt.createdAt.toISOString(),
      })),
    };
  }

  /** Sends a delivery again now (the same `webhook-id`); 409 while it is still pending. */
  async replayDelivery(input: { deliveryId: string }): Promise<DeliveryView> {
    const exists = await this.prisma.webhookDelivery.findFirst({
      where: { id: input.deliveryId, organizationId: this.organizationId },
      select: { id: true },
    });
    if (!exists) throw new NotFoundError(missingDelivery(input.deliveryId));
    if (!this.escalation) throw new UnavailableError('Webhook deliveries are not running on this server.');
    await this.escalation.replayDelivery({ organizationId: this.organizationId, deliveryId: input.deliveryId });
    await recordAudit(this.prisma, this.principal, {
      action: 'webhook_delivery.replay',
      resourceType: 'webhook_delivery',
      resourceId: input.deliveryId,
    });
    const row = await this.prisma.webhookDelivery.findFirstOrThrow({
      where: { id: input.deliveryId, organizationId: this.organizationId },
    });
    return deliveryView(row);
  }
}
