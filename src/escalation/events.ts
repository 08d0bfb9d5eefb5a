/**
 * Escalation events for the organization's webhook endpoints. An event is written as one
 * `WebhookDelivery` per subscribed endpoint in the same transaction as the change it reports
 * (an outbox: the change and its event commit together, or neither), then sent by a durable job
 * that signs it (Standard Webhooks, `webhooks.ts`), logs every attempt, and schedules the next
 * one after a failure, over about a day. A restart re-queues whatever is still pending.
 */
import { z } from 'zod';
import type { Escalation, Prisma, PrismaClient } from '../db/index.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { JobQueue, JobType } from '../jobs/index.js';
import type { Logger } from '../logger.js';
import type { SecretBox } from '../secrets.js';
import {
  deliverWebhook,
  nextRetryDelayMs,
  type WebhookEventType,
  webhookPayload,
  webhookPayloadSchema,
} from './webhooks.js';

export const WEBHOOK_DELIVERY_JOB = 'webhook-delivery';

const deliveryJobSchema = z.object({
  deliveryId: z.uuid(),
  /** Attempts made before this one: a job for an attempt already made (a stale or replayed job) does nothing. */
  attempt: z.number().int().min(0),
});
type DeliveryJob = z.infer<typeof deliveryJobSchema>;

/** What an event says about an escalation: ids and the facts a receiver routes on, no transcript. */
export function escalationEventData(escalation: Escalation): Record<string, unknown> {
  return {
    escalationId: escalation.id,
    householdId: escalation.householdId,
    callId: escalation.callId,
    severity: escalation.severity,
    reason: escalation.reason,
    status: escalation.status,
    level: escalation.level,
    acknowledgedBy: escalation.acknowledgedBy,
    acknowledgedAt: escalation.acknowledgedAt?.toISOString() ?? null,
    outcome: escalation.outcome,
  };
}

/** Writes `type` for every enabled endpoint of the organization that subscribes to it; returns the deliveries' ids. */
export async function recordEvent(
  tx: Prisma.TransactionClient,
  input: { organizationId: string; type: WebhookEventType; data: Record<string, unknown>; now: Date },
): Promise<string[]> {
  const endpoints = await tx.webhookEndpoint.findMany({
    where: { organizationId: input.organizationId, enabled: true },
    select: { id: true, eventTypes: true },
  });
  const subscribed = endpoints.filter(({ eventTypes }) => eventTypes.length === 0 || eventTypes.includes(input.type));
  if (subscribed.length === 0) return [];
  const payload = webhookPayload({ type: input.type, data: input.data, timestamp: input.now });
  const rows = await tx.webhookDelivery.createManyAndReturn({
    data: subscribed.map((endpoint) => ({
      organizationId: input.organizationId,
      endpointId: endpoint.id,
      eventType: input.type,
      payload: payload as Prisma.InputJsonObject,
      nextAttemptAt: input.now,
    })),
    select: { id: true },
  });
  return rows.map((row) => row.id);
}

/** Sends, retries and replays the deliveries the outbox holds. */
export class WebhookDeliveries {
  readonly #prisma: PrismaClient;
  readonly #queue: JobQueue;
  readonly #box: SecretBox | undefined;
  readonly #logger: Logger;

  constructor(deps: { prisma: PrismaClient; queue: JobQueue; box: SecretBox | undefined; logger: Logger }) {
    this.#prisma = deps.prisma;
    this.#queue = deps.queue;
    this.#box = deps.box;
    this.#logger = deps.logger.child({ component: 'webhooks' });
  }

  /** The job type that makes one attempt (its retries are new jobs on the webhook schedule, not pg-boss's). */
  get jobType(): JobType<DeliveryJob> {
    return {
      name: WEBHOOK_DELIVERY_JOB,
      schema: deliveryJobSchema,
      policy: 'exclusive',
      handler: ({ data }) => this.#attempt(data),
    };
  }

  /** Queues the first attempt of each new delivery. */
  async dispatch(deliveryIds: readonly string[]): Promise<void> {
    await Promise.all(deliveryIds.map((deliveryId) => this.#send({ deliveryId, attempt: 0 }, 0)));
  }

  /** Re-queues every pending delivery at its scheduled time (after a restart, or a crash before a job was sent). */
  async recover(now = new Date()): Promise<number> {
    const pending = await this.#prisma.webhookDelivery.findMany({
      where: { status: 'pending' },
      select: { id: true, attempts: true, nextAttemptAt: true },
    });
    for (const delivery of pending) {
      const dueInMs = (delivery.nextAttemptAt?.getTime() ?? now.getTime()) - now.getTime();
      await this.#send({ deliveryId: delivery.id, attempt: delivery.attempts }, dueInMs);
    }
    return pending.length;
  }

  /** Sends a delivery again now, whatever became of it; 409 while it is still being delivered. */
  async replay(input: { organizationId: string; deliveryId: string }): Promise<void> {
    const [delivery] = await this.#prisma.webhookDelivery.updateManyAndReturn({
      where: { id: input.deliveryId, organizationId: input.organizationId, status: { not: 'pending' } },
      data: { status: 'pending', nextAttemptAt: new Date() },
    });
    if (!delivery) {
      const exists = await this.#prisma.webhookDelivery.findFirst({
        where: { id: input.deliveryId, organizationId: input.organizationId },
        select: { id: true },
      });
      if (!exists) throw new NotFoundError(`No webhook delivery ${input.deliveryId} in this organization.`);
      throw new ConflictError(`Webhook delivery ${input.deliveryId} is still being delivered; replay it once it ends.`);
    }
    await this.#send({ deliveryId: delivery.id, attempt: delivery.attempts }, 0);
  }

  async #send(job: DeliveryJob, delayMs: number): Promise<void> {
    await this.#queue.send({
      name: WEBHOOK_DELIVERY_JOB,
      data: job,
      singletonKey: `${job.deliveryId}:${job.attempt}`,
      startAfterSeconds: Math.max(0, Math.ceil(delayMs / 1000)),
    });
  }

  async #attempt({ deliveryId, attempt }: DeliveryJob): Promise<void> {
    // Claiming the attempt number first: of two jobs for one attempt, only one sends.
    const { count } = await this.#prisma.webhookDelivery.updateMany({
      where: { id: deliveryId, status: 'pending', attempts: attempt },
      data: { attempts: attempt + 1 },
    });
    if (count === 0) return;
    const delivery = await this.#prisma.webhookDelivery.findUniqueOrThrow({
      where: { id: deliveryId },
      include: { endpoint: true },
    });
    const { endpoint } = delivery;
    if (!endpoint.enabled || !this.#box) {
      const reason = endpoint.enabled
        ? 'the server has no secret key to sign with (HEARTH_SECRET_KEY)'
        : 'the endpoint is disabled';
      await this.#prisma.webhookDelivery.update({
        where: { id: deliveryId },
        data: { status: 'failed', lastError: `Not sent: ${reason}.`, nextAttemptAt: null },
      });
      return;
    }
    const result = await deliverWebhook({
      url: endpoint.url,
      secret: this.#box.open(endpoint.secretEncrypted),
      messageId: `msg_${delivery.id}`,
      // Stored as built by `webhookPayload`: the same body, and event time, on every attempt.
      payload: webhookPayloadSchema.parse(delivery.payload),
    });
    const delayMs =
      result.ok || !result.retryable ? null : nextRetryDelayMs(attempt + 1, { retryAfterMs: result.retryAfterMs });
    const status = result.ok ? 'succeeded' : delayMs === null ? 'failed' : 'pending';
    await this.#prisma.$transaction([
      this.#prisma.webhookAttempt.create({
        data: {
          organizationId: delivery.organizationId,
          deliveryId,
          statusCode: result.status ?? null,
          latencyMs: result.latencyMs,
          error: result.error ?? null,
        },
      }),
      this.#prisma.webhookDelivery.update({
        where: { id: deliveryId },
        data: {
          status,
          lastStatusCode: result.status ?? null,
          lastError: result.error ?? null,
          nextAttemptAt: delayMs === null ? null : new Date(Date.now() + delayMs),
        },
      }),
    ]);
    const log = { deliveryId, endpointId: endpoint.id, attempt: attempt + 1, status: result.status };
    if (status === 'succeeded') this.#logger.info(log, 'webhook delivered');
    else if (status === 'failed')
      this.#logger.warn({ ...log, error: result.error }, 'webhook delivery failed for good');
    else {
      this.#logger.info({ ...log, error: result.error, retryInMs: delayMs }, 'webhook delivery failed; will retry');
      await this.#send({ deliveryId, attempt: attempt + 1 }, delayMs ?? 0);
    }
  }
}
