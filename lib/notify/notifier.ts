import type { Webhook } from 'standardwebhooks';
import type { Dispatcher } from 'undici';
import { isoTime } from '../clock.ts';
import { JobConflictError } from '../errors.ts';
import type { Delivery, DeliveryAttempt, Job, JobEvent } from '../jobs/model.ts';
import { CHAT_TARGET, JOB_WEBHOOK_TARGET, recordDeliveries } from '../jobs/outbox.ts';
import { getJob, listJobsWithEventsDue, type StoreDeps } from '../jobs/store.ts';
import { jobLogFields, type Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import {
  attemptChatFollowUp,
  type ChatFollowUpSettings,
  type ChatRoute,
  chatRoute,
  responseUrlUses,
} from './chat.ts';
import { type AttemptOutcome, attemptDelivery } from './deliver.ts';
import { webhookBody, webhookHeaders } from './payload.ts';
import { nextRetryDelay } from './schedule.ts';

/**
 * The notifier (docs/webhooks.md): finds jobs with a delivery due through the sparse due-events index (and
 * takes those the poller just wrote), sends
 * each due event to each of its targets, and records every attempt on the job. At least once: an attempt is
 * recorded after it is sent, so a run that dies in between sends it again, with the same `webhook-id`.
 */

export interface NotifyDeps extends StoreDeps {
  logger: Logger;
  /** WebhookDeliveries and WebhookDeliveryFailures; none: not counted. */
  metrics?: Metrics;
  /** The SSRF-guarded dispatcher (lib/notify/ssrf.ts). */
  dispatcher: Dispatcher;
  /** One per WEBHOOK_SECRET secret. */
  signers: readonly Webhook[];
  /** The URL of each configured target by name (`default`: DEFAULT_WEBHOOK_URL). */
  targetUrls: Readonly<Record<string, string>>;
  allowPrivate: boolean;
  /** One attempt's limit (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** Attempts at once, overall (WEBHOOK_CONCURRENCY); any one target gets at most half of them. */
  concurrency: number;
  /** Delays between attempts (WEBHOOK_RETRY_SCHEDULE). */
  retrySchedule: readonly number[];
  /** Chat follow-ups after a command's response_url has run out. */
  chatFollowUps: ChatFollowUpSettings;
  random?: () => number;
}

export interface NotifySummary {
  attempts: number;
  delivered: number;
  /** Deliveries that will be tried again. */
  retrying: number;
  /** Deliveries that ended FAILED (the schedule ran out, or the target is refused). */
  failed: number;
  /** Deliveries ended STOPPED (410 Gone, or a target no longer configured). */
  stopped: number;
  /** Jobs whose due deliveries were left for the next run (no time left). */
  deferred: number;
}

/**
 * Time kept back at the end of a run to record what was sent: one DynamoDB write with the SDK's retry (about
 * 2 × 2 s, lib/deps.ts), a re-read and a second write after a conflict, and the lease given back.
 */
const RECORD_MARGIN_MS = 10_000;
/**
 * After this many attempts in a row to one origin end without an answer (timeouts, refused connections), the
 * origin counts as unreachable for the rest of the run: its other deliveries are put off, so a dead receiver
 * every job shares (DEFAULT_WEBHOOK_URL) cannot use up the run of the jobs behind it.
 */
const UNREACHABLE_AFTER = 3;
/** How far a delivery put off because its origin was unreachable moves back (no attempt is counted). */
const UNREACHABLE_DEFER_MS = 60_000;
/** An attempt with less time than this is not started: it is left for the next run. */
const MIN_ATTEMPT_MS = 1000;
/** How often a job whose item changed meanwhile is read again to record its attempts. */
const RECORD_TRIES = 3;

/** A counting semaphore: at most `limit` holders at once. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(limit: number) {
    this.free = limit;
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** Overall and per-target bounds on attempts in flight, so one slow target cannot hold up the others. */
function createLimiter(concurrency: number) {
  const overall = new Slots(concurrency);
  const perTarget = new Map<string, Slots>();
  const targetLimit = Math.max(1, Math.ceil(concurrency / 2));
  return async <T>(origin: string, work: () => Promise<T>): Promise<T> => {
    let slots = perTarget.get(origin);
    if (!slots) {
      slots = new Slots(targetLimit);
      perTarget.set(origin, slots);
    }
    await slots.take();
    await overall.take();
    try {
      return await work();
    } finally {
      overall.give();
      slots.give();
    }
  };
}

type Limiter = ReturnType<typeof createLimiter>;

/** What one run shares between its jobs: the attempt slots, the time left, and the origins that stopped answering. */
interface RunState {
  limit: Limiter;
  remainingMs: () => number;
  /** Attempts in a row without an answer, by origin. */
  silence: Map<string, number>;
}

const unreachable = (run: RunState, origin: string) => (run.silence.get(origin) ?? 0) >= UNREACHABLE_AFTER;

/** Where a target name points for this job, or undefined when nothing is configured for it any more. */
function targetUrl(deps: NotifyDeps, job: Job, target: string): string | undefined {
  if (target === JOB_WEBHOOK_TARGET) return job.webhookUrl ?? undefined;
  return Object.hasOwn(deps.targetUrls, target) ? deps.targetUrls[target] : undefined;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** One signed webhook attempt: the body built from the event, signed for this attempt. */
function sendWebhook(
  deps: NotifyDeps,
  job: Job,
  event: JobEvent,
  url: string,
  at: number,
  timeoutMs: number,
): Promise<AttemptOutcome> {
  const body = webhookBody(job, event);
  return attemptDelivery(deps, {
    url,
    headers: webhookHeaders(deps.signers, event.id, at, body),
    body,
    timeoutMs,
    allowPrivate: deps.allowPrivate,
  });
}

/**
 * Counts one webhook attempt (chat follow-ups are not webhooks and are not counted): WebhookDeliveries for every
 * attempt made, WebhookDeliveryFailures for each that did not deliver (no answer, a non-2xx, a 410 Gone).
 */
function countWebhookAttempt(deps: NotifyDeps, outcome: AttemptOutcome): void {
  deps.metrics?.count('WebhookDeliveries');
  if (outcome.kind !== 'delivered') deps.metrics?.count('WebhookDeliveryFailures');
}

/** The delivery after one attempt's outcome. */
function afterAttempt(
  deps: NotifyDeps,
  delivery: Delivery,
  at: number,
  outcome: AttemptOutcome,
  via?: DeliveryAttempt['via'],
): Delivery {
  const error = outcome.kind === 'failed' ? outcome.error : undefined;
  const attempt: DeliveryAttempt = {
    at: new Date(at).toISOString(),
    ...(via ? { via } : {}),
    ...(outcome.status === undefined ? {} : { status: outcome.status }),
    ...(error === undefined && outcome.status === undefined ? { error: 'failed' } : {}),
    ...(error === undefined ? {} : { error }),
  };
  const attempts = [...delivery.attempts, attempt];
  if (outcome.kind === 'delivered') return { state: 'DELIVERED', attempts, nextAttemptAt: null };
  if (outcome.kind === 'gone') return { state: 'STOPPED', attempts, nextAttemptAt: null };
  const delay = outcome.retryable
    ? nextRetryDelay(deps.retrySchedule, attempts.length, deps.random ?? Math.random, outcome.retryAfterMs)
    : undefined;
  if (delay === undefined) return { state: 'FAILED', attempts, nextAttemptAt: null };
  return { state: 'PENDING', attempts, nextAttemptAt: new Date(at + delay).toISOString() };
}

/** Each target's due deliveries of the job, events oldest first. */
function dueByTarget(job: Job, dueBy: string): Map<string, JobEvent[]> {
  const byTarget = new Map<string, JobEvent[]>();
  const events = Object.values(job.events).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  for (const event of events) {
    for (const [target, delivery] of Object.entries(event.deliveries)) {
      if (delivery.state !== 'PENDING' || delivery.nextAttemptAt === null || delivery.nextAttemptAt > dueBy)
        continue;
      byTarget.set(target, [...(byTarget.get(target) ?? []), event]);
    }
  }
  return byTarget;
}

type Updates = Record<string, Record<string, Delivery>>;

/**
 * Sends the job's due deliveries (targets in parallel, each target's events in order) and returns what
 * became of each, or undefined for a job left for the next run.
 */
async function deliverJob(
  deps: NotifyDeps,
  job: Job,
  run: RunState,
  summary: NotifySummary,
): Promise<Updates> {
  const updates: Updates = {};
  const set = (eventId: string, target: string, delivery: Delivery) => {
    updates[eventId] = { ...updates[eventId], [target]: delivery };
  };
  const dueBy = isoTime(deps.now);
  let deferred = false;
  await Promise.all(
    [...dueByTarget(job, dueBy)].map(async ([target, events]) => {
      if (target !== CHAT_TARGET && deps.signers.length === 0) {
        // Left due as it is, no attempt counted: it goes once WEBHOOK_SECRET is set.
        deferred = true;
        return;
      }
      const url = targetUrl(deps, job, target);
      let chatUses = target === CHAT_TARGET ? responseUrlUses(job) : 0;
      // A 410 Gone from this target for any event of the job stops the rest (Standard Webhooks: disable it).
      let gone = Object.values(job.events).some((event) => {
        const delivery = event.deliveries[target];
        return delivery?.state === 'STOPPED' && delivery.attempts.at(-1)?.status === 410;
      });
      for (const event of events) {
        const delivery = event.deliveries[target] as Delivery;
        const context = { ...jobLogFields(job), eventId: event.id, type: event.type, target };
        const route =
          target === CHAT_TARGET ? chatRoute(job, deps.now(), chatUses, deps.chatFollowUps) : undefined;
        const sendTo = route ? (route.via === 'expired' ? undefined : route.url) : url;
        if (sendTo === undefined || gone) {
          // 410 from this target for an earlier event of the job, a target no longer configured, or a chat
          // follow-up whose response_url ran out with nothing to post through instead.
          const error = gone
            ? 'not sent: the target answered 410 Gone for an earlier event'
            : route?.via === 'expired'
              ? route.reason
              : `not sent: no URL is configured for target ${target}`;
          set(event.id, target, {
            state: 'STOPPED',
            attempts: [...delivery.attempts, { at: isoTime(deps.now), error }],
            nextAttemptAt: null,
          });
          summary.stopped++;
          deps.logger.warn(`webhook ${error}`, context);
          continue;
        }
        const origin = originOf(sendTo);
        const outcome = await run.limit(origin, async () => {
          if (unreachable(run, origin)) return 'unreachable' as const;
          const timeoutMs = Math.min(deps.timeoutMs, run.remainingMs() - RECORD_MARGIN_MS);
          if (timeoutMs < MIN_ATTEMPT_MS) return 'no-time' as const;
          const at = deps.now();
          summary.attempts++;
          if (route?.via === 'response_url') chatUses++;
          const result = route
            ? await attemptChatFollowUp(deps, job, event, route as Exclude<ChatRoute, { via: 'expired' }>, {
                timeoutMs,
                allowPrivate: deps.allowPrivate,
              })
            : await sendWebhook(deps, job, event, sendTo, at, timeoutMs);
          const answered = !(result.kind === 'failed' && result.status === undefined && result.retryable);
          run.silence.set(origin, answered ? 0 : (run.silence.get(origin) ?? 0) + 1);
          if (!route) countWebhookAttempt(deps, result);
          return { at, result };
        });
        if (outcome === 'no-time') {
          // Left due as it is: the next run takes it first.
          deferred = true;
          break;
        }
        if (outcome === 'unreachable') {
          // Put off, not attempted: this and the target's later events of the job wait a minute.
          const later = new Date(deps.now() + UNREACHABLE_DEFER_MS).toISOString();
          for (const rest of events.slice(events.indexOf(event))) {
            set(rest.id, target, { ...(rest.deliveries[target] as Delivery), nextAttemptAt: later });
          }
          deferred = true;
          deps.logger.warn('webhook put off: its target did not answer the run’s last attempts', context);
          break;
        }
        const next = afterAttempt(
          deps,
          delivery,
          outcome.at,
          outcome.result,
          route && route.via !== 'expired' ? route.via : undefined,
        );
        set(event.id, target, next);
        const last = next.attempts.at(-1);
        if (next.state === 'DELIVERED') {
          summary.delivered++;
          deps.logger.info('webhook delivered', { ...context, status: last?.status });
        } else if (next.state === 'STOPPED') {
          summary.stopped++;
          gone = true;
          deps.logger.warn('webhook target answered 410 Gone: no more events of this job go there', context);
        } else if (next.state === 'FAILED') {
          summary.failed++;
          if (target !== CHAT_TARGET) deps.metrics?.count('WebhookDeliveriesFailed');
          deps.logger.error('webhook delivery failed for good', {
            ...context,
            attempts: next.attempts.length,
            last,
          });
        } else {
          summary.retrying++;
          deps.logger.warn('webhook attempt failed; it is tried again later', {
            ...context,
            attempt: next.attempts.length,
            last,
            nextAttemptAt: next.nextAttemptAt,
          });
        }
      }
    }),
  );
  if (deferred) summary.deferred++;
  return updates;
}

/**
 * Records the attempts on the job. A job item that changed meanwhile (a transition, another run) is read again
 * and the attempts recorded there — except for deliveries someone else has recorded since, whose record stands.
 */
async function record(
  deps: NotifyDeps,
  job: Job,
  updates: Updates,
  remainingMs: () => number,
): Promise<void> {
  let current = job;
  let pending = updates;
  for (let tries = 1; ; tries++) {
    if (Object.keys(pending).length === 0) return;
    try {
      await recordDeliveries(deps, current, pending);
      return;
    } catch (error) {
      const again = tries < RECORD_TRIES && remainingMs() > RECORD_MARGIN_MS / 2;
      if (!(error instanceof JobConflictError) || !again) throw error;
      const fresh = await getJob(deps, job.jobId);
      if (!fresh) return;
      const kept: Updates = {};
      for (const [eventId, targets] of Object.entries(pending)) {
        for (const [target, delivery] of Object.entries(targets)) {
          const before = job.events[eventId]?.deliveries[target];
          const now = fresh.events[eventId]?.deliveries[target];
          // Untouched since we read it: ours is the next record.
          if (before && now && now.attempts.length === before.attempts.length && now.state === before.state)
            kept[eventId] = { ...kept[eventId], [target]: delivery };
        }
      }
      current = fresh;
      pending = kept;
    }
  }
}

/** The jobs of both lists, each once, in its newest version. */
function mergeNewest(listed: readonly Job[], written: readonly Job[]): Job[] {
  const byId = new Map<string, Job>();
  for (const job of [...listed, ...written]) {
    const known = byId.get(job.jobId);
    if (!known || known.version < job.version) byId.set(job.jobId, job);
  }
  return [...byId.values()];
}

/**
 * Delivers every event due now (up to `limit` jobs), within the run's time: no attempt starts that could
 * outlast it, and what is left stays due for the next run.
 */
export async function deliverDueEvents(
  deps: NotifyDeps,
  options: {
    remainingMs: () => number;
    limit?: number;
    /**
     * Jobs just written (by the poller in the same run), as written: the due-events index is eventually
     * consistent and may not list them yet.
     */
    jobs?: readonly Job[];
  },
): Promise<NotifySummary> {
  const summary: NotifySummary = {
    attempts: 0,
    delivered: 0,
    retrying: 0,
    failed: 0,
    stopped: 0,
    deferred: 0,
  };
  const due = await listJobsWithEventsDue(deps, isoTime(deps.now), { limit: options.limit ?? 500 });
  const jobs = mergeNewest(due, options.jobs ?? []);
  if (deps.signers.length === 0 && jobs.length)
    // Nothing goes out unsigned: webhooks stay due until WEBHOOK_SECRET is set (chat follow-ups are not signed).
    deps.logger.error('WEBHOOK_SECRET is not set: no webhook is sent, events stay due', {
      jobs: jobs.length,
    });
  const run: RunState = {
    limit: createLimiter(deps.concurrency),
    remainingMs: options.remainingMs,
    silence: new Map(),
  };
  await Promise.all(
    jobs.map(async (job) => {
      const updates = await deliverJob(deps, job, run, summary);
      try {
        await record(deps, job, updates, options.remainingMs);
      } catch (error) {
        // Sent but not recorded: the next run sends it again (same webhook-id; receivers dedupe).
        deps.logger.error('could not record webhook attempts; they will be sent again', {
          ...jobLogFields(job),
          error,
        });
      }
    }),
  );
  return summary;
}
