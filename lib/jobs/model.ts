import { type RunInstancesRequest, redactRequest } from '../run-instances/index.ts';

/** Job states (docs/job-lifecycle.md); lib/jobs/lifecycle.ts says which moves between them exist. */
export const JOB_STATUSES = [
  'QUEUED',
  'SUBMITTING',
  'SUBMITTED',
  'SUCCEEDED',
  'PARTIALLY_FAILED',
  'FAILED',
  'TIMED_OUT',
  'CANCELLED',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set([
  'SUCCEEDED',
  'PARTIALLY_FAILED',
  'FAILED',
  'TIMED_OUT',
  'CANCELLED',
]);

/** The events a job emits through its outbox (docs/webhooks.md). */
export const EVENT_TYPES = [
  'job.submitted',
  'job.succeeded',
  'job.partially_failed',
  'job.failed',
  'job.timed_out',
  'job.cancelled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface JobInstance {
  instanceId: string;
  /** Tencent's InstanceState, or NOT_FOUND for an instance DescribeInstances stopped returning (the poller). */
  state: string;
  privateIpAddresses: string[];
  publicIpAddresses: string[];
  /** Why the instance failed (Tencent's LatestOperationErrorMsg, or why it counts as lost): failed ones only. */
  reason?: string;
}

export interface JobError {
  code: string;
  message: string;
  requestId: string | null;
}

export const SEND_OUTCOMES = ['in-flight', 'not-created', 'unknown'] as const;
export type SendOutcome = (typeof SEND_OUTCOMES)[number];

/**
 * The tag the submitter puts on every instance it creates, valued with the job id, to find them again after an
 * unknown outcome. Callers may not set it themselves.
 */
export const JOB_TAG_KEY = 'cvm-provisioner:job-id';

/** One attempt to deliver an event to a target. */
export interface DeliveryAttempt {
  at: string;
  /** How a chat follow-up went out: the command's `response_url`, or Slack's `chat.postMessage`. */
  via?: 'response_url' | 'chat.postMessage';
  /** The HTTP status the target answered, or what went wrong before it could. */
  status?: number;
  error?: string;
}

export const DELIVERY_STATES = ['PENDING', 'DELIVERED', 'FAILED', 'STOPPED'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** An event's delivery to one target (`webhook`: the job's webhookUrl; `default`: DEFAULT_WEBHOOK_URL). */
export interface Delivery {
  state: DeliveryState;
  attempts: DeliveryAttempt[];
  /** When the next attempt is due (PENDING only). */
  nextAttemptAt: string | null;
}

/** What a transition changes of a job, as an event saw it: the rest of the job is fixed at creation. */
export type JobSnapshot = Pick<
  Job,
  'status' | 'instances' | 'error' | 'attempts' | 'updatedAt' | 'submittedAt' | 'completedAt'
>;

/** An event in the job's outbox, written by the same conditional write as the transition that emitted it. */
export interface JobEvent {
  /** Stable across every attempt and redelivery: the Standard Webhooks `webhook-id`. */
  id: string;
  type: EventType;
  createdAt: string;
  snapshot: JobSnapshot;
  deliveries: Record<string, Delivery>;
}

/** A minCount that was not met: when the poller saw it, and how many instances had reached RUNNING. */
export interface Rollback {
  startedAt: string;
  reason: string;
}

/** Where a job asked for in chat came from: its follow-ups go back there (docs/chatops.md). */
export interface ChatOrigin {
  platform: 'slack' | 'mattermost';
  teamId: string;
  channelId: string;
  userId: string;
  /**
   * The command's `response_url`, when it is one this service may post to: Slack's take 5 posts within 30
   * minutes. A bearer capability, so never shown in a view, an event or a log.
   */
  responseUrl: string | null;
  /** When the command arrived: the response_url window starts there. */
  receivedAt: string;
}

/** A job as stored (the password is present only until the job is submitted or fails). */
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
  /** The chat command the job came from, or null (over HTTP). */
  chat: ChatOrigin | null;
  /**
   * All or nothing (the `minCount` control field): fewer instances than this RUNNING → the poller terminates
   * the job's instances and fails it with MinCountNotMet. Null: off.
   */
  minCount: number | null;
  /**
   * Set when the poller saw that fewer than minCount instances can reach RUNNING and began terminating the
   * job's instances (the job stays SUBMITTED until that is done, then FAILED with MinCountNotMet): when, and
   * what it saw.
   */
  rollback: Rollback | null;
  createdAt: string;
  updatedAt: string;
  submittedAt: string | null;
  completedAt: string | null;
  /** Until when the submission attempt that claimed the job holds it (SUBMITTING only). */
  claimExpiresAt: string | null;
  /** When the latest submission attempt claimed the job. */
  claimedAt: string | null;
  /**
   * What the latest attempt knows of its RunInstances call: `in-flight` from its claim until it says more (an
   * attempt that died says nothing more), `not-created` (refused, throttled, or never sent), `unknown` (it may
   * have created the instances). Null before any attempt.
   */
  sendOutcome: SendOutcome | null;
  /**
   * Set once any attempt may have created instances: the latest time such a call can have ended. From then
   * plus the tag-visibility window, a DescribeInstances by the job's tag is the truth (docs/job-lifecycle.md,
   * "Submitting exactly once").
   */
  reconcileAfter: string | null;
  /** Why the latest attempt did not submit (retried): kept for the message of a job that runs out of tries. */
  lastError: JobError | null;
  /** Tencent's RequestId of the RunInstances call whose instances the job recorded. */
  submitRequestId: string | null;
  /** The outbox: every event the job emitted, by id. */
  events: Record<string, JobEvent>;
  /** Incremented by every write; every write is conditioned on it. */
  version: number;
}

/** Fields set when the job is created and never changed by any operation (lib/jobs/lifecycle.ts). */
export const FIXED_FIELDS = [
  'jobId',
  'region',
  'clientToken',
  'request',
  'requestedBy',
  'metadata',
  'webhookUrl',
  'chat',
  'minCount',
  'createdAt',
] as const satisfies ReadonlyArray<keyof Job>;

/** The job as returned and as carried in events (docs/http-api.md): password redacted, internals left out. */
export interface JobView {
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
  createdAt: string;
  updatedAt: string;
  submittedAt: string | null;
  completedAt: string | null;
}

export function toJobView(job: Job, snapshot: JobSnapshot = job): JobView {
  return {
    jobId: job.jobId,
    status: snapshot.status,
    region: job.region,
    clientToken: job.clientToken,
    request: redactRequest(job.request),
    instances: snapshot.instances,
    error: snapshot.error,
    attempts: snapshot.attempts,
    requestedBy: job.requestedBy,
    metadata: job.metadata,
    createdAt: job.createdAt,
    updatedAt: snapshot.updatedAt,
    submittedAt: snapshot.submittedAt,
    completedAt: snapshot.completedAt,
  };
}

/** The job as it was when accepted: what the first answer showed, and what a replay shows again. */
export function acceptedSnapshot(job: Job): JobSnapshot {
  return {
    status: 'QUEUED',
    instances: [],
    error: null,
    attempts: 0,
    updatedAt: job.createdAt,
    submittedAt: null,
    completedAt: null,
  };
}

/**
 * Derived ClientTokens start with this, and callers' tokens may not (docs/job-lifecycle.md, "ClientToken"):
 * the two kinds live in separate namespaces, so no caller can name another job's derived token.
 */
export const DERIVED_CLIENT_TOKEN_PREFIX = 'cvmp-';

/** The ClientToken of a job: the caller's, else one derived from the job id (fixed at creation, ≤ 64 ASCII). */
export function clientTokenFor(jobId: string, request: RunInstancesRequest): string {
  return request.ClientToken ?? `${DERIVED_CLIENT_TOKEN_PREFIX}${jobId}`;
}

/**
 * Whether a caller's ClientToken falls in the derived tokens' namespace: compared trimmed and without case, as
 * reservations are (lib/jobs/client-tokens.ts), since Tencent documents neither.
 */
export function isReservedClientToken(token: string): boolean {
  return token.trim().toLowerCase().startsWith(DERIVED_CLIENT_TOKEN_PREFIX);
}

/** A new QUEUED job. The request keeps the caller's ClientToken or gets the derived one. */
export function newJob(init: {
  jobId: string;
  region: string;
  request: RunInstancesRequest;
  requestedBy: string;
  metadata: Record<string, string>;
  webhookUrl: string | null;
  chat?: ChatOrigin | null;
  minCount?: number | null;
  createdAt: string;
}): Job {
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
    chat: init.chat ?? null,
    minCount: init.minCount ?? null,
    rollback: null,
    createdAt: init.createdAt,
    updatedAt: init.createdAt,
    submittedAt: null,
    completedAt: null,
    ...NO_SUBMISSION_YET,
    events: {},
    version: 1,
  };
}

/**
 * The submission bookkeeping of a job no attempt has touched: a new job's, and what a stored item without
 * these attributes (a transition removed them, or an older item) reads as.
 */
export const NO_SUBMISSION_YET = {
  claimExpiresAt: null,
  claimedAt: null,
  sendOutcome: null,
  reconcileAfter: null,
  lastError: null,
  submitRequestId: null,
} as const satisfies Partial<Job>;

/**
 * Whether two lists of instances say the same, field by field: a job read back from DynamoDB need not keep
 * its maps' key order, so comparing JSON text would see a change, and write progress, on every run.
 */
export function sameInstances(a: readonly JobInstance[], b: readonly JobInstance[]): boolean {
  const sameList = (x: readonly string[], y: readonly string[]) =>
    x.length === y.length && x.every((item, i) => item === y[i]);
  return (
    a.length === b.length &&
    a.every((one, i) => {
      const other = b[i];
      return (
        other !== undefined &&
        one.instanceId === other.instanceId &&
        one.state === other.state &&
        one.reason === other.reason &&
        sameList(one.privateIpAddresses, other.privateIpAddresses) &&
        sameList(one.publicIpAddresses, other.publicIpAddresses)
      );
    })
  );
}
