import { getJob } from '../jobs/store.ts';
import { type Delivery, done, type SubmitDeps, type SubmitOutcome } from './deps.ts';
import { settleAbandoned } from './resolve.ts';

/**
 * A message that used up its receives (docs/job-lifecycle.md, "Retries"): its job never stays as it is — it is
 * recorded SUBMITTED if its instances are found, else FAILED with SubmitRetriesExhausted and `job.failed`.
 */
export async function resolveDeadLetter(
  deps: SubmitDeps,
  jobId: string,
  delivery: Pick<Delivery, 'remainingMs'>,
): Promise<SubmitOutcome> {
  const job = await getJob(deps, jobId);
  if (!job) {
    deps.logger.warn('no such job; its dead letter is dropped', { jobId });
    return done('no-job');
  }
  const outcome = await settleAbandoned(deps, job, delivery);
  return outcome === 'nothing-found' ? done('failed') : outcome;
}
