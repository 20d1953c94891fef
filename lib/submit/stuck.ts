import { isoTime } from '../clock.ts';
import { JobConflictError } from '../errors.ts';
import { requeueJob } from '../jobs/lifecycle.ts';
import { listPendingJobs } from '../jobs/store.ts';
import { jobLogger } from '../log.ts';
import { enqueueSubmit, type QueueDeps } from '../queue/producer.ts';
import type { SubmitDeps } from './deps.ts';
import { settleAbandoned } from './resolve.ts';

/**
 * A SUBMITTING job whose claim ran out this long ago has no delivery coming back: a retried message returns
 * within the longest backoff (300 s) or the queue's visibility timeout (540 s, serverless.yml), and claims the
 * job again when it does.
 */
export const STUCK_SUBMITTING_MS = 15 * 60 * 1000;
/** The submit queue's maxReceiveCount (serverless.yml): a job with this many attempts has had its chances. */
export const MAX_SUBMIT_ATTEMPTS = 5;
/** The sweep starts no lookup with less time than this left. */
const SWEEP_MARGIN_MS = 15_000;

export interface StuckSweepResult {
  recorded: number;
  failed: number;
  requeued: number;
  waiting: number;
}

/**
 * Finds SUBMITTING jobs abandoned by their deliveries and resolves each (docs/job-lifecycle.md, "The sweep"):
 * reconciliation first — instances found are recorded; with none found, a job with attempts left gets its
 * message again, one without FAILS with SubmitRetriesExhausted. A job whose lookup cannot be trusted yet, or
 * that a delivery holds, is left for the next sweep.
 */
export async function resolveStuckJobs(
  deps: SubmitDeps & QueueDeps,
  options: { remainingMs: () => number; olderThanMs?: number; limit?: number },
): Promise<StuckSweepResult> {
  const olderThan = options.olderThanMs ?? STUCK_SUBMITTING_MS;
  const before = isoTime(() => deps.now() - olderThan);
  // Read past the jobs that turn out to be busy or waiting, so that they cannot starve the rest.
  const candidates = await listPendingJobs(deps, 'SUBMITTING', { before, limit: 4 * (options.limit ?? 25) });
  const result: StuckSweepResult = { recorded: 0, failed: 0, requeued: 0, waiting: 0 };
  let settled = 0;
  for (const job of candidates) {
    if (job.claimExpiresAt !== null && job.claimExpiresAt > before) continue;
    // Each job may take a lookup: stop while the invocation still has time to write.
    if (settled >= (options.limit ?? 25) || options.remainingMs() < SWEEP_MARGIN_MS) break;
    settled++;
    const outcome = await settleAbandoned(deps, job, options, {
      onNothingFound: job.attempts >= MAX_SUBMIT_ATTEMPTS ? 'fail' : 'leave',
    });
    if (outcome === 'nothing-found') {
      try {
        await enqueueSubmit(deps, job.jobId);
        await requeueJob(deps, job);
      } catch (error) {
        if (!(error instanceof JobConflictError)) {
          jobLogger(deps.logger, job).warn(
            'sweep could not re-enqueue a stuck job; the next sweep tries again',
            {
              error,
            },
          );
          continue;
        }
      }
      result.requeued++;
      jobLogger(deps.logger, job).info('re-enqueued a stuck SUBMITTING job', { attempts: job.attempts });
    } else if (outcome.kind === 'retry') result.waiting++;
    else if (outcome.result === 'reconciled') result.recorded++;
    else if (outcome.result === 'failed') result.failed++;
  }
  return result;
}
