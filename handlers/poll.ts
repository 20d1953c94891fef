import type { Context } from 'aws-lambda';
import { createScheduledDeps } from '../lib/deps.ts';
import { instrument } from '../lib/invocation.ts';
import { runScheduled } from '../lib/poll/run.ts';

const deps = createScheduledDeps();

/**
 * The scheduled run (EventBridge, every minute; at least once, possibly overlapping): under a lease, the sweep,
 * the poller of SUBMITTED jobs and the notifier, stopping before the Lambda's deadline.
 */
export const handler = instrument(deps.observability, (_event: unknown, context: Context) =>
  runScheduled(deps, { remainingMs: () => context.getRemainingTimeInMillis() }),
);
