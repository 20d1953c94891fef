import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import type { Logger } from '../../lib/log.ts';
import type { LocalFunction } from './lambda.ts';

/**
 * An EventBridge schedule on the local stack: invokes the function with a "Scheduled Event" every
 * `intervalMs` (POLL_INTERVAL_MS) instead of its rate. Like EventBridge, a tick does not wait for the last
 * run. A tick that finds the function at its reserved concurrency is dropped: Lambda would throttle it and
 * retry the asynchronous event until its maximum event age (docs/aws.md, "EventBridge schedules"); locally the next
 * tick comes within the interval anyway.
 */
export interface ScheduleRunner {
  readonly ticks: number;
  stop(): Promise<void>;
}

/** The event EventBridge hands a function for a tick of the rule `ruleName`, as of now. */
export function scheduledEvent(ruleName: string): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [`arn:aws:events:us-east-1:000000000000:rule/${ruleName}`],
    detail: {},
  };
}

export function startScheduleSource(options: {
  fn: LocalFunction;
  ruleName: string;
  intervalMs: number;
  reservedConcurrency: number | undefined;
  logger: Logger;
}): ScheduleRunner {
  const { fn, logger } = options;
  const runs = new Set<Promise<unknown>>();
  let ticks = 0;
  const tick = () => {
    if (options.reservedConcurrency !== undefined && fn.inFlight >= options.reservedConcurrency) {
      logger.debug('schedule tick dropped: the function is at its reserved concurrency', {
        function: fn.name,
      });
      return;
    }
    ticks++;
    const event = scheduledEvent(options.ruleName);
    const run = fn
      .invoke(event)
      .catch((error: unknown) => logger.warn('a scheduled run failed', { function: fn.name, error }))
      .finally(() => runs.delete(run));
    runs.add(run);
  };
  const timer = setInterval(tick, options.intervalMs);
  return {
    get ticks() {
      return ticks;
    },
    async stop() {
      clearInterval(timer);
      await Promise.allSettled(runs);
    },
  };
}
