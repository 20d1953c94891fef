import { JobConflictError } from '../errors.ts';
import { failJob, reconcileFrom, recordSubmission } from '../jobs/lifecycle.ts';
import { JOB_TAG_KEY, type Job } from '../jobs/model.ts';
import { jobLogger } from '../log.ts';
import {
  claimHeld,
  type Delivery,
  done,
  jobErrorOf,
  type SubmitDeps,
  type SubmitOutcome,
  wait,
} from './deps.ts';
import { reconcile } from './reconcile.ts';

/** The code of a job whose message ran out of receives (or that the sweep found abandoned) with nothing found. */
export const RETRIES_EXHAUSTED = 'SubmitRetriesExhausted';
/** The code of a job whose instances could not be looked for, for an hour, after its attempts ran out. */
export const OUTCOME_UNKNOWN = 'SubmitOutcomeUnknown';
/** How long an abandoned job's lookup may keep failing before the job is failed with OUTCOME_UNKNOWN. */
export const LOOKUP_GIVE_UP_MS = 60 * 60 * 1000;

/**
 * Settles a job no delivery will submit any more — its message went to the dead-letter queue, or the sweep
 * found it stuck — without ever sending RunInstances: if an earlier attempt may have created instances, they
 * are looked for first (and recorded: SUBMITTED), waiting out the tag-visibility window; otherwise, or if none
 * exist, the job FAILS with SubmitRetriesExhausted and the last error in its message. Writes are conditioned on
 * the job as read, so a live attempt elsewhere wins (the caller retries later).
 */
export async function settleAbandoned(
  given: SubmitDeps,
  job: Job,
  delivery: Pick<Delivery, 'remainingMs'>,
  options: { onNothingFound?: 'fail' | 'leave' } = {},
): Promise<SubmitOutcome | 'nothing-found'> {
  if (job.status !== 'QUEUED' && job.status !== 'SUBMITTING') return done('already-done');
  // Every line from here on is about this job.
  const deps: SubmitDeps = { ...given, logger: jobLogger(given.logger, job) };
  const now = deps.now();
  const held = claimHeld(job, now);
  if (held) return held;
  const from = job.status === 'SUBMITTING' ? reconcileFrom(job) : null;
  if (from !== null) {
    let found: Awaited<ReturnType<typeof reconcile>>;
    try {
      found = await reconcile(deps, job, from, delivery);
    } catch (error) {
      const failure = jobErrorOf(error);
      if (now - Date.parse(from) < LOOKUP_GIVE_UP_MS) return wait(30, `the lookup failed: ${failure.code}`);
      // An answer all the same: the job may have instances, and says where to look for them.
      deps.logger.error('an abandoned job could not be looked for; failed with its outcome unknown', {
        jobId: job.jobId,
        error,
      });
      const unknown = {
        code: OUTCOME_UNKNOWN,
        message: `gave up after ${job.attempts} attempts without knowing whether instances were created: look for the tag ${JOB_TAG_KEY}=${job.jobId} in ${job.region} (the lookup failed: ${failure.code}: ${failure.message})`,
        requestId: failure.requestId,
      };
      return conditioned(deps, job, () => failJob(deps, job, unknown), 'failed');
    }
    if (found.found.length > 0 && found.complete) {
      deps.logger.info('found the instances of an abandoned job; recorded them', {
        jobId: job.jobId,
        instanceIds: found.found,
      });
      const instanceIds = found.found;
      return conditioned(
        deps,
        job,
        () => recordSubmission(deps, job, { instanceIds, requestId: null }),
        'reconciled',
      );
    }
    if (!found.trusted) return wait((found.trustedAt - deps.now()) / 1000, 'waiting until tags can show');
  }
  if (options.onNothingFound === 'leave') return 'nothing-found';
  const last = job.lastError;
  const error = {
    code: RETRIES_EXHAUSTED,
    message:
      `gave up after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'}` +
      (last ? `; the last: ${last.code}: ${last.message}` : '') +
      (from !== null ? '; no instances were found for the job' : ''),
    requestId: last?.requestId ?? null,
  };
  deps.logger.warn('the job ran out of submission attempts', { jobId: job.jobId, attempts: job.attempts });
  return conditioned(deps, job, () => failJob(deps, job, error), 'failed');
}

/** Runs a write conditioned on the job as read: done with `result`, or, if the race was lost, a later look. */
async function conditioned(
  deps: SubmitDeps,
  job: Job,
  write: () => Promise<Job>,
  result: 'failed' | 'reconciled',
): Promise<SubmitOutcome> {
  try {
    await write();
    return done(result);
  } catch (error) {
    if (!(error instanceof JobConflictError)) throw error;
    deps.logger.info('the job changed while it was being settled; looking again later', { jobId: job.jobId });
    return wait(5, 'the job changed meanwhile');
  }
}
