import { createHash, createHmac } from 'node:crypto';
import { isoTime } from '../clock.ts';
import {
  isRetryable,
  JobExistsError,
  mayHaveBeenApplied,
  ProvisionerError,
  RequestError,
  ServiceUnavailableError,
} from '../errors.ts';
import { jobLogFields, jobLogger, type Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { enqueueSubmit, type QueueDeps } from '../queue/producer.ts';
import { type ProfileName, type RunInstancesRequest, redactRequest } from '../run-instances/index.ts';
import { releaseClientToken, reserveClientToken } from './client-tokens.ts';
import type { ControlFields } from './control-fields.ts';
import {
  abandonIdempotentRequest,
  beginIdempotentRequest,
  type IdempotencyStart,
  IN_PROGRESS_LEASE_SECONDS,
  idempotencyRecordKey,
} from './idempotency.ts';
import { acceptedSnapshot, type ChatOrigin, type Job, type JobView, newJob, toJobView } from './model.ts';
import type { Policy } from './policy.ts';
import { createJob, getJob, type StoreDeps, settleJobWrite } from './store.ts';
import { checkSubmission, submissionRules } from './submission.ts';

/** When the job store is down nothing was accepted; ask the caller to come back shortly. */
export const STORE_DOWN_RETRY_AFTER_SECONDS = 5;

/** What accepting a job needs (built in lib/deps.ts, or by a test). */
export interface AcceptDeps extends StoreDeps, QueueDeps {
  logger: Logger;
  /** JobsAccepted (and, by the channels, JobsRejected); none: not counted. */
  metrics?: Metrics;
  newId: () => string;
  profile: ProfileName;
  policy: Policy;
  /** Keys the Idempotency-Key fingerprint (IDEMPOTENCY_SECRET); see requestFingerprint. */
  fingerprintSecret?: string;
  /** Zones to admit beyond the catalog (EXTRA_ZONES). */
  extraZones?: readonly string[];
}

export interface AcceptInput {
  /** Who asks: an IAM identity, a token's name, or a chat user (`slack:<team>/<user>`). */
  caller: string;
  /** The RunInstances parameters, parsed (from JSON, or the flattened form decoded) but not yet validated. */
  request: Record<string, unknown>;
  /** Our control fields as given (webhookUrl, metadata); checked here. */
  control?: Readonly<Record<string, unknown>>;
  /** The caller's idempotency key (HTTP: the Idempotency-Key header; chat: the command's trigger_id). */
  idempotencyKey?: string;
  /** Where a chat command came from, for its follow-ups. */
  chat?: ChatOrigin;
}

export interface Accepted {
  job: Job;
  /** True when the key named an earlier request, whose job this is: nothing new was created. */
  replayed: boolean;
  /** The job as it was accepted (password redacted): the first answer, given again on every replay. */
  view: JobView;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/**
 * The Idempotency-Key fingerprint of an accepted request: same request, same fingerprint, whether it came as
 * JSON or as the flattened form (both are validated and normalized first). Stored in the table, so it must
 * not let anyone who reads the table test password guesses: with a per-deployment secret it is an HMAC over
 * the whole request; without one the password is left out (a changed password under a reused key then
 * answers for the first job instead of 422).
 */
export function requestFingerprint(
  request: RunInstancesRequest,
  region: string,
  control: ControlFields,
  secret?: string,
): string {
  const text = JSON.stringify(
    canonical({
      request: secret ? request : redactRequest(request),
      region,
      webhookUrl: control.webhookUrl,
      metadata: control.metadata,
      // Only when given: a request without it fingerprints as it did before minCount existed.
      ...(control.minCount === null ? {} : { minCount: control.minCount }),
    }),
  );
  return secret
    ? createHmac('sha256', secret).update(text).digest('hex')
    : createHash('sha256').update(text).digest('hex');
}

/**
 * The error for a store that failed before anything was written: "come back shortly" when retrying can help
 * (throttling, 5xx, a timeout), else an internal error (a missing table, a bug: retrying the same request
 * cannot help, and the operator must act), which the caller sees as a generic 500 and the log keeps whole.
 */
function storeDown(what: string, cause: unknown): ProvisionerError {
  // A job id already taken (a racing request tombstoned it) is certainly not stored; a retry makes a new one.
  if (isRetryable(cause) || cause instanceof JobExistsError)
    return new ServiceUnavailableError(
      `${what}; nothing was accepted`,
      STORE_DOWN_RETRY_AFTER_SECONDS,
      cause,
    );
  return new ProvisionerError('JobStoreFailed', `${what}; nothing was accepted`, { cause });
}

/**
 * Stores a job and says whether it is stored. A write whose outcome is unknown (timeout after sending) is
 * settled with a tombstone (lib/jobs/store.ts), so "absent" means it never will be stored; "unknown" is left
 * only when even that fails.
 */
async function storeJob(
  deps: AcceptDeps,
  job: Job,
): Promise<{ outcome: 'stored' | 'absent' | 'unknown'; cause?: unknown }> {
  try {
    await createJob(deps, job);
    return { outcome: 'stored' };
  } catch (error) {
    if (error instanceof JobExistsError || !mayHaveBeenApplied(error))
      return { outcome: 'absent', cause: error };
    try {
      return { outcome: await settleJobWrite(deps, job), cause: error };
    } catch (settleError) {
      deps.logger.warn('could not settle a job write whose outcome is unknown', {
        jobId: job.jobId,
        error: settleError,
      });
      return { outcome: 'unknown', cause: error };
    }
  }
}

/** Sends the job's message; a lost send is repaired by the sweep of stale QUEUED jobs (lib/jobs/sweep.ts). */
async function enqueue(deps: AcceptDeps, job: Job): Promise<void> {
  try {
    await enqueueSubmit(deps, job.jobId);
  } catch (error) {
    deps.logger.warn('the job is stored but its queue message was not sent; the sweep will send it', {
      jobId: job.jobId,
      error,
    });
  }
}

/**
 * Accepts a RunInstances request from any channel: validates it (every violation → InvalidRequestError),
 * applies the policy guardrails (PolicyDeniedError), honours the idempotency key, reserves a caller's
 * ClientToken, stores the job QUEUED and sends `{ jobId }` to the submit queue. A lost send is repaired by the
 * sweep, so the job is accepted as soon as it is stored. If it certainly was not stored: ServiceUnavailableError
 * "nothing was accepted"; if that cannot be known, ServiceUnavailableError asking for a retry with the same
 * key, which then finds the job if it exists.
 */
export async function acceptJob(given: AcceptDeps, input: AcceptInput): Promise<Accepted> {
  const validation = checkSubmission(submissionRules(given), input);
  const { control } = validation;
  const job = newJob({
    jobId: given.newId(),
    region: validation.region,
    request: validation.request,
    requestedBy: input.caller,
    metadata: control.metadata,
    webhookUrl: control.webhookUrl,
    minCount: control.minCount,
    ...(input.chat ? { chat: input.chat } : {}),
    createdAt: isoTime(given.now),
  });
  // Every line from here on is about this job.
  const deps: AcceptDeps = { ...given, logger: jobLogger(given.logger, job) };

  let recordKey: string | undefined;
  if (input.idempotencyKey !== undefined) {
    let start: IdempotencyStart;
    try {
      start = await beginIdempotentRequest(
        deps,
        idempotencyRecordKey(input.caller, input.idempotencyKey),
        requestFingerprint(validation.request, validation.region, control, deps.fingerprintSecret),
        job.jobId,
      );
    } catch (error) {
      if (error instanceof RequestError) throw error; // in progress, or another payload
      throw storeDown('The idempotency record could not be read or written', error);
    }
    if (start.kind === 'replay') return accepted(start.job ?? (await existingJob(deps, start.jobId)), true);
    if (start.kind === 'recover') return recoverJob(deps, start.jobId);
    recordKey = start.recordKey;
  }
  const release = async (why: string) => {
    if (validation.request.ClientToken !== undefined) {
      await releaseClientToken(deps, validation.request.ClientToken, job.jobId).catch((error: unknown) =>
        deps.logger.warn(
          `could not release a ClientToken reservation (${why}); the next request with it takes it over`,
          {
            jobId: job.jobId,
            error,
          },
        ),
      );
    }
    if (recordKey) {
      await abandonIdempotentRequest(deps, recordKey).catch((error: unknown) =>
        deps.logger.warn(`could not free the idempotency key (${why}); it frees itself when its lease ends`, {
          jobId: job.jobId,
          error,
        }),
      );
    }
  };

  if (validation.request.ClientToken !== undefined) {
    try {
      await reserveClientToken(deps, validation.request.ClientToken, job.jobId, job.createdAt);
    } catch (error) {
      await release('the reservation failed');
      if (error instanceof RequestError) throw error; // the token belongs to another job
      throw storeDown('The ClientToken could not be reserved', error);
    }
  }

  const { outcome, cause } = await storeJob(deps, job);
  if (outcome === 'absent') {
    await release('the job was not stored');
    throw storeDown('The job could not be stored', cause);
  }
  if (outcome === 'unknown') {
    // The job may be stored: send its message anyway (a message for a job that does not exist is acknowledged
    // and dropped by the submitter), keep the key and the token naming it, and tell the caller how to find
    // out: a retry with the same key after the key's lease settles the write and answers for the job.
    await enqueue(deps, job);
    throw new ServiceUnavailableError(
      recordKey
        ? `The job store did not confirm the write of job ${job.jobId}; retry the same request with the same Idempotency-Key`
        : `The job store did not confirm the write of job ${job.jobId}; look it up before sending the request again, or send it with an Idempotency-Key`,
      recordKey ? IN_PROGRESS_LEASE_SECONDS : STORE_DOWN_RETRY_AFTER_SECONDS,
      cause,
    );
  }
  await enqueue(deps, job);
  deps.logger.info('job accepted', { ...jobLogFields(job), region: job.region });
  deps.metrics?.count('JobsAccepted');
  return accepted(job, false);
}

/**
 * The code a submission that was not accepted is counted under (JobsRejected): its problem's Tencent-style
 * code, or InternalError for a failure the caller sees as a 500.
 */
export function rejectionCode(error: unknown): string {
  return error instanceof RequestError ? error.code : 'InternalError';
}

/** The answer for a job: the job, and the view of it as it was accepted (what every replay shows again). */
function accepted(job: Job, replayed: boolean): Accepted {
  return { job, replayed, view: toJobView(job, acceptedSnapshot(job)) };
}

/** The job an idempotency record names; the store must be readable and the job there. */
async function existingJob(deps: AcceptDeps, jobId: string): Promise<Job> {
  let job: Job | undefined;
  try {
    job = await getJob(deps, jobId);
  } catch (error) {
    throw new ServiceUnavailableError(
      'The job store could not be read',
      STORE_DOWN_RETRY_AFTER_SECONDS,
      error,
    );
  }
  if (!job)
    throw new ServiceUnavailableError('The job store could not be read', STORE_DOWN_RETRY_AFTER_SECONDS);
  return job;
}

/** Answers for the job an unfinished earlier request with the same key stored (and makes sure it is queued). */
async function recoverJob(deps: AcceptDeps, jobId: string): Promise<Accepted> {
  const job = await existingJob(deps, jobId);
  // A second message is harmless (the submitter's claim is conditional); a missing one would stall the job.
  if (job.status === 'QUEUED') await enqueue(deps, job);
  deps.logger.info(
    'recovered the job of an unfinished request with the same Idempotency-Key',
    jobLogFields(job),
  );
  return accepted(job, true);
}
