import { JobConflictError } from '../errors.ts';
import { failJob, finishJob, recordProgress } from '../jobs/lifecycle.ts';
import { type Job, type JobError, type JobInstance, sameInstances } from '../jobs/model.ts';
import type { OutboxDeps } from '../jobs/outbox.ts';
import { listPendingJobs } from '../jobs/store.ts';
import { jobLogger, type Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Pacer } from '../submit/pacer.ts';
import type { TencentClient } from '../tencent/client.ts';
import { clip, minCountMissed, type RollbackDeps, rollBackJob } from './min-count.ts';

/**
 * The poller (docs/job-lifecycle.md, "The poller"): every SUBMITTED job, through the sparse pending index,
 * watched to the true end of its launch. Instance ids are packed a hundred to a DescribeInstances call per
 * region — calls per run are Σ over regions of ceil(ids / 100) — and each job is decided as soon as the calls
 * holding its ids have answered. Every write goes through the lifecycle, conditioned on the job's version.
 */

export interface PollDeps extends OutboxDeps, RollbackDeps {
  tencent: Pick<TencentClient, 'call'>;
  logger: Logger;
  /** TimeToSucceeded; none: not measured. */
  metrics?: Metrics;
  /** The DescribeInstances pacer of a region (DESCRIBE_RATE_PER_SECOND). */
  describePacer(region: string): Pacer;
  /** JOB_TIMEOUT_SECONDS in milliseconds: SUBMITTED this long without every instance settled → TIMED_OUT. */
  jobTimeoutMs: number;
  /** INSTANCE_VISIBILITY_GRACE_MS: how long an instance Describe does not return still counts as pending. */
  visibilityGraceMs: number;
  /** One DescribeInstances call's limit (default 10 s). */
  describeTimeoutMs?: number;
}

export interface PollSummary {
  jobs: number;
  describeCalls: number;
  describeFailures: number;
  succeeded: number;
  partiallyFailed: number;
  failed: number;
  timedOut: number;
  /** Jobs whose instances changed but are not settled yet. */
  progressed: number;
  /** Jobs left for the next run: their calls could not be made in time. */
  deferred: number;
  /** Jobs another writer moved first (the write changed nothing). */
  conflicts: number;
  /** Jobs whose minCount was not met, terminating their instances (not yet FAILED). */
  rollingBack: number;
  /** TerminateInstances calls made for them. */
  terminateCalls: number;
}

/**
 * DescribeInstances takes at most 100 ids, and its `Limit` defaults to 20 even when more ids are sent, so the
 * poller always sends `Limit: 100` (docs/tencent.md, "DescribeInstances").
 */
export const DESCRIBE_MAX_IDS = 100;
const DEFAULT_DESCRIBE_TIMEOUT_MS = 10_000;
/** A call with less time than this is not made (its jobs wait for the next run). */
const MIN_DESCRIBE_MS = 2000;
/** Calls in flight per region; the pacer keeps them under the rate. */
const DESCRIBE_CONCURRENCY = 8;
/** Job writes in flight. */
const WRITE_CONCURRENCY = 16;
/** A call or write is not started with less of the run left than this. */
const STOP_MARGIN_MS = 5000;
/** The most SUBMITTED jobs one run reads; the rest wait for the next (oldest first). */
const MAX_JOBS_PER_RUN = 10_000;

/** TimeToSucceeded: from the job's acceptance (createdAt) to its SUCCEEDED write (completedAt). */
function measureTimeToSucceeded(deps: PollDeps, job: Job): void {
  const ms = Date.parse(job.completedAt ?? '') - Date.parse(job.createdAt);
  if (Number.isFinite(ms)) deps.metrics?.timing('TimeToSucceeded', ms);
}

/** The instance fields the poller reads from DescribeInstances. */
interface DescribedInstance {
  InstanceId?: string;
  InstanceState?: string;
  LatestOperationState?: string | null;
  LatestOperationErrorMsg?: string | null;
  LatestOperationRequestId?: string | null;
  PrivateIpAddresses?: string[] | null;
  PublicIpAddresses?: string[] | null;
}

/** Instance states after which a launch will not become usable (docs/tencent.md, "Instance states"). */
const FAILED_STATES: ReadonlySet<string> = new Set(['LAUNCH_FAILED', 'SHUTDOWN', 'TERMINATING', 'NOT_FOUND']);

/** Whether an instance is usable: RUNNING, and its latest operation no longer in progress. */
const isDone = (instance: DescribedInstance) =>
  instance.InstanceState === 'RUNNING' && instance.LatestOperationState !== 'OPERATING';

type Verdict = 'done' | 'failed' | 'pending';

interface Observation {
  instances: JobInstance[];
  verdicts: Verdict[];
  /** Instances the job asked for that it never recorded (see `missingInstances`): failed, for every decision. */
  missing: number;
  /** Whether DescribeInstances answered for the job this run. */
  answered: boolean;
  /** Tencent's RequestId of the operation that failed, for the job's error. */
  failedRequestId: string | null;
}

/** The job's instances as this run saw them (`seen`: every instance Describe returned; undefined: no answer). */
export function observe(
  job: Job,
  seen: ReadonlyMap<string, DescribedInstance> | undefined,
  now: number,
  graceMs: number,
): Observation {
  const instances: JobInstance[] = [];
  const verdicts: Verdict[] = [];
  let failedRequestId: string | null = null;
  const submittedAt = Date.parse(job.submittedAt ?? job.updatedAt);
  for (const before of job.instances) {
    const found = seen?.get(before.instanceId);
    if (found) {
      const state = found.InstanceState ?? 'UNKNOWN';
      const failed = FAILED_STATES.has(state);
      const reason = failed ? found.LatestOperationErrorMsg || `the instance is ${state}` : undefined;
      instances.push({
        instanceId: before.instanceId,
        state,
        privateIpAddresses: found.PrivateIpAddresses ?? [],
        publicIpAddresses: found.PublicIpAddresses ?? [],
        ...(reason === undefined ? {} : { reason }),
      });
      verdicts.push(isDone(found) ? 'done' : failed ? 'failed' : 'pending');
      if (failed) failedRequestId ??= found.LatestOperationRequestId ?? null;
      continue;
    }
    if (seen === undefined || FAILED_STATES.has(before.state) || now - submittedAt < graceMs) {
      // No answer this run; or known failed already (Tencent reclaims failed instances, and then Describe no
      // longer returns them); or new, and maybe not visible yet: as it was.
      instances.push(before);
      verdicts.push(FAILED_STATES.has(before.state) ? 'failed' : 'pending');
      continue;
    }
    instances.push({
      ...before,
      state: 'NOT_FOUND',
      reason: `DescribeInstances did not return the instance ${Math.round((now - submittedAt) / 1000)} s after RunInstances`,
    });
    verdicts.push('failed');
  }
  return {
    instances,
    verdicts,
    missing: missingInstances(job),
    failedRequestId,
    answered: seen !== undefined,
  };
}

/**
 * How many of the instances the job asked for it never recorded. RunInstances answers with every id; only a
 * job recorded by reconciliation can hold fewer, when its call's answer was lost and the lookup by tag came
 * after some of them had failed and been reclaimed (Tencent removes a failed launch on its own;
 * docs/job-lifecycle.md, "Submitting exactly once"). Those count as failed: a job of two with one RUNNING is
 * PARTIALLY_FAILED, never SUCCEEDED. None for a job with no instances at all (a DryRun).
 */
export function missingInstances(job: Job): number {
  if (job.instances.length === 0) return 0;
  return Math.max(0, Number(job.request.InstanceCount ?? 1) - job.instances.length);
}

/** What the error says of the instances a job never recorded. */
const missingNote = (missing: number) =>
  missing === 0
    ? ''
    : `; ${missing} never found: RunInstances' answer was lost and the lookup by tag did not find ${missing === 1 ? 'it' : 'them'} (a failed launch Tencent had already reclaimed)`;

const reasons = (instances: readonly JobInstance[]) =>
  instances.map((i) => `${i.instanceId}: ${i.reason ?? i.state}`).join('; ');

type Decision =
  | { move: 'succeed' }
  | { move: 'fail'; error: JobError }
  | { move: 'partiallyFail' | 'timeOut'; error: JobError }
  | { move: 'progress' }
  | { move: 'none' };

/**
 * A job whose DescribeInstances got no answer this run is timed out only this much after its deadline: one
 * throttled call just past JOB_TIMEOUT_SECONDS must not time out instances that became ready meanwhile.
 */
export const UNANSWERED_ALLOWANCE_MS = 3 * 60_000;

/** What the job's observation means: a terminal move, progress to record, or nothing. */
export function decide(job: Job, seen: Observation, now: number, timeoutMs: number): Decision {
  const { instances, verdicts, missing } = seen;
  const failed = instances.filter((_, i) => verdicts[i] === 'failed');
  const total = instances.length + missing;
  const failedCount = failed.length + missing;
  const requestId = seen.failedRequestId ?? job.submitRequestId;
  if (verdicts.every((v) => v !== 'pending')) {
    if (failedCount === 0) return { move: 'succeed' };
    if (failedCount === total) {
      return {
        move: 'fail',
        error: {
          code: 'LaunchFailed',
          message: clip(`All ${total} instances failed to launch: ${reasons(failed)}${missingNote(missing)}`),
          requestId,
        },
      };
    }
    return {
      move: 'partiallyFail',
      error: {
        code: 'LaunchFailed.Partial',
        message: clip(
          `${failedCount} of ${total} instances failed to launch${failed.length ? `: ${reasons(failed)}` : ''}${missingNote(missing)}`,
        ),
        requestId,
      },
    };
  }
  const submittedAt = Date.parse(job.submittedAt ?? job.updatedAt);
  if (now - submittedAt >= timeoutMs + (seen.answered ? 0 : UNANSWERED_ALLOWANCE_MS)) {
    const waiting = instances.filter((_, i) => verdicts[i] === 'pending');
    const states = waiting.map((i) => `${i.instanceId} ${i.state}`).join(', ');
    return {
      move: 'timeOut',
      error: {
        code: 'JobTimedOut',
        message: clip(
          `${waiting.length} of ${total} instances were not ready within ${Math.round(timeoutMs / 1000)} s (${states})${failed.length ? `; failed: ${reasons(failed)}` : ''}${missingNote(missing)}`,
        ),
        requestId: job.submitRequestId,
      },
    };
  }
  return sameInstances(instances, job.instances) ? { move: 'none' } : { move: 'progress' };
}

/** Runs `work` over `items` with at most `limit` at once. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  });
  await Promise.all(workers);
}

interface Tracked {
  job: Job;
  chunksLeft: number;
  unanswered: boolean;
}

interface Chunk {
  region: string;
  ids: string[];
  jobs: Tracked[];
}

/** Items by their region, in order. */
function byRegion<T extends { region: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.region);
    if (group) group.push(item);
    else groups.set(item.region, [item]);
  }
  return groups;
}

/** Packs the jobs' instance ids, region by region, a hundred to a call. */
function packChunks(jobs: readonly Job[]): { chunks: Chunk[]; tracked: Tracked[] } {
  const chunks: Chunk[] = [];
  const tracked: Tracked[] = [];
  for (const [region, regionJobs] of byRegion(jobs)) {
    let chunk: Chunk | undefined;
    for (const job of regionJobs) {
      const entry: Tracked = { job, chunksLeft: 0, unanswered: false };
      tracked.push(entry);
      for (const instance of job.instances) {
        if (!chunk || chunk.ids.length === DESCRIBE_MAX_IDS) {
          chunk = { region, ids: [], jobs: [] };
          chunks.push(chunk);
        }
        chunk.ids.push(instance.instanceId);
        if (chunk.jobs.at(-1) !== entry) {
          chunk.jobs.push(entry);
          entry.chunksLeft++;
        }
      }
    }
  }
  return { chunks, tracked };
}

/**
 * Polls every SUBMITTED job once (up to MAX_JOBS_PER_RUN, oldest first) and moves each as its instances say:
 * SUCCEEDED, FAILED, PARTIALLY_FAILED, TIMED_OUT, or progress recorded. Stops starting calls and writes
 * `STOP_MARGIN_MS` before the run's end; what it did not reach waits for the next run.
 */
export async function pollSubmittedJobs(
  deps: PollDeps,
  options: {
    remainingMs: () => number;
    /** Told every job the run wrote, as written (the notifier sends their new events in the same run). */
    onWritten?: (job: Job) => void;
  },
): Promise<PollSummary> {
  const summary: PollSummary = {
    jobs: 0,
    describeCalls: 0,
    describeFailures: 0,
    succeeded: 0,
    partiallyFailed: 0,
    failed: 0,
    timedOut: 0,
    progressed: 0,
    deferred: 0,
    conflicts: 0,
    rollingBack: 0,
    terminateCalls: 0,
  };
  const timeLeft = () => options.remainingMs() - STOP_MARGIN_MS;
  const jobs = await listPendingJobs(deps, 'SUBMITTED', { limit: MAX_JOBS_PER_RUN });
  summary.jobs = jobs.length;
  const seen = new Map<string, DescribedInstance>();
  const writes: Promise<void>[] = [];
  const writeQueue: Tracked[] = [];
  let writing = 0;

  const settle = async (entry: Tracked) => {
    if (timeLeft() <= 0) {
      summary.deferred++;
      return;
    }
    const now = deps.now();
    const observation = observe(entry.job, entry.unanswered ? undefined : seen, now, deps.visibilityGraceMs);
    const decision = decide(entry.job, observation, now, deps.jobTimeoutMs);
    const { instances } = observation;
    const log = jobLogger(deps.logger, entry.job);
    try {
      const missed = minCountMissed(
        entry.job,
        observation.verdicts,
        decision.move !== 'none' && decision.move !== 'progress',
        observation.missing,
      );
      if (entry.job.rollback !== null || missed !== null) {
        const rolled = await rollBackJob({ ...deps, logger: log }, entry.job, {
          instances,
          seen: entry.unanswered ? undefined : seen,
          reason: missed,
          timeLeft,
        });
        summary.terminateCalls += rolled.terminateCalls;
        if (rolled.failed) summary.failed++;
        else summary.rollingBack++;
        if (rolled.written) options.onWritten?.(rolled.written);
        if (rolled.failed) log.info('job finished', { outcome: 'fail', code: 'MinCountNotMet' });
        return;
      }
      if (decision.move === 'none') return;
      let written: Job;
      if (decision.move === 'progress') {
        written = await recordProgress(deps, entry.job, instances);
        summary.progressed++;
      } else if (decision.move === 'succeed') {
        written = await finishJob(deps, entry.job, 'succeed', { instances });
        summary.succeeded++;
        measureTimeToSucceeded(deps, written);
      } else if (decision.move === 'fail') {
        written = await failJob(deps, entry.job, decision.error, instances);
        summary.failed++;
      } else {
        written = await finishJob(deps, entry.job, decision.move, { instances, error: decision.error });
        if (decision.move === 'timeOut') summary.timedOut++;
        else summary.partiallyFailed++;
      }
      options.onWritten?.(written);
      if (decision.move !== 'progress')
        log.info('job finished', {
          outcome: decision.move,
          ...('error' in decision ? { code: decision.error.code } : {}),
        });
    } catch (error) {
      if (error instanceof JobConflictError) {
        summary.conflicts++;
        return;
      }
      log.error('could not record a job the poller saw; the next run tries again', { error });
    }
  };

  // Decided jobs are written as their calls answer, a bounded number at a time.
  const enqueueWrite = (entry: Tracked) => {
    writeQueue.push(entry);
    const pump = async (): Promise<void> => {
      while (writeQueue.length && writing < WRITE_CONCURRENCY) {
        const next = writeQueue.shift() as Tracked;
        writing++;
        await settle(next);
        writing--;
      }
    };
    writes.push(pump());
  };

  const { chunks, tracked } = packChunks(jobs);
  // A job with no instances (a DryRun that passed) has nothing to wait for.
  for (const entry of tracked) if (entry.chunksLeft === 0) enqueueWrite(entry);

  const deferredJobs = new Set<Tracked>();
  await Promise.all(
    [...byRegion(chunks)].map(([region, regionChunks]) =>
      eachLimited(regionChunks, DESCRIBE_CONCURRENCY, async (chunk) => {
        const pacer = deps.describePacer(region);
        const timeoutMs = Math.min(deps.describeTimeoutMs ?? DEFAULT_DESCRIBE_TIMEOUT_MS, timeLeft());
        const admitted =
          timeoutMs >= MIN_DESCRIBE_MS && (await pacer.take(deps.now() + timeLeft() - timeoutMs));
        if (!admitted) {
          for (const entry of chunk.jobs) deferredJobs.add(entry);
          return;
        }
        summary.describeCalls++;
        try {
          const response = await deps.tencent.call(
            'DescribeInstances',
            { InstanceIds: chunk.ids, Limit: DESCRIBE_MAX_IDS },
            { region, timeoutMs },
          );
          const set = Array.isArray(response.InstanceSet)
            ? (response.InstanceSet as DescribedInstance[])
            : [];
          // More found than returned: the answer is cut short, and the rest would count as not found.
          if (typeof response.TotalCount === 'number' && response.TotalCount > set.length)
            throw new Error(`DescribeInstances returned ${set.length} of ${response.TotalCount} instances`);
          for (const instance of set) if (instance.InstanceId) seen.set(instance.InstanceId, instance);
        } catch (error) {
          summary.describeFailures++;
          for (const entry of chunk.jobs) entry.unanswered = true;
          deps.logger.warn('DescribeInstances failed; its jobs wait for the next run unless they timed out', {
            region,
            instances: chunk.ids.length,
            jobIds: chunk.jobs.map((entry) => entry.job.jobId),
            error,
          });
        }
        for (const entry of chunk.jobs) {
          entry.chunksLeft--;
          if (entry.chunksLeft === 0 && !deferredJobs.has(entry)) enqueueWrite(entry);
        }
      }),
    ),
  );
  summary.deferred += deferredJobs.size;
  await Promise.all(writes);
  return summary;
}
