import { type RunInstancesRequest, redactRequest } from '../run-instances/index.ts';

/** Job states and the transitions between them (DESIGN §3). */
export const JOB_STATUSES = [
  'QUEUED',
  'SUBMITTING',
  'SUBMITTED',
  'SUCCEEDED',
  'PARTIALLY_FAILED',
  'FAILED',
  'TIMED_OUT',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set([
  'SUCCEEDED',
  'PARTIALLY_FAILED',
  'FAILED',
  'TIMED_OUT',
]);

/**
 * Allowed transitions. SUBMITTING → SUBMITTING lets a redelivered message take over an attempt whose worker
 * died; QUEUED | SUBMITTING → FAILED covers permanent errors and exhausted retries.
 */
export const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  QUEUED: ['SUBMITTING', 'FAILED'],
  SUBMITTING: ['SUBMITTING', 'SUBMITTED', 'FAILED'],
  SUBMITTED: ['SUCCEEDED', 'PARTIALLY_FAILED', 'FAILED', 'TIMED_OUT'],
  SUCCEEDED: [],
  PARTIALLY_FAILED: [],
  FAILED: [],
  TIMED_OUT: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export interface JobInstance {
  instanceId: string;
  state: string;
  privateIpAddresses: string[];
  publicIpAddresses: string[];
}

export interface JobError {
  code: string;
  message: string;
  requestId: string | null;
}

/** A job as stored (the password is present only until the job is submitted). */
export interface Job {
  jobId: string;
  status: JobStatus;
  region: string;
  clientToken: string;
  request: RunInstancesRequest;
  instances: JobInstance[];
  error: JobError | null;
  attempts: number;
  requestedBy: string;
  metadata: Record<string, string>;
  webhookUrl: string | null;
  createdAt: string;
  updatedAt: string;
  submittedAt: string | null;
  completedAt: string | null;
  /** Incremented on every write; conditional updates may check it. */
  version: number;
}

/** The job as returned and as carried in events (DESIGN §4): password redacted, internals left out. */
export type JobView = Omit<Job, 'webhookUrl' | 'version'>;

export function toJobView(job: Job): JobView {
  return {
    jobId: job.jobId,
    status: job.status,
    region: job.region,
    clientToken: job.clientToken,
    request: redactRequest(job.request),
    instances: job.instances,
    error: job.error,
    attempts: job.attempts,
    requestedBy: job.requestedBy,
    metadata: job.metadata,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    submittedAt: job.submittedAt,
    completedAt: job.completedAt,
  };
}

/** The ClientToken of a job: the caller's, else one derived from the job id (fixed at creation, ≤ 64 ASCII). */
export function clientTokenFor(jobId: string, request: RunInstancesRequest): string {
  return request.ClientToken ?? `cvmp-${jobId}`;
}

/** A new QUEUED job. The request keeps the caller's ClientToken or gets the derived one. */
export function newJob(init: {
  jobId: string;
  region: string;
  request: RunInstancesRequest;
  requestedBy: string;
  metadata: Record<string, string>;
  webhookUrl: string | null;
  now: Date;
}): Job {
  const at = init.now.toISOString();
  const clientToken = clientTokenFor(init.jobId, init.request);
  return {
    jobId: init.jobId,
    status: 'QUEUED',
    region: init.region,
    clientToken,
    request: { ...init.request, ClientToken: clientToken },
    instances: [],
    error: null,
    attempts: 0,
    requestedBy: init.requestedBy,
    metadata: init.metadata,
    webhookUrl: init.webhookUrl,
    createdAt: at,
    updatedAt: at,
    submittedAt: null,
    completedAt: null,
    version: 1,
  };
}
