import { acquireLease, releaseLease } from '../jobs/lease.ts';
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
      requeued: number;
      stuck: Awaited<ReturnType<typeof resolveStuckJobs>>;
      poll: PollSummary;
      notify: NotifySummary;
    };

/** The lease's name: one scheduled run at a time. */
export const POLL_LEASE = 'poll';

/**
 * One scheduled run (EventBridge, every minute, at least once, possibly overlapping): under a lease, the sweep
 * (lost messages, stuck submissions), then the poller (SUBMITTED jobs to their end), then the notifier (every
 * event due, those the poller just wrote included). A run that finds the lease held does nothing.
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
    const requeued = await requeueStaleJobs(deps, { limit: 100 });
    const stuck = await resolveStuckJobs(deps, options);
    const poll = await pollSubmittedJobs(deps, options);
    const notify = await deliverDueEvents(deps, options);
    return { ran: true, requeued, stuck, poll, notify };
  } finally {
    await releaseLease(deps, lease).catch((error: unknown) =>
      deps.logger.warn('could not give the lease back; it runs out on its own', { error }),
    );
  }
}
