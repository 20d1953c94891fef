import { createHash } from 'node:crypto';
import { InvalidRequestError, PolicyDeniedError, RequestError, ServiceUnavailableError } from '../errors.ts';
import { type ControlFields, splitControlFields } from '../jobs/control-fields.ts';
import {
  abandonIdempotentRequest,
  beginIdempotentRequest,
  completeIdempotentRequest,
  idempotencyRecordKey,
  type StoredResponse,
} from '../jobs/idempotency.ts';
import { newJob, toJobView } from '../jobs/model.ts';
import { checkPolicy } from '../jobs/policy.ts';
import { createJob } from '../jobs/store.ts';
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

/**
 * Accepts a RunInstances request: validates it (every violation → 400), applies the policy guardrails (403),
 * honours Idempotency-Key, stores the job QUEUED and sends `{ jobId }` to the submit queue. A lost send is
 * repaired by the sweep, so the answer is 202 as soon as the job is stored; if it cannot be stored, 503.
 */
export async function acceptRunInstances(deps: ApiDeps, input: AcceptInput): Promise<StoredResponse> {
  const { tencent, control, errors } = splitControlFields(input.body);
  const validation = validateRunInstances(tencent, { profile: deps.profile, now: deps.now() });
  const violations = [...(validation.ok ? [] : validation.errors), ...errors];
  if (!validation.ok || violations.length) throw new InvalidRequestError(violations);
  const denied = checkPolicy(validation.request, deps.policy);
  if (denied.length) throw new PolicyDeniedError(denied);

  let recordKey: string | undefined;
  if (input.idempotencyKey !== undefined) {
    let start: Awaited<ReturnType<typeof beginIdempotentRequest>>;
    try {
      start = await beginIdempotentRequest(
        deps,
        idempotencyRecordKey(input.caller, input.idempotencyKey),
        requestFingerprint(validation.request, validation.region, control),
      );
    } catch (error) {
      if (error instanceof RequestError) throw error; // 409, 422
      throw new ServiceUnavailableError(
        'The idempotency record could not be read or written; nothing was accepted',
        STORE_DOWN_RETRY_AFTER_SECONDS,
        error,
      );
    }
    if (start.kind === 'replay') return start.response;
    recordKey = start.recordKey;
  }

  const job = newJob({
    jobId: deps.newId(),
    region: validation.region,
    request: validation.request,
    requestedBy: input.caller,
    metadata: control.metadata,
    webhookUrl: control.webhookUrl,
    now: deps.now(),
  });
  try {
    await createJob(deps, job);
  } catch (error) {
    if (recordKey) await abandonIdempotentRequest(deps, recordKey).catch(() => undefined);
    throw new ServiceUnavailableError(
      'The job could not be stored; nothing was accepted',
      STORE_DOWN_RETRY_AFTER_SECONDS,
      error,
    );
  }
  try {
    await enqueueSubmit(deps, job.jobId);
  } catch (error) {
    // The job exists: the sweep of stale QUEUED jobs sends its message again (lib/jobs/sweep.ts).
    deps.logger.warn('the job is stored but its queue message was not sent; the sweep will send it', {
      jobId: job.jobId,
      error,
    });
  }
  deps.logger.info('job accepted', { jobId: job.jobId, caller: input.caller, region: job.region });

  const response: StoredResponse = {
    statusCode: 202,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      location: `/v1/jobs/${job.jobId}`,
      'retry-after': String(RETRY_AFTER_SECONDS),
    },
    body: JSON.stringify(toJobView(job)),
  };
  if (recordKey) {
    await completeIdempotentRequest(deps, recordKey, response).catch((error: unknown) => {
      // The job is accepted either way; a retry with this key meets the in-progress record until its lease ends.
      deps.logger.warn('could not store the idempotent response', { jobId: job.jobId, error });
    });
  }
  return response;
}
