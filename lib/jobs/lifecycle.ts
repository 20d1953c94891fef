import { isoTime } from '../clock.ts';
import { ClaimHeldError, IllegalTransitionError, JobConflictError } from '../errors.ts';
import { REDACTED } from '../run-instances/index.ts';
import type { EventType, Job, JobError, JobInstance, JobSnapshot, JobStatus } from './model.ts';
import { newEvent, type OutboxDeps, outboxWrite } from './outbox.ts';
import { type ItemPath, writeJob } from './store.ts';

/** The job fields a transition may set (everything else is fixed at creation or kept by the store). */
export type TransitionField =
  | 'instances'
  | 'error'
  | 'submitRequestId'
  | 'claimExpiresAt'
  | 'claimedAt'
  | 'sendOutcome'
  | 'reconcileAfter'
  | 'lastError'
  | 'rollback';
type Stamp = 'submittedAt' | 'completedAt';

export interface Transition {
  from: readonly JobStatus[];
  to: JobStatus;
  /** Fields the operation supplies. */
  sets: readonly TransitionField[];
  /** Timestamps set to the time of the write. */
  stamps: readonly Stamp[];
  /** Attributes removed from the item, where the job holds them. */
  removes: readonly ItemPath[];
  /** Secrets overwritten in the item with the redaction marker, where the job holds them. */
  redacts?: readonly ItemPath[];
  /** A move that stays in its status but restarts the job's wait in it (the pending index's `pendingSince`). */
  restartsWait?: true;
  /** Counts a submission attempt. */
  countsAttempt?: true;
  /** Also from SUBMITTING when the claim there has run out (a delivery that died mid-attempt). */
  takesOverExpiredClaim?: true;
  /** The event written in the same conditional write, into the job's outbox. */
  emits: EventType | null;
}

const PASSWORD: ItemPath = ['request', 'LoginSettings', 'Password'];
const CLAIM: ItemPath = ['claimExpiresAt'];

/**
 * The job lifecycle as data (docs/job-lifecycle.md): every way a job's status may change. The operations below
 * are built on it and are the only way a job item changes; a (from, to) pair no row names cannot happen.
 */
export const TRANSITIONS = {
  /**
   * A delivery of the job's message claims it for one submission attempt (a lease). The attempt counts as in
   * flight until it says otherwise; one that died in flight leaves the job to be reconciled.
   */
  claim: {
    from: ['QUEUED', 'SUBMITTING'],
    to: 'SUBMITTING',
    sets: ['claimExpiresAt', 'claimedAt', 'sendOutcome', 'reconcileAfter'],
    stamps: [],
    removes: [],
    countsAttempt: true,
    takesOverExpiredClaim: true,
    emits: null,
  },
  /**
   * The attempt ends without submitting (a retryable error, an unknown outcome, a wait for reconciliation): it
   * gives its claim up, saying what its call did, so the next delivery may claim at once.
   */
  release: {
    from: ['SUBMITTING'],
    to: 'SUBMITTING',
    sets: ['claimExpiresAt', 'sendOutcome', 'reconcileAfter', 'lastError'],
    stamps: [],
    removes: [],
    emits: null,
  },
  /** The sweep sent a QUEUED job's message again (its first one was lost). */
  requeue: {
    from: ['QUEUED'],
    to: 'QUEUED',
    sets: [],
    stamps: [],
    removes: [],
    restartsWait: true,
    emits: null,
  },
  /**
   * The sweep sent a stuck SUBMITTING job's message again (its claim ran out long ago and no delivery came
   * back), so the next sweep leaves it alone for a while.
   */
  requeueStuck: {
    from: ['SUBMITTING'],
    to: 'SUBMITTING',
    sets: [],
    stamps: [],
    removes: [],
    restartsWait: true,
    emits: null,
  },
  /** Tencent created the instances: their ids and its RequestId are recorded; the password leaves the item. */
  submit: {
    from: ['SUBMITTING'],
    to: 'SUBMITTED',
    sets: ['instances', 'submitRequestId'],
    stamps: ['submittedAt'],
    removes: [CLAIM],
    redacts: [PASSWORD],
    emits: 'job.submitted',
  },
  /** A permanent Tencent error, exhausted retries, or every instance failed to launch. */
  fail: {
    from: ['QUEUED', 'SUBMITTING', 'SUBMITTED'],
    to: 'FAILED',
    sets: ['error', 'instances'],
    stamps: ['completedAt'],
    removes: [CLAIM],
    redacts: [PASSWORD],
    emits: 'job.failed',
  },
  /** The poller saw the instances' states or addresses change. */
  progress: {
    from: ['SUBMITTED'],
    to: 'SUBMITTED',
    sets: ['instances'],
    stamps: [],
    removes: [],
    emits: null,
  },
  /**
   * Fewer than minCount instances can reach RUNNING: the poller begins terminating the job's instances. The job
   * stays SUBMITTED (and polled) until every instance is terminated or gone, then fails with MinCountNotMet.
   */
  rollBack: {
    from: ['SUBMITTED'],
    to: 'SUBMITTED',
    sets: ['instances', 'rollback'],
    stamps: [],
    removes: [],
    emits: null,
  },
  succeed: {
    from: ['SUBMITTED'],
    to: 'SUCCEEDED',
    sets: ['instances'],
    stamps: ['completedAt'],
    removes: [],
    emits: 'job.succeeded',
  },
  partiallyFail: {
    from: ['SUBMITTED'],
    to: 'PARTIALLY_FAILED',
    sets: ['instances', 'error'],
    stamps: ['completedAt'],
    removes: [],
    emits: 'job.partially_failed',
  },
  timeOut: {
    from: ['SUBMITTED'],
    to: 'TIMED_OUT',
    sets: ['instances', 'error'],
    stamps: ['completedAt'],
    removes: [],
    emits: 'job.timed_out',
  },
  /**
   * The caller cancels a job nothing was sent to Tencent for: QUEUED, or SUBMITTING between attempts with no
   * call that may have created instances (cancelJob checks that; the version condition makes it atomic against
   * a claim). The password leaves the item; a message still queued is acknowledged without a call.
   */
  cancel: {
    from: ['QUEUED', 'SUBMITTING'],
    to: 'CANCELLED',
    sets: [],
    stamps: ['completedAt'],
    removes: [CLAIM],
    redacts: [PASSWORD],
    emits: 'job.cancelled',
  },
} as const satisfies Record<string, Transition>;

export type TransitionName = keyof typeof TRANSITIONS;
export const TRANSITION_NAMES = Object.keys(TRANSITIONS) as TransitionName[];

/** What an operation supplies: exactly the fields its row sets. */
export type TransitionChanges<N extends TransitionName> = {
  // A claim always has an end: a null one could never be taken over.
  [F in (typeof TRANSITIONS)[N]['sets'][number]]: F extends 'claimExpiresAt' ? string : Job[F];
};

/** Whether any row moves a job from `from` to `to`. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return Object.values(TRANSITIONS).some((row: Transition) => row.to === to && row.from.includes(from));
}

/** The value at a path of the job, or undefined. */
function valueAt(job: Job, path: ItemPath): unknown {
  let node: unknown = job;
  for (const part of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node ?? undefined;
}

/**
 * Applies a transition to the job as it was read: one UpdateItem conditioned on the job's status and version
 * (and, for a claim taken over, on the old claim having run out), which also writes the row's event into the
 * outbox. Returns the job as written. Throws IllegalTransitionError for a move the table does not have,
 * ClaimHeldError for a live claim, and JobConflictError when another writer got there first.
 */
export async function applyTransition<N extends TransitionName>(
  deps: OutboxDeps,
  job: Job,
  name: N,
  changes: TransitionChanges<N>,
): Promise<Job> {
  const row: Transition = TRANSITIONS[name];
  if (!row.from.includes(job.status)) throw new IllegalTransitionError(name, job.status);
  const now = isoTime(deps.now);
  let condition: { expression: string; values: Record<string, unknown> } | undefined;
  const takesOver = row.takesOverExpiredClaim === true && job.status === row.to;
  if (takesOver) {
    if (job.claimExpiresAt !== null && job.claimExpiresAt > now)
      throw new ClaimHeldError(job.jobId, job.claimExpiresAt);
    // Defence in depth beside the version: the stored claim itself must have run out (or be none).
    condition = {
      expression:
        'attribute_not_exists(claimExpiresAt) OR attribute_type(claimExpiresAt, :nullType) OR claimExpiresAt <= :now',
      values: { ':now': now, ':nullType': 'NULL' },
    };
  }
  const set: Array<readonly [ItemPath, unknown]> = [
    [['status'], row.to],
    [['updatedAt'], now],
  ];
  const supplied = changes as Record<string, unknown>;
  for (const field of row.sets) set.push([[field], supplied[field] ?? null]);
  for (const stamp of row.stamps) set.push([[stamp], now]);
  for (const path of row.redacts ?? [])
    if (valueAt(job, path) !== undefined && valueAt(job, path) !== REDACTED) set.push([path, REDACTED]);
  const attempts = row.countsAttempt ? job.attempts + 1 : job.attempts;
  if (row.countsAttempt) set.push([['attempts'], attempts]);
  const snapshot: JobSnapshot = {
    status: row.to,
    instances: (row.sets.includes('instances') ? supplied.instances : job.instances) as JobInstance[],
    error: (row.sets.includes('error') ? supplied.error : job.error) as JobError | null,
    attempts,
    updatedAt: now,
    submittedAt: row.stamps.includes('submittedAt') ? now : job.submittedAt,
    completedAt: row.stamps.includes('completedAt') ? now : job.completedAt,
  };
  const outbox = row.emits ? outboxWrite(job, newEvent(deps, job, row.emits, snapshot)) : [];
  try {
    return await writeJob(deps, job, {
      set: [...set, ...outbox],
      remove: row.removes.filter((path) => valueAt(job, path) !== undefined),
      ...(row.restartsWait ? { restartWait: true } : {}),
      ...(condition ? { condition } : {}),
    });
  } catch (error) {
    // Status and version were as read: only the stored claim can have refused the takeover.
    if (takesOver && error instanceof JobConflictError && error.current?.version === job.version)
      throw new ClaimHeldError(job.jobId, job.claimExpiresAt ?? 'an unknown time');
    throw error;
  }
}

/** How long a submission attempt holds its claim, unless the submitter says otherwise. */
export const DEFAULT_CLAIM_MS = 60_000;

const later = (a: string | null, b: string | null): string | null =>
  a === null ? b : b === null || b < a ? a : b;

/**
 * The latest time an earlier attempt's RunInstances can have ended, if any may have created instances, for a
 * job whose claim has run out: an attempt that said `unknown` already moved `reconcileAfter`; one still
 * `in-flight` died mid-call, and its call can have run until its claim's end. Null: nothing can exist.
 */
export function reconcileFrom(job: Job): string | null {
  const died = job.status === 'SUBMITTING' && job.sendOutcome === 'in-flight';
  return later(job.reconcileAfter, died ? job.claimExpiresAt : null);
}

/**
 * Claims the job for one submission attempt: QUEUED, or SUBMITTING whose claim ran out → SUBMITTING with a
 * claim until now + `leaseMs` and `attempts + 1`. Of two deliveries of one message, one claim wins; the other
 * gets JobConflictError (or ClaimHeldError once it reads the winner's claim).
 */
export function claimForSubmission(deps: OutboxDeps, job: Job, leaseMs = DEFAULT_CLAIM_MS): Promise<Job> {
  return applyTransition(deps, job, 'claim', {
    claimExpiresAt: new Date(deps.now() + leaseMs).toISOString(),
    claimedAt: isoTime(deps.now),
    sendOutcome: 'in-flight',
    reconcileAfter: reconcileFrom(job),
  });
}

/**
 * Ends an attempt that did not submit: the claim ends now, and the job records what the attempt's call did —
 * `not-created` (refused, throttled, or never sent) or `unknown` (it may have created instances, so the next
 * attempt reconciles first) — and why it is retried.
 */
export function releaseClaim(
  deps: OutboxDeps,
  job: Job,
  outcome: { sendOutcome: 'not-created' | 'unknown'; lastError: JobError | null },
): Promise<Job> {
  const now = isoTime(deps.now);
  return applyTransition(deps, job, 'release', {
    claimExpiresAt: now,
    sendOutcome: outcome.sendOutcome,
    reconcileAfter: outcome.sendOutcome === 'unknown' ? later(job.reconcileAfter, now) : job.reconcileAfter,
    lastError: outcome.lastError,
  });
}

/** Records what RunInstances created: SUBMITTED with the instance ids (PENDING) and Tencent's RequestId. */
export function recordSubmission(
  deps: OutboxDeps,
  job: Job,
  submission: { instanceIds: readonly string[]; requestId: string | null },
): Promise<Job> {
  return applyTransition(deps, job, 'submit', {
    instances: submission.instanceIds.map((instanceId) => ({
      instanceId,
      state: 'PENDING',
      privateIpAddresses: [],
      publicIpAddresses: [],
    })),
    submitRequestId: submission.requestId,
  });
}

/** Fails the job with Tencent's (or our) code, message and RequestId; its instances, if any, are kept. */
export function failJob(
  deps: OutboxDeps,
  job: Job,
  error: JobError,
  instances = job.instances,
): Promise<Job> {
  return applyTransition(deps, job, 'fail', { error, instances });
}

/** Records the instances' states and addresses while the job is SUBMITTED. */
export function recordProgress(deps: OutboxDeps, job: Job, instances: JobInstance[]): Promise<Job> {
  return applyTransition(deps, job, 'progress', { instances });
}

/** Records that the job's minCount was not met and its instances are being terminated (lib/poll/min-count.ts). */
export function startRollback(
  deps: OutboxDeps,
  job: Job,
  change: { instances: JobInstance[]; rollback: NonNullable<Job['rollback']> },
): Promise<Job> {
  return applyTransition(deps, job, 'rollBack', change);
}

/** The poller's terminal moves from SUBMITTED (`fail` is failJob). */
export function finishJob(
  deps: OutboxDeps,
  job: Job,
  outcome: 'succeed' | 'partiallyFail' | 'timeOut',
  result: { instances: JobInstance[]; error?: JobError | null },
): Promise<Job> {
  if (outcome === 'succeed') return applyTransition(deps, job, 'succeed', { instances: result.instances });
  return applyTransition(deps, job, outcome, { instances: result.instances, error: result.error ?? null });
}

/**
 * Whether nothing can have been sent to Tencent for the job: QUEUED, or SUBMITTING with no live claim and no
 * attempt whose RunInstances may have created instances.
 */
export function nothingSent(job: Job, now: number): boolean {
  if (job.status === 'QUEUED') return true;
  if (job.status !== 'SUBMITTING') return false;
  const claimLive = job.claimExpiresAt !== null && Date.parse(job.claimExpiresAt) > now;
  return !claimLive && job.sendOutcome === 'not-created' && reconcileFrom(job) === null;
}

/** Cancels a job nothing was sent for (the caller checks nothingSent): CANCELLED, with job.cancelled. */
export function cancelJob(deps: OutboxDeps, job: Job): Promise<Job> {
  return applyTransition(deps, job, 'cancel', {});
}

/** Marks a job whose message the sweep just sent again, so the next sweep does not resend it at once. */
export function requeueJob(deps: OutboxDeps, job: Job): Promise<Job> {
  return job.status === 'SUBMITTING'
    ? applyTransition(deps, job, 'requeueStuck', {})
    : applyTransition(deps, job, 'requeue', {});
}
