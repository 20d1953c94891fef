import type { Job, JobError } from '../jobs/model.ts';
import type { OutboxDeps } from '../jobs/outbox.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { TencentClient } from '../tencent/client.ts';
import type { Pacer } from './pacer.ts';

/** What submitting and reconciling need (built by lib/deps.ts). */
export interface SubmitDeps extends OutboxDeps {
  tencent: Pick<TencentClient, 'call'>;
  logger: Logger;
  /** SubmitAttempts by outcome and code; none: not counted. */
  metrics?: Metrics;
  /** The RunInstances pacer of a region (module scope: shared by every invocation of a container). */
  pacer(region: string): Pacer;
  /** How long after a call ended its instances' tags may still be invisible (TAG_VISIBILITY_WINDOW_MS). */
  tagVisibilityWindowMs: number;
  random?: () => number;
  /** Longest Tencent calls (defaults: RunInstances 60 s, DescribeInstances 10 s); tests shorten them. */
  timeouts?: { runInstancesMs?: number; describeMs?: number };
}

/** One delivery of a job's message, as the handler sees it. */
export interface Delivery {
  /** SQS's ApproximateReceiveCount: 1 on the first delivery. */
  receiveCount: number;
  /** What is left of the Lambda invocation (context.getRemainingTimeInMillis). */
  remainingMs(): number;
}

/** What became of a delivery: done (delete the message), or to be retried after a delay. */
export type SubmitOutcome =
  | { kind: 'done'; result: 'submitted' | 'reconciled' | 'failed' | 'already-done' | 'no-job' }
  | {
      kind: 'retry';
      delaySeconds: number;
      reason: string;
      /**
       * false: a wait, not an attempt (a claim held elsewhere, tags not yet visible, no time left to call):
       * the delivery is put back as a fresh delayed message, so waiting never uses up the message's receives.
       */
      spendsReceive: boolean;
    };

export const done = (result: Extract<SubmitOutcome, { kind: 'done' }>['result']): SubmitOutcome => ({
  kind: 'done',
  result,
});

/** An attempt failed and is retried: this counts towards the queue's maxReceiveCount. */
export const retry = (delaySeconds: number, reason: string): SubmitOutcome => ({
  kind: 'retry',
  delaySeconds: Math.max(1, Math.ceil(delaySeconds)),
  reason,
  spendsReceive: true,
});

/** Nothing was attempted; come back later without using up a receive. */
export const wait = (delaySeconds: number, reason: string): SubmitOutcome => ({
  kind: 'retry',
  delaySeconds: Math.max(1, Math.ceil(delaySeconds)),
  reason,
  spendsReceive: false,
});

/** Kept back from every Tencent call's budget, to write what the call did before the Lambda is stopped. */
export const DEADLINE_MARGIN_MS = 5_000;

/** What is left for a Tencent call: the invocation's remaining time less the margin, at most `max`. */
export function callBudget(delivery: Pick<Delivery, 'remainingMs'>, max: number): number {
  return Math.min(max, delivery.remainingMs() - DEADLINE_MARGIN_MS);
}

/** A wait until another delivery's live claim on a SUBMITTING job ends; undefined when no claim is live. */
export function claimHeld(job: Job, now: number): SubmitOutcome | undefined {
  if (job.status !== 'SUBMITTING' || job.claimExpiresAt === null) return undefined;
  const left = Date.parse(job.claimExpiresAt) - now;
  return left > 0 ? wait(left / 1000, 'another delivery holds the claim') : undefined;
}

/** A job error from anything thrown, for `lastError` and logs (Tencent's code and RequestId when it answered). */
export function jobErrorOf(error: unknown): JobError {
  const e = error as { code?: unknown; message?: unknown; requestId?: unknown; name?: unknown } | null;
  return {
    code: typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(error),
    requestId: typeof e?.requestId === 'string' ? e.requestId : null,
  };
}
