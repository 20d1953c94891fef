import { createHash } from 'node:crypto';
import { InvalidRequestError, PolicyDeniedError, RequestError, ServiceUnavailableError } from '../errors.ts';
import { releaseClientToken, reserveClientToken } from '../jobs/client-tokens.ts';
import { type ControlFields, splitControlFields } from '../jobs/control-fields.ts';
import {
  abandonIdempotentRequest,
  beginIdempotentRequest,
  completeIdempotentRequest,
  type IdempotencyStart,
  idempotencyRecordKey,
  type StoredResponse,
} from '../jobs/idempotency.ts';
import { type Job, newJob, toJobView } from '../jobs/model.ts';
import { checkPolicy } from '../jobs/policy.ts';
import { createJob, getJob, isDefiniteFailure, JobExistsError, settleJobWrite } from '../jobs/store.ts';
import { enqueueSubmit } from '../queue/producer.ts';
import { type RunInstancesRequest, validateRunInstances } from '../run-instances/index.ts';
import type { ApiDeps } from './deps.ts';

/** How long a caller should wait before looking at a new job: instances take tens of seconds to boot. */
export const RETRY_AFTER_SECONDS = 5;
/** When the job store is down nothing was accepted; ask the caller to come back shortly. */
export const STORE_DOWN_RETRY_AFTER_SECONDS = 5;

export interface AcceptInput {
  caller: string;
  body: Record<string, unknown>;
  idempotencyKey?: string;
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
 * JSON or as the flattened form (both are validated and normalized first).
 */
export function requestFingerprint(
  request: RunInstancesRequest,
  region: string,
  control: ControlFields,
): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical({ request, region, ...control })))
    .digest('hex');
}

/** 503 for a store that failed before anything was written. */
function storeDown(what: string, cause: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError(`${what}; nothing was accepted`, STORE_DOWN_RETRY_AFTER_SECONDS, cause);
}

/**
 * Stores a job and says whether it is stored. A write whose outcome is unknown (timeout after sending) is
 * settled with a tombstone (lib/jobs/store.ts), so "absent" means it never will be stored; "unknown" is left
 * only when even that fails.
 */
async function storeJob(
  deps: ApiDeps,
  job: Job,
): Promise<{ outcome: 'stored' | 'absent' | 'unknown'; cause?: unknown }> {
  try {
    await createJob(deps, job);
    return { outcome: 'stored' };
  } catch (error) {
    if (error instanceof JobExistsError || isDefiniteFailure(error))
      return { outcome: 'absent', cause: error };
    try {
      return { outcome: await settleJobWrite(deps, job), cause: error };
    } catch {
      return { outcome: 'unknown', cause: error };
    }
  }
}

function accepted(job: Job): StoredResponse {
  return {
    statusCode: 202,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      location: `/v1/jobs/${job.jobId}`,
      'retry-after': String(RETRY_AFTER_SECONDS),
    },
    body: JSON.stringify(toJobView(job)),
  };
}

/** Sends the job's message; a lost send is repaired by the sweep of stale QUEUED jobs (lib/jobs/sweep.ts). */
async function enqueue(deps: ApiDeps, job: Job): Promise<void> {
  try {
    await enqueueSubmit(deps, job.jobId);
  } catch (error) {
    deps.logger.warn('the job is stored but its queue message was not sent; the sweep will send it', {
      jobId: job.jobId,
      error,
    });
  }
}

async function remember(
  deps: ApiDeps,
  recordKey: string | undefined,
  response: StoredResponse,
  jobId: string,
) {
  if (!recordKey) return;
  await completeIdempotentRequest(deps, recordKey, response).catch((error: unknown) => {
    // The record names the job: a retry after the lease recovers this job instead of creating another.
    deps.logger.warn('could not store the idempotent response', { jobId, error });
  });
}

/**
 * Accepts a RunInstances request: validates it (every violation → 400), applies the policy guardrails (403),
 * honours Idempotency-Key, reserves a caller's ClientToken, stores the job QUEUED and sends `{ jobId }` to the
 * submit queue. A lost send is repaired by the sweep, so the answer is 202 as soon as the job is stored; if it
 * certainly was not stored, 503 "nothing was accepted"; if that cannot be known, 503 asking for a retry with
 * the same Idempotency-Key, which then finds the job if it exists.
 */
export async function acceptRunInstances(deps: ApiDeps, input: AcceptInput): Promise<StoredResponse> {
  const { tencent, control, errors } = splitControlFields(input.body);
  const validation = validateRunInstances(tencent, { profile: deps.profile, now: deps.now() });
  const violations = [...(validation.ok ? [] : validation.errors), ...errors];
  if (!validation.ok || violations.length) throw new InvalidRequestError(violations);
  const denied = checkPolicy(validation.request, deps.policy);
  if (denied.length) throw new PolicyDeniedError(denied);

  const job = newJob({
    jobId: deps.newId(),
    region: validation.region,
    request: validation.request,
    requestedBy: input.caller,
    metadata: control.metadata,
    webhookUrl: control.webhookUrl,
    now: deps.now(),
  });

  let recordKey: string | undefined;
  if (input.idempotencyKey !== undefined) {
    let start: IdempotencyStart;
    try {
      start = await beginIdempotentRequest(
        deps,
        idempotencyRecordKey(input.caller, input.idempotencyKey),
        requestFingerprint(validation.request, validation.region, control),
        job.jobId,
      );
    } catch (error) {
      if (error instanceof RequestError) throw error; // 409, 422
      throw storeDown('The idempotency record could not be read or written', error);
    }
    if (start.kind === 'replay') return start.response;
    if (start.kind === 'recover') return recoverJob(deps, start.recordKey, start.jobId);
    recordKey = start.recordKey;
  }
  const release = async () => {
    if (validation.request.ClientToken !== undefined) {
      await releaseClientToken(deps, validation.request.ClientToken, job.jobId).catch(() => undefined);
    }
    if (recordKey) await abandonIdempotentRequest(deps, recordKey).catch(() => undefined);
  };

  if (validation.request.ClientToken !== undefined) {
    try {
      await reserveClientToken(deps, validation.request.ClientToken, job.jobId, job.createdAt);
    } catch (error) {
      await release();
      if (error instanceof RequestError) throw error; // 409: the token belongs to another job
      throw storeDown('The ClientToken could not be reserved', error);
    }
  }

  const { outcome, cause } = await storeJob(deps, job);
  if (outcome === 'absent') {
    await release();
    throw storeDown('The job could not be stored', cause);
  }
  if (outcome === 'unknown') {
    // Keep the key and the token naming this job: a retry with the same key settles it and answers for it.
    throw new ServiceUnavailableError(
      'The job store did not confirm the write; retry the same request with the same Idempotency-Key',
      STORE_DOWN_RETRY_AFTER_SECONDS,
      cause,
    );
  }
  await enqueue(deps, job);
  deps.logger.info('job accepted', { jobId: job.jobId, caller: input.caller, region: job.region });
  const response = accepted(job);
  await remember(deps, recordKey, response, job.jobId);
  return response;
}

/** Answers for the job an unfinished earlier request with the same key stored (and makes sure it is queued). */
async function recoverJob(deps: ApiDeps, recordKey: string, jobId: string): Promise<StoredResponse> {
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
  // A second message is harmless (the submitter's transition is conditional); a missing one would stall the job.
  if (job.status === 'QUEUED') await enqueue(deps, job);
  deps.logger.info('recovered the job of an unfinished request with the same Idempotency-Key', { jobId });
  const response = accepted(job);
  await remember(deps, recordKey, response, jobId);
  return response;
}
