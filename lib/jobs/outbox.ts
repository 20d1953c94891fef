import { isoTime } from '../clock.ts';
import { ProvisionerError } from '../errors.ts';
import type { Delivery, EventType, Job, JobEvent, JobSnapshot } from './model.ts';
import { type ItemPath, type StoreDeps, writeJob } from './store.ts';
import { NOTIFY_PENDING } from './table.ts';

/**
 * The outbox on the job item (docs/job-lifecycle.md, "Outbox"): a transition that emits an event writes it in
 * the same conditional UpdateItem as the transition, so the two land together or not at all — on DynamoDB and
 * on dynalite alike, with no transactions. Events live under `events.<id>`; a job with a delivery due carries
 * `notifyPending`/`notifyAt`, the keys of the sparse due-events index.
 */

/** The delivery targets named by configuration for every event (`default`: DEFAULT_WEBHOOK_URL). */
export interface OutboxDeps extends StoreDeps {
  eventTargets?: readonly string[];
}

/** The job's own webhookUrl, as a delivery target name. */
export const JOB_WEBHOOK_TARGET = 'webhook';
/** DEFAULT_WEBHOOK_URL, as a delivery target name. */
export const DEFAULT_WEBHOOK_TARGET = 'default';
/** The chat a job came from (its response_url, or the channel through chat.postMessage). */
export const CHAT_TARGET = 'chat';

/**
 * An event's id: stable across every attempt and redelivery (the Standard Webhooks `webhook-id`, on which
 * receivers dedupe), and derived from the job, since a job emits each type at most once. No `.` in it.
 */
export function eventId(jobId: string, type: EventType): string {
  return `evt_${jobId}_${type.slice('job.'.length)}`;
}

/** Where a job's events go: its own webhookUrl, the chat it came from, and the targets configuration names. */
export function eventTargets(deps: OutboxDeps, job: Pick<Job, 'webhookUrl' | 'chat'>): string[] {
  return [
    ...(job.webhookUrl ? [JOB_WEBHOOK_TARGET] : []),
    ...(job.chat ? [CHAT_TARGET] : []),
    ...(deps.eventTargets ?? []),
  ];
}

/** A new event of `type` for the job, due now at each of its targets. */
export function newEvent(deps: OutboxDeps, job: Job, type: EventType, snapshot: JobSnapshot): JobEvent {
  const now = isoTime(deps.now);
  const deliveries: Record<string, Delivery> = {};
  for (const target of eventTargets(deps, job))
    deliveries[target] = { state: 'PENDING', attempts: [], nextAttemptAt: now };
  return { id: eventId(job.jobId, type), type, createdAt: now, snapshot, deliveries };
}

/** The earliest next attempt among the job's pending deliveries, or undefined when nothing is due. */
export function nextDueAt(events: Iterable<JobEvent>): string | undefined {
  let earliest: string | undefined;
  for (const event of events) {
    for (const delivery of Object.values(event.deliveries)) {
      if (delivery.state !== 'PENDING' || delivery.nextAttemptAt === null) continue;
      if (earliest === undefined || delivery.nextAttemptAt < earliest) earliest = delivery.nextAttemptAt;
    }
  }
  return earliest;
}

/** The part of a write that adds `event` to the job's outbox and makes it findable when due. */
export function outboxWrite(job: Job, event: JobEvent): Array<readonly [ItemPath, unknown]> {
  const set: Array<readonly [ItemPath, unknown]> = [[['events', event.id], event]];
  const due = nextDueAt([...Object.values(job.events), event]);
  if (due !== undefined) set.push([['notifyPending'], NOTIFY_PENDING], [['notifyAt'], due]);
  return set;
}

/**
 * Records delivery outcomes for some of the job's events (`updates[eventId][target]`), and moves the job's
 * due time to its earliest pending delivery — or out of the due-events index when none is left. Conditioned
 * on the job's version like every job write: of two notifiers racing, one records (JobConflictError for the
 * other, whose deliveries the receiver dedupes by webhook-id).
 */
export async function recordDeliveries(
  deps: StoreDeps,
  job: Job,
  updates: Readonly<Record<string, Readonly<Record<string, Delivery>>>>,
): Promise<Job> {
  const set: Array<readonly [ItemPath, unknown]> = [];
  const events = new Map(Object.entries(job.events));
  for (const [id, targets] of Object.entries(updates)) {
    const event = events.get(id);
    if (!event) throw new ProvisionerError('UnknownEvent', `job ${job.jobId} has no event ${id}`);
    const deliveries = { ...event.deliveries };
    for (const [target, delivery] of Object.entries(targets)) {
      if (!Object.hasOwn(event.deliveries, target))
        throw new ProvisionerError('UnknownTarget', `event ${id} has no target ${target}`);
      deliveries[target] = delivery;
      set.push([['events', id, 'deliveries', target], delivery]);
    }
    events.set(id, { ...event, deliveries });
  }
  const due = nextDueAt(events.values());
  if (due !== undefined) set.push([['notifyPending'], NOTIFY_PENDING], [['notifyAt'], due]);
  return writeJob(deps, job, {
    set,
    ...(due === undefined ? { remove: [['notifyPending'], ['notifyAt']] } : {}),
  });
}
