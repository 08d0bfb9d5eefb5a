/**
 * The idle check: every call started through the lifecycle is checked once it may have gone
 * quiet, and a call quiet for the idle time is ended (and consolidated) though nobody ended it.
 */
import { z } from 'zod';
import type { JobQueue, JobType } from '../jobs/index.js';

/** The job's name predates the voice channel; it stays so checks already queued are still worked. */
export const END_IDLE_CALL_JOB = 'end-idle-conversation';

/**
 * Queues the check of `callId` in `afterSeconds`. Sent when a call starts, then again by the
 * check itself while the call is active; the queue keeps one waiting per call (policy 'stately').
 */
export async function watchIdle(queue: Pick<JobQueue, 'send'>, callId: string, afterSeconds: number): Promise<void> {
  await queue.send({
    name: END_IDLE_CALL_JOB,
    data: { callId },
    singletonKey: callId,
    startAfterSeconds: Math.max(1, Math.ceil(afterSeconds)),
  });
}

/** The `end-idle-conversation` job: ends quiet calls so they are consolidated. */
export function idleCallJob(calls: {
  endIfIdle(input: { callId: string }): Promise<unknown>;
}): JobType<{ callId: string }> {
  return {
    name: END_IDLE_CALL_JOB,
    schema: z.object({ callId: z.uuid() }),
    policy: 'stately',
    async handler(job) {
      await calls.endIfIdle({ callId: job.data.callId });
    },
  };
}
