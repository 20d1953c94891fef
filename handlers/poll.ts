import type { Context } from 'aws-lambda';
import { createSweepDeps } from '../lib/deps.ts';
import { requeueStaleJobs } from '../lib/jobs/sweep.ts';
import { resolveStuckJobs } from '../lib/submit/stuck.ts';

const deps = createSweepDeps();

/**
 * The scheduled sweep (EventBridge, every minute, one at a time): QUEUED jobs whose message was lost get it
 * again; SUBMITTING jobs no delivery came back for are reconciled and then recorded, retried or failed.
 */
export async function handler(_event: unknown, context: Context) {
  const requeued = await requeueStaleJobs(deps, { limit: 100 });
  const stuck = await resolveStuckJobs(deps, { remainingMs: () => context.getRemainingTimeInMillis() });
  return { requeued, stuck };
}
