import {
  ClaimHeldError,
  CredentialsError,
  JobConflictError,
  RequestNotSentError,
  TencentApiError,
  UnknownOutcomeError,
} from '../errors.ts';
import {
  claimForSubmission,
  failJob,
  reconcileFrom,
  recordSubmission,
  releaseClaim,
} from '../jobs/lifecycle.ts';
import type { Job, JobError } from '../jobs/model.ts';
import { getJob } from '../jobs/store.ts';
import { jobLogger } from '../log.ts';
import { ADVICE, type ErrorClass } from '../tencent/error-classes.ts';
import { retryDelaySeconds } from './backoff.ts';
import {
  callBudget,
  claimHeld,
  type Delivery,
  done,
  jobErrorOf,
  retry,
  type SubmitDeps,
  type SubmitOutcome,
  wait,
} from './deps.ts';
import { type Reconciliation, reconcile } from './reconcile.ts';
import { runInstancesParams } from './request.ts';

/** The official SDK waits a minute for an answer: a slow but successful RunInstances must not time out. */
export const RUN_INSTANCES_TIMEOUT_MS = 60_000;
/** No call is started with less time than this: it would time out, and manufacture an unknown outcome. */
export const MIN_CALL_MS = 3_000;
/** The claim outlasts the invocation by this much, so no other delivery can start while this one may act. */
export const LEASE_MARGIN_MS = 5_000;

/**
 * One delivery of a job's message (docs/job-lifecycle.md, "Submitting exactly once"): load, claim, reconcile
 * if an earlier attempt may have created the instances, else RunInstances with the job's fixed ClientToken
 * and stored parameters; then one lifecycle write says what happened. Never throws for Tencent's answers;
 * throws only when the job store fails (the delivery is then retried as it is).
 */
export async function submitJob(
  given: SubmitDeps,
  jobId: string,
  delivery: Delivery,
): Promise<SubmitOutcome> {
  const job = await getJob(given, jobId);
  if (!job) {
    given.logger.warn('no such job; its message is dropped', { jobId });
    return done('no-job');
  }
  // Every line from here on is about this job.
  const deps: SubmitDeps = { ...given, logger: jobLogger(given.logger, job) };
  if (job.status !== 'QUEUED' && job.status !== 'SUBMITTING') return done('already-done');
  const now = deps.now();
  const held = claimHeld(job, now);
  if (held) return held;
  // An earlier attempt may have created the instances, and their tags may not all show yet: look before
  // claiming, so that waiting for them costs no attempt.
  const from = job.status === 'SUBMITTING' ? reconcileFrom(job) : null;
  let early: Reconciliation | undefined;
  if (from !== null && now < Date.parse(from) + deps.tagVisibilityWindowMs) {
    try {
      early = await reconcile(deps, job, from, delivery);
    } catch (error) {
      return retry(backoff(deps, delivery), `the lookup failed: ${jobErrorOf(error).code}`);
    }
    if (!(early.found.length > 0 && early.complete))
      return wait((early.trustedAt - deps.now()) / 1000, 'waiting until the tags of its instances can show');
  }
  let claimed: Job;
  try {
    claimed = await claimForSubmission(deps, job, delivery.remainingMs() + LEASE_MARGIN_MS);
  } catch (error) {
    if (error instanceof ClaimHeldError)
      return wait((Date.parse(error.claimExpiresAt) - deps.now()) / 1000, 'another delivery holds the claim');
    if (error instanceof JobConflictError) {
      // Another delivery claimed first, or the job moved on: look again on the next delivery.
      const current = error.current?.status;
      return current && current !== 'QUEUED' && current !== 'SUBMITTING'
        ? done('already-done')
        : wait(1, 'another delivery claimed the job first');
    }
    throw error;
  }
  return attempt(deps, claimed, delivery, early);
}

async function attempt(
  deps: SubmitDeps,
  job: Job,
  delivery: Delivery,
  early: Reconciliation | undefined,
): Promise<SubmitOutcome> {
  if (job.reconcileAfter !== null) {
    let found: Reconciliation;
    try {
      found = early ?? (await reconcile(deps, job, job.reconcileAfter, delivery));
    } catch (error) {
      const reason = jobErrorOf(error);
      countAttempt(deps, 'retried', reason.code);
      return release(deps, job, 'not-created', reason, backoff(deps, delivery));
    }
    if (found.found.length > 0 && found.complete) {
      deps.logger.info('found the instances of an earlier attempt; recorded them instead of creating', {
        jobId: job.jobId,
        instanceIds: found.found,
      });
      countAttempt(deps, 'reconciled');
      return write(
        deps,
        job,
        () => recordSubmission(deps, job, { instanceIds: found.found, requestId: null }),
        'reconciled',
      );
    }
    if (!found.trusted) {
      // Tags may not show yet: wait until "none found" means none, keeping the reason of the retry.
      return release(deps, job, 'not-created', job.lastError, (found.trustedAt - deps.now()) / 1000, false);
    }
  }
  const longest = deps.timeouts?.runInstancesMs ?? RUN_INSTANCES_TIMEOUT_MS;
  const shortest = Math.min(MIN_CALL_MS, longest);
  const budget = callBudget(delivery, longest);
  if (budget < shortest || !(await deps.pacer(job.region).take(Date.now() + budget - shortest)))
    return release(deps, job, 'not-created', job.lastError, 1, false);
  let response: Awaited<ReturnType<SubmitDeps['tencent']['call']>>;
  try {
    response = await deps.tencent.call('RunInstances', runInstancesParams(job), {
      region: job.region,
      timeoutMs: callBudget(delivery, longest),
    });
  } catch (error) {
    return afterFailedCall(deps, job, delivery, error);
  }
  // A passing DryRun creates nothing: SUBMITTED with no instances.
  const instanceIds = Array.isArray(response.InstanceIdSet)
    ? response.InstanceIdSet.filter((id): id is string => typeof id === 'string')
    : [];
  deps.logger.info('RunInstances created the instances', {
    jobId: job.jobId,
    attempt: job.attempts,
    instanceIds,
    requestId: response.RequestId,
  });
  countAttempt(deps, 'submitted');
  return write(
    deps,
    job,
    () => recordSubmission(deps, job, { instanceIds, requestId: response.RequestId ?? null }),
    'submitted',
  );
}

/**
 * What a claimed attempt came to (SubmitAttempts): instances created or found, a retry, an outcome that must be
 * looked up, or the job failed for good.
 */
type AttemptOutcome = 'submitted' | 'reconciled' | 'retried' | 'unknown' | 'failed';

/** Counts an attempt by its outcome and Tencent's error code (`none` when there was no error). */
const countAttempt = (deps: SubmitDeps, outcome: AttemptOutcome, code = 'none') =>
  deps.metrics?.count('SubmitAttempts', { outcome, code });

/** The backoff for this delivery's receive count. */
const backoff = (deps: SubmitDeps, delivery: Delivery): number =>
  retryDelaySeconds(delivery.receiveCount, deps.random ? { random: deps.random } : {});

/** Tencent's answer (or its absence) → the job's next state, counted and said once. */
function afterFailedCall(
  deps: SubmitDeps,
  job: Job,
  delivery: Delivery,
  error: unknown,
): Promise<SubmitOutcome> {
  const delay = backoff(deps, delivery);
  const reason = jobErrorOf(error);
  // Tencent's code, and its RequestId when it answered.
  const fields = { code: reason.code, ...(reason.requestId ? { requestId: reason.requestId } : {}) };
  const retried = (): Promise<SubmitOutcome> => {
    countAttempt(deps, 'retried', reason.code);
    return release(deps, job, 'not-created', reason, delay);
  };
  const mayExist = (): Promise<SubmitOutcome> => {
    countAttempt(deps, 'unknown', reason.code);
    // The instances may exist: the next attempt looks for them, once their tags can show.
    return release(deps, job, 'unknown', reason, Math.max(delay, deps.tagVisibilityWindowMs / 1000));
  };
  const failed = (failure: JobError): Promise<SubmitOutcome> => {
    countAttempt(deps, 'failed', reason.code);
    deps.logger.warn('the submission failed for good', fields);
    return write(deps, job, () => failJob(deps, job, failure), 'failed');
  };
  const notCreated = 'RunInstances created nothing; the job is retried';
  const maybeCreated = 'RunInstances may have created the instances; the next attempt looks for them first';
  if (error instanceof TencentApiError) {
    const errorClass = error.errorClass as ErrorClass;
    if (errorClass === 'transient') {
      deps.logger.info(notCreated, fields);
      return retried();
    }
    if (errorClass === 'unknown') {
      deps.logger.warn(maybeCreated, fields);
      return mayExist();
    }
    return failed({
      code: error.code,
      message: `${error.message} (${ADVICE[errorClass] ?? ADVICE.invalid})`,
      requestId: error.requestId ?? null,
    });
  }
  if (error instanceof UnknownOutcomeError) {
    deps.logger.warn(maybeCreated, fields);
    return mayExist();
  }
  if (error instanceof RequestNotSentError) {
    if (!error.retryable) return failed({ ...reason, requestId: null });
    deps.logger.info(notCreated, fields);
    return retried();
  }
  if (error instanceof CredentialsError) {
    deps.logger.error('Tencent credentials could not be obtained; the job is retried', { error });
    return retried();
  }
  // Our own bug, somewhere between the claim and the answer: assume the worst.
  deps.logger.error('submission failed unexpectedly; the job will be reconciled', { error });
  return mayExist();
}

/**
 * Gives the claim up, saying what this attempt's call did, and asks for the delivery again later: as a retry
 * when a call failed, as a wait when nothing was tried.
 */
function release(
  deps: SubmitDeps,
  job: Job,
  sendOutcome: 'not-created' | 'unknown',
  lastError: JobError | null,
  delaySeconds: number,
  spendsReceive = true,
): Promise<SubmitOutcome> {
  return write(deps, job, () => releaseClaim(deps, job, { sendOutcome, lastError }), {
    delaySeconds,
    reason: spendsReceive && lastError ? `${lastError.code}: ${lastError.message}` : 'waiting',
    spendsReceive,
  });
}

/**
 * One lifecycle write under this attempt's claim. Losing it (JobConflictError) means another delivery took the
 * job over after this one's lease ran out: it decides now, and this delivery comes back to look.
 */
async function write(
  deps: SubmitDeps,
  job: Job,
  operation: () => Promise<Job>,
  then:
    | 'submitted'
    | 'reconciled'
    | 'failed'
    | { delaySeconds: number; reason: string; spendsReceive: boolean },
): Promise<SubmitOutcome> {
  try {
    await operation();
  } catch (error) {
    if (!(error instanceof JobConflictError)) throw error;
    deps.logger.warn('the job changed under this attempt’s claim; the next delivery looks again', {
      jobId: job.jobId,
      current: error.current,
    });
    return wait(1, 'the job changed meanwhile');
  }
  if (typeof then === 'string') return done(then);
  return then.spendsReceive ? retry(then.delaySeconds, then.reason) : wait(then.delaySeconds, then.reason);
}
