import { isoTime } from '../clock.ts';
import { JobConflictError } from '../errors.ts';
import { jobLogger, type Logger } from '../log.ts';
import { enqueueSubmit, type QueueDeps } from '../queue/producer.ts';
import { requeueJob } from './lifecycle.ts';
import type { OutboxDeps } from './outbox.ts';
import { listPendingJobs } from './store.ts';

/**
 * How long a job may sit QUEUED before the sweep sends its message again. A normal job leaves QUEUED within
 * seconds of its message. Fifteen minutes is longer than the queue's visibility timeout (540 s,
 * serverless.yml) plus the longest backoff (300 s), so a message that is merely hidden after a failed receive
 * is not doubled. A second message for a job is harmless anyway: the submitter's claim is conditional.
 */
export const STALE_QUEUED_MS = 15 * 60 * 1000;

/** The time one re-enqueue may take: a SendMessage and an UpdateItem, each with the SDK's retry (lib/deps.ts). */
const SWEEP_STEP_MS = 10_000;

export interface SweepDeps extends OutboxDeps, QueueDeps {
  logger: Logger;
}

/**
 * Re-enqueues QUEUED jobs whose message may have been lost (the API stored the job but SQS refused the send),
 * up to `limit` of them, or every one when `limit` is omitted. Returns how many jobs were sent again.
 */
export async function requeueStaleJobs(
  deps: SweepDeps,
  options: { olderThanMs?: number; limit?: number; remainingMs?: () => number } = {},
): Promise<number> {
  const before = isoTime(() => deps.now() - (options.olderThanMs ?? STALE_QUEUED_MS));
  const stale = await listPendingJobs(deps, 'QUEUED', {
    before,
    limit: options.limit ?? Number.POSITIVE_INFINITY,
  });
  let sent = 0;
  for (const job of stale) {
    const log = jobLogger(deps.logger, job);
    // One send and one write (each up to about 4 s with the SDK's retry): none is started that could outlive the run.
    if (options.remainingMs && options.remainingMs() < SWEEP_STEP_MS) break;
    try {
      await enqueueSubmit(deps, job.jobId);
    } catch (error) {
      log.warn('sweep could not re-enqueue a job; the next sweep tries again', { error });
      continue;
    }
    sent++;
    try {
      await requeueJob(deps, job);
    } catch (error) {
      // Lost to the submitter's claim (fine: the job moved on), or a store error: then the next sweep may
      // send this job once more, which the submitter's conditional claim makes harmless.
      const reason =
        error instanceof JobConflictError ? 'the job moved on meanwhile' : 'the job could not be marked';
      log.warn(`sweep re-enqueued a job but did not mark it: ${reason}`, { error });
    }
    log.info('re-enqueued a stale QUEUED job', { queuedSince: job.updatedAt });
  }
  return sent;
}
