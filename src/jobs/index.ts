/**
 * Durable jobs (pg-boss on the same database): consolidation, paging timeouts and webhook
 * deliveries survive restarts, retry with backoff, and stay visible as failed after the last try.
 *
 * @example
 * const queue = createQueue({ db, logger });
 * await queue.start();
 * await queue.register({ name: 'consolidate-call', schema: z.object({ callId: z.uuid() }), handler: consolidate });
 * await queue.send({ name: 'consolidate-call', data: { callId }, singletonKey: callId });
 * // on shutdown
 * await queue.stop();
 */
export {
  createQueue,
  type JobQueue,
  type JobType,
  type JobView,
  type QueuedJob,
  type QueueOptions,
  type SendInput,
} from './queue.js';
