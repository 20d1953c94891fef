import { acquireLease, releaseLease } from '../jobs/lease.ts';
import type { Job } from '../jobs/model.ts';
import { requeueStaleJobs, type SweepDeps } from '../jobs/sweep.ts';
import { deliverDueEvents, type NotifyDeps, type NotifySummary } from '../notify/notifier.ts';
import type { SubmitDeps } from '../submit/deps.ts';
import { resolveStuckJobs } from '../submit/stuck.ts';
import { type PollDeps, type PollSummary, pollSubmittedJobs } from './poll-jobs.ts';

/** What one scheduled run needs: the sweep's, the poller's and the notifier's collaborators. */
export type ScheduledRunDeps = SweepDeps & SubmitDeps & PollDeps & NotifyDeps & { newId: () => string };

export type ScheduledRunResult =
  | { ran: false; reason: 'lease-held' }
  | {
      ran: true;
      /** Each step's result, or `{ failed }` naming the error it stopped with. */
      requeued: number | StepFailed;
      stuck: Awaited<ReturnType<typeof resolveStuckJobs>> | StepFailed;
      poll: PollSummary | StepFailed;
      notify: NotifySummary | StepFailed;
    };

export interface StepFailed {
  failed: string;
}

/** The time the notifier is kept at the end of a run: one attempt's longest (15 s) and a margin. */
const NOTIFY_SHARE_MS = 20_000;

/** The lease's name: one scheduled run at a time. */
export const POLL_LEASE = 'poll';

/**
 * One scheduled run (EventBridge, every minute, at least once, possibly overlapping): under a lease, the sweep
 * (lost messages, stuck submissions), then the poller (SUBMITTED jobs to their end), then the notifier (every
 * event due, those the poller just wrote included: they are handed over, since the due-events index is
 * eventually consistent). A run that finds the lease held does nothing.
 */
export async function runScheduled(
  deps: ScheduledRunDeps,
  options: { remainingMs: () => number },
): Promise<ScheduledRunResult> {
  const lease = await acquireLease(deps, POLL_LEASE, deps.newId(), deps.now() + options.remainingMs());
  if (!lease) {
    deps.logger.info('another scheduled run holds the lease; this one does nothing');
    return { ran: false, reason: 'lease-held' };
  }
  try {
    // The sweep and the poller leave the notifier its share of the run: events they write go out in it.
    const beforeNotifying = { remainingMs: () => options.remainingMs() - NOTIFY_SHARE_MS };
    const written: Job[] = [];
    // Each step on its own: one that fails (a store or queue outage) is logged, and the others still run.
    const step = async <T>(name: string, work: () => Promise<T>): Promise<T | { failed: string }> => {
      try {
        return await work();
      } catch (error) {
        deps.logger.error(`the scheduled run's ${name} failed; the next run tries again`, { error });
        return { failed: error instanceof Error ? error.name : 'Error' };
      }
    };
    const requeued = await step('sweep of lost messages', () =>
      requeueStaleJobs(deps, { limit: 100, ...beforeNotifying }),
    );
    const stuck = await step('sweep of stuck submissions', () => resolveStuckJobs(deps, beforeNotifying));
    const poll = await step('poller', () =>
      pollSubmittedJobs(deps, { ...beforeNotifying, onWritten: (job) => written.push(job) }),
    );
    const notify = await step('notifier', () => deliverDueEvents(deps, { ...options, jobs: written }));
    return { ran: true, requeued, stuck, poll, notify };
  } finally {
    await releaseLease(deps, lease).catch((error: unknown) =>
      deps.logger.warn('could not give the lease back; it runs out on its own', { error }),
    );
  }
}
