import { isoTime } from '../clock.ts';
import { RequestNotSentError, TencentApiError } from '../errors.ts';
import { failJob, recordProgress, startRollback } from '../jobs/lifecycle.ts';
import { type Job, type JobError, type JobInstance, type Rollback, sameInstances } from '../jobs/model.ts';
import type { OutboxDeps } from '../jobs/outbox.ts';
import type { Logger } from '../log.ts';
import type { Pacer } from '../submit/pacer.ts';
import type { TencentClient } from '../tencent/client.ts';

/**
 * All or nothing (the `minCount` control field; docs/job-lifecycle.md, "minCount"). Tencent's RunInstances
 * launches each instance on its own: some may fail while others run. A job with minCount whose RUNNING
 * instances cannot reach it any more has the poller terminate every instance it launched, and ends FAILED with
 * MinCountNotMet once each is terminated or gone, its error listing what became of each.
 *
 * Termination is reconciled like every Tencent call: the next run's DescribeInstances is the truth, so a
 * TerminateInstances whose answer was lost (a timeout, a dropped connection) counts once Describe shows the
 * instance TERMINATING or no longer returns it; a refused or throttled one is sent again.
 */

/** The instance fields the rollback reads from DescribeInstances (the poller's own record of the call). */
export interface SeenInstance {
  InstanceState?: string;
  LatestOperationState?: string | null;
}

export interface RollbackDeps extends OutboxDeps {
  tencent: Pick<TencentClient, 'call'>;
  logger: Logger;
  /** The TerminateInstances pacer of a region (a write API: Tencent allows 10 calls a second). */
  terminatePacer(region: string): Pacer;
  /** How long a rollback may take (JOB_TIMEOUT_SECONDS): past it, the job fails naming what is left. */
  jobTimeoutMs: number;
}

/** States that need no termination: the launch failed (Tencent reclaims those, and refuses to terminate them), or the instance is being destroyed or is gone. */
const ENDED: ReadonlySet<string> = new Set(['LAUNCH_FAILED', 'TERMINATING', 'NOT_FOUND']);
/**
 * States TerminateInstances takes (docs/tencent.md, "TerminateInstances"). The others are passing states it
 * refuses (PENDING, STARTING, REBOOTING, …) and, since one refusal refuses the whole call, an instance in one
 * waits for a later run.
 */
const TERMINABLE: ReadonlySet<string> = new Set([
  'RUNNING',
  'STOPPED',
  'SHUTDOWN',
  'RESCUE_MODE',
  'SERVICE_LIVE_MIGRATE',
]);
/** The reason a terminated instance of a rolled-back job shows. */
export const TERMINATED_REASON = 'terminated: the job’s minCount was not met';
/** Tries of one TerminateInstances within a run when Tencent throttles it or it was not sent. */
const TERMINATE_TRIES = 3;
/** One TerminateInstances call's limit. */
const TERMINATE_TIMEOUT_MS = 10_000;
/** The longest message the poller writes into a job's error. */
const MAX_MESSAGE_LENGTH = 1000;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Why the job must roll back now, or null: minCount is set, the job launched instances, and either more have
 * failed than it can spare, or every instance has settled (or the job ran out of time) with fewer RUNNING than
 * minCount. `missing`: instances the job asked for and never recorded (lib/poll/poll-jobs.ts,
 * `missingInstances`), which count as failed.
 */
export function minCountMissed(
  job: Job,
  verdicts: ReadonlyArray<'done' | 'failed' | 'pending'>,
  finished: boolean,
  missing = 0,
): string | null {
  if (job.minCount === null || job.rollback !== null || verdicts.length === 0) return null;
  const total = verdicts.length + missing;
  const running = verdicts.filter((v) => v === 'done').length;
  const failed = verdicts.filter((v) => v === 'failed').length + missing;
  const pending = total - running - failed;
  const hopeless = failed > total - job.minCount;
  if (!hopeless && !(finished && running < job.minCount)) return null;
  return `${running} of ${plural(total, 'instance')} reached RUNNING${failed ? `, ${failed} failed${missing ? ` (${missing} never found)` : ''}` : ''}${pending ? `, ${pending} still pending` : ''}: fewer than minCount ${job.minCount}`;
}

export type RollbackOutcome = { written: Job | null; failed: boolean; terminateCalls: number };

/** What became of each instance, for the job's error. */
function fates(instances: readonly JobInstance[]): string {
  return instances
    .map((i) => {
      if (i.state === 'TERMINATING') return `${i.instanceId} terminated`;
      if (i.state === 'LAUNCH_FAILED')
        return `${i.instanceId} failed to launch (${i.reason ?? 'no reason given'})`;
      if (i.state === 'NOT_FOUND')
        return `${i.instanceId} gone (${i.reason ?? 'not returned by DescribeInstances'})`;
      return `${i.instanceId} still ${i.state}, its termination not confirmed`;
    })
    .join('; ');
}

/** A job error's message cut to MAX_MESSAGE_LENGTH (the poller's and the rollback's alike). */
export const clip = (text: string) =>
  text.length <= MAX_MESSAGE_LENGTH ? text : `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;

/**
 * Sends TerminateInstances for the ids, again when throttled or not sent (paced); true once Tencent accepted
 * it. A refusal (an instance changed state since Describe saw it) or an unknown outcome waits for the next
 * run, whose Describe says what happened.
 */
async function terminate(
  deps: RollbackDeps,
  job: Job,
  ids: string[],
  timeLeft: () => number,
): Promise<{ accepted: boolean; calls: number }> {
  let calls = 0;
  for (let tries = 1; tries <= TERMINATE_TRIES; tries++) {
    const timeoutMs = Math.min(TERMINATE_TIMEOUT_MS, timeLeft());
    if (
      timeoutMs < 1000 ||
      !(await deps.terminatePacer(job.region).take(deps.now() + timeLeft() - timeoutMs))
    )
      return { accepted: false, calls };
    calls++;
    try {
      const response = await deps.tencent.call(
        'TerminateInstances',
        { InstanceIds: ids },
        { region: job.region, timeoutMs },
      );
      deps.logger.info('terminated the instances of a job whose minCount was not met', {
        jobId: job.jobId,
        instances: ids,
        requestId: response.RequestId,
      });
      return { accepted: true, calls };
    } catch (error) {
      const again =
        tries < TERMINATE_TRIES &&
        ((error instanceof TencentApiError &&
          error.errorClass === 'transient' &&
          /^RequestLimitExceeded/.test(error.code)) ||
          (error instanceof RequestNotSentError && error.retryable));
      deps.logger.warn(
        again
          ? 'TerminateInstances was throttled or not sent; sending it again'
          : 'TerminateInstances did not go through; the next run looks again',
        { jobId: job.jobId, instances: ids, error },
      );
      if (!again) return { accepted: false, calls };
    }
  }
  return { accepted: false, calls };
}

/**
 * One run's step of a job that is rolling back (or must begin to): terminate what can be terminated now, then
 * fail the job once nothing it launched is left — or once the rollback has taken JOB_TIMEOUT_SECONDS, naming
 * what could not be confirmed terminated.
 */
export async function rollBackJob(
  deps: RollbackDeps,
  job: Job,
  input: {
    /** The job's instances as this run observed them. */
    instances: JobInstance[];
    /** What DescribeInstances returned this run, by instance id; undefined when it did not answer. */
    seen: ReadonlyMap<string, SeenInstance> | undefined;
    /** Why, when the rollback begins in this run. */
    reason: string | null;
    timeLeft: () => number;
  },
): Promise<RollbackOutcome> {
  const now = deps.now();
  const rollback: Rollback = job.rollback ?? {
    startedAt: isoTime(deps.now),
    reason: input.reason ?? 'fewer instances than minCount reached RUNNING',
  };
  let instances = input.instances.map((i) =>
    i.state === 'TERMINATING' ? { ...i, reason: TERMINATED_REASON } : i,
  );
  let terminateCalls = 0;
  if (input.seen) {
    const seen = input.seen;
    const ids = instances
      .filter((i) => {
        const described = seen.get(i.instanceId);
        return (
          !ENDED.has(i.state) &&
          TERMINABLE.has(i.state) &&
          described !== undefined &&
          described.LatestOperationState !== 'OPERATING'
        );
      })
      .map((i) => i.instanceId);
    if (ids.length) {
      const sent = await terminate(deps, job, ids, input.timeLeft);
      terminateCalls = sent.calls;
      if (sent.accepted)
        instances = instances.map((i) =>
          ids.includes(i.instanceId) ? { ...i, state: 'TERMINATING', reason: TERMINATED_REASON } : i,
        );
    }
  }
  const left = instances.filter((i) => !ENDED.has(i.state));
  const overdue = now - Date.parse(rollback.startedAt) >= deps.jobTimeoutMs;
  if (left.length === 0 || overdue) {
    if (left.length)
      deps.logger.error('a job whose minCount was not met still has instances that may be running', {
        jobId: job.jobId,
        instances: left.map((i) => `${i.instanceId} ${i.state}`),
      });
    const error: JobError = {
      code: 'MinCountNotMet',
      message: clip(`${rollback.reason}. ${fates(instances)}`),
      requestId: job.submitRequestId,
    };
    return { written: await failJob(deps, job, error, instances), failed: true, terminateCalls };
  }
  if (job.rollback === null)
    return {
      written: await startRollback(deps, job, { instances, rollback }),
      failed: false,
      terminateCalls,
    };
  return {
    written: sameInstances(instances, job.instances) ? null : await recordProgress(deps, job, instances),
    failed: false,
    terminateCalls,
  };
}
