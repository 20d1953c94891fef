import { parseRequestBody } from '../http/body.ts';
import type { HttpEvent, HttpResponse } from '../http/types.ts';
import { header, jsonResponse } from '../http/types.ts';
import { acceptJob, rejectionCode } from '../jobs/accept.ts';
import { splitControlFields } from '../jobs/control-fields.ts';
import { parseIdempotencyKey } from '../jobs/idempotency.ts';
import type { JobView } from '../jobs/model.ts';
import { checkSubmission, submissionRules } from '../jobs/submission.ts';
import { redactRequest } from '../run-instances/index.ts';
import type { ApiDeps } from './deps.ts';

/** How long a caller should wait before looking at a new job: instances take tens of seconds to boot. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * The 202 of an accepted job, showing it as it was accepted (acceptJob's view), so a replay with the same
 * Idempotency-Key answers exactly what the first request did (docs/http-api.md).
 */
export function acceptedResponse(job: JobView): HttpResponse {
  return {
    statusCode: 202,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      location: `/v1/jobs/${job.jobId}`,
      'retry-after': String(RETRY_AFTER_SECONDS),
    },
    body: JSON.stringify(job),
  };
}

/**
 * POST /v1/run-instances: the body (JSON or flattened form) and Idempotency-Key into acceptJob, 202 out. A
 * submission refused for any reason is counted (JobsRejected) under the code its problem answer carries.
 */
export async function postRunInstances(
  event: HttpEvent,
  caller: string,
  deps: ApiDeps,
): Promise<HttpResponse> {
  try {
    const { request, control } = splitControlFields(parseRequestBody(event, deps.profile));
    const key = header(event, 'idempotency-key');
    const { view } = await acceptJob(deps, {
      caller,
      request,
      control,
      ...(key === undefined ? {} : { idempotencyKey: parseIdempotencyKey(key) }),
    });
    return acceptedResponse(view);
  } catch (error) {
    deps.metrics?.count('JobsRejected', { code: rejectionCode(error) });
    throw error;
  }
}

/**
 * POST /v1/run-instances/validate: the same body as a submission, validation and policy only — 200 with the
 * normalized request (password redacted) and its region, or the same 400/403 a submission would get. Nothing
 * is stored or queued.
 */
export function validateRunInstances(event: HttpEvent, deps: ApiDeps): HttpResponse {
  const { request, control } = splitControlFields(parseRequestBody(event, deps.profile));
  const checked = checkSubmission(submissionRules(deps), { request, control });
  return jsonResponse(200, { ok: true, region: checked.region, request: redactRequest(checked.request) });
}
