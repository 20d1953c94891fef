import type { Logger } from '../log.ts';
import { enqueueSubmit, type QueueDeps } from '../queue/producer.ts';
import { listStaleQueuedJobs, type StoreDeps, touchQueuedJob } from './store.ts';

/**
 * How long a job may sit QUEUED before the sweep sends its message again. A normal job leaves QUEUED within
 * seconds of its message. Five minutes is longer than the queue's visibility timeout (180 s, serverless.yml),
 * so a message that is merely hidden after a failed receive is not doubled. A second message for a job is
 * harmless anyway: the submitter's QUEUED → SUBMITTING transition is conditional.
 */
export const STALE_QUEUED_MS = 5 * 60 * 1000;

export interface SweepDeps extends StoreDeps, QueueDeps {
  logger: Logger;
}

/**
 * Re-enqueues QUEUED jobs whose message may have been lost (the API stored the job but SQS refused the send).
 * Returns how many jobs were sent again. The poller runs it every minute (DESIGN §1).
 */
export async function requeueStaleJobs(
  deps: SweepDeps,
  options: { olderThanMs?: number; limit?: number } = {},
): Promise<number> {
  const cutoff = new Date(deps.now().getTime() - (options.olderThanMs ?? STALE_QUEUED_MS));
  const stale = await listStaleQueuedJobs(deps, cutoff, options.limit ?? 100);
  let sent = 0;
  for (const { jobId, pendingSince } of stale) {
    try {
      await enqueueSubmit(deps, jobId);
    } catch (error) {
      deps.logger.warn('sweep could not re-enqueue a job; the next sweep tries again', { jobId, error });
      continue;
    }
    sent++;
    try {
      await touchQueuedJob(deps, jobId, pendingSince);
    } catch (error) {
      // Only means this job may be sent again by the next sweep; carry on with the others.
      deps.logger.warn('sweep could not mark a re-enqueued job', { jobId, error });
    }
    deps.logger.info('re-enqueued a stale QUEUED job', { jobId, queuedSince: pendingSince });
  }
  return sent;
}
