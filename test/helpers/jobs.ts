import { requestFingerprint } from '../../lib/jobs/accept.ts';
import { checkControlFields, splitControlFields } from '../../lib/jobs/control-fields.ts';
import {
  type Job,
  type JobInstance,
  type JobStatus,
  newJob,
  TERMINAL_STATUSES,
} from '../../lib/jobs/model.ts';
import { type ProfileName, REDACTED, validateRunInstances } from '../../lib/run-instances/index.ts';
import { CLOCK_START } from './clock.ts';
import { SEED_PASSWORD, validRequest } from './requests.ts';

/** The job id of the n-th job a test makes (lower-case UUIDs, as randomUUID returns). */
export const jobIdOf = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** Job ids jobIdOf(1), jobIdOf(2), … in turn. */
export function sequentialIds(first = 1): () => string {
  let next = first;
  return () => jobIdOf(next++);
}

const at = (offsetMs: number) => new Date(CLOCK_START + offsetMs).toISOString();

function instancesFor(job: Job, state: string): JobInstance[] {
  return Array.from({ length: job.request.InstanceCount ?? 1 }, (_, i) => ({
    instanceId: `ins-${(i + 1).toString(36).padStart(8, '0')}`,
    state,
    privateIpAddresses: state === 'RUNNING' ? [`10.0.0.${i + 10}`] : [],
    publicIpAddresses: state === 'RUNNING' ? [`203.0.113.${i + 10}`] : [],
  }));
}

/**
 * A fresh job in `status`, consistent with how it got there (a SUBMITTING job holds a claim and one attempt,
 * a SUBMITTED one has instances and its password redacted, a terminal one a completion time, a FAILED one an error).
 * The request has a password so its removal can be seen. `overrides` replace fields last.
 */
export function jobIn(status: JobStatus, overrides: Partial<Job> = {}): Job {
  const job = newJob({
    jobId: jobIdOf(1),
    region: 'ap-guangzhou',
    request: { ...validRequest({ LoginSettings: { Password: SEED_PASSWORD } }), InstanceCount: 2 },
    requestedBy: 'alice',
    metadata: {},
    webhookUrl: null,
    createdAt: at(0),
  });
  job.status = status;
  if (status !== 'QUEUED') {
    job.attempts = 1;
    job.updatedAt = at(1000);
    job.claimedAt = at(1000);
    job.sendOutcome = 'in-flight';
  }
  if (status === 'SUBMITTING') job.claimExpiresAt = at(61_000);
  if (status !== 'QUEUED' && status !== 'SUBMITTING') {
    // Submission overwrote the password with the redaction mark (lib/jobs/lifecycle.ts).
    job.request = { ...job.request, LoginSettings: { ...job.request.LoginSettings, Password: REDACTED } };
    job.submittedAt = at(2000);
    job.submitRequestId = 'req-run-1';
    job.instances = instancesFor(job, status === 'SUBMITTED' ? 'PENDING' : 'RUNNING');
    job.updatedAt = at(2000);
  }
  if (TERMINAL_STATUSES.has(status)) {
    job.completedAt = at(60_000);
    job.updatedAt = at(60_000);
  }
  if (status === 'FAILED')
    job.error = {
      code: 'ResourceInsufficient.SpecifiedInstanceType',
      message: 'sold out',
      requestId: 'req-run-1',
    };
  if (status === 'PARTIALLY_FAILED' || status === 'TIMED_OUT')
    job.error = {
      code: status === 'TIMED_OUT' ? 'JobTimedOut' : 'LaunchFailed',
      message: 'see instances',
      requestId: null,
    };
  job.version = status === 'QUEUED' ? 1 : 3;
  return { ...job, ...overrides };
}

/**
 * The Idempotency-Key fingerprint the API computes for a (nested) request body, for tests that plant an
 * idempotency record before the request arrives.
 */
export function fingerprintOf(
  body: Record<string, unknown>,
  options: { profile?: ProfileName; now?: number; secret?: string } = {},
): string {
  const { request, control: raw } = splitControlFields(body);
  const { control, errors } = checkControlFields(raw);
  const validation = validateRunInstances(request, {
    profile: options.profile ?? 'seed-2017',
    now: options.now ?? CLOCK_START,
  });
  if (!validation.ok || errors.length) throw new Error('fingerprintOf needs a valid request');
  return requestFingerprint(validation.request, validation.region, control, options.secret);
}
