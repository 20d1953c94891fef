import { isoTime } from '../clock.ts';
import { InvalidRequestError, JobConflictError, NotFoundError } from '../errors.ts';
import type { Delivery, DeliveryAttempt, DeliveryState, EventType, Job, JobEvent } from '../jobs/model.ts';
import { CHAT_TARGET, type OutboxDeps, recordDeliveries } from '../jobs/outbox.ts';
import type { StoreDeps } from '../jobs/store.ts';
import { callersJob } from './jobs.ts';

/**
 * The job's outbox as its caller sees it (docs/http-api.md, "GET /v1/jobs/{jobId}/events"), and redelivery of
 * one event. The listing is an external contract: ids, types, times and every delivery's attempts; never the
 * snapshot (the job view has its own route) nor anything of the chat origin.
 */

export interface AttemptView {
  at: string;
  via?: NonNullable<DeliveryAttempt['via']>;
  status?: number;
  error?: string;
}

export interface DeliveryView {
  target: string;
  state: DeliveryState;
  attempts: AttemptView[];
  nextAttemptAt: string | null;
}

export interface EventView {
  id: string;
  type: EventType;
  createdAt: string;
  deliveries: DeliveryView[];
}

/** Code-unit order, not the locale's: the same order on every runtime. */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Only the attempt's documented members, whatever else an item may carry. */
function toAttemptView(attempt: DeliveryAttempt): AttemptView {
  return {
    at: attempt.at,
    ...(attempt.via === undefined ? {} : { via: attempt.via }),
    ...(attempt.status === undefined ? {} : { status: attempt.status }),
    ...(attempt.error === undefined ? {} : { error: attempt.error }),
  };
}

function toEventView(event: JobEvent): EventView {
  return {
    id: event.id,
    type: event.type,
    createdAt: event.createdAt,
    deliveries: Object.entries(event.deliveries)
      .sort(([a], [b]) => byText(a, b))
      .map(([target, delivery]) => ({
        target,
        state: delivery.state,
        attempts: delivery.attempts.map(toAttemptView),
        nextAttemptAt: delivery.nextAttemptAt,
      })),
  };
}

/** GET /v1/jobs/{jobId}/events: the caller's job's events, oldest first; 404 as GET /v1/jobs/{jobId} answers. */
export async function listJobEventsForCaller(
  deps: StoreDeps,
  caller: string,
  jobId: string,
): Promise<{ events: EventView[] }> {
  const job = await callersJob(deps, caller, jobId);
  const events = Object.values(job.events).sort(
    (a, b) => byText(a.createdAt, b.createdAt) || byText(a.id, b.id),
  );
  return { events: events.map(toEventView) };
}

export interface RedeliverQuery {
  target?: string;
}

/** How often a redelivery that lost a race to another write (the notifier, a transition) reads the job again. */
const REDELIVER_TRIES = 3;

/** The job's event by id; an id the outbox lacks (or an inherited name like `constructor`) is 404. */
function eventOf(job: Job, eventId: string): JobEvent {
  const event = Object.hasOwn(job.events, eventId) ? job.events[eventId] : undefined;
  if (!event) throw new NotFoundError(`Job ${job.jobId} has no event ${eventId.slice(0, 100)}`);
  return event;
}

/**
 * The targets a redelivery of `event` goes to: the one `?target=` names (chat included), else every target
 * but chat — a redelivery is for a receiver that missed or lost the event, and posting to a chat room again
 * would only repeat the message to people.
 */
function selectedTargets(event: JobEvent, query: RedeliverQuery): string[] {
  const targets = Object.keys(event.deliveries).sort(byText);
  const refuse = (code: string, message: string): never => {
    throw new InvalidRequestError(
      [{ param: 'target', code, message }],
      `The redelivery's target is invalid for event ${event.id}`,
    );
  };
  if (query.target !== undefined) {
    if (!targets.includes(query.target))
      return refuse(
        'InvalidParameterValue',
        targets.length
          ? `${query.target.slice(0, 32)} is not a target of this event: use ${targets.join(', ')}`
          : 'this event has no delivery targets',
      );
    return [query.target];
  }
  const selected = targets.filter((target) => target !== CHAT_TARGET);
  if (!selected.length)
    return refuse(
      targets.length ? 'MissingParameter' : 'InvalidParameterValue',
      targets.length
        ? `this event goes only to ${CHAT_TARGET}, which is redelivered only when named: ?target=${CHAT_TARGET}`
        : 'this event has no delivery targets',
    );
  return selected;
}

/**
 * POST /v1/jobs/{jobId}/events/{eventId}/redeliver: makes the event's selected deliveries PENDING and due now,
 * attempt history kept, for the notifier to send again under the event's original `webhook-id`. Idempotent: a
 * selection already due is answered as it is, unwritten. One conditional write; of it and a notifier recording
 * attempts at the same time, the one that lands first wins and the other reads the job again.
 */
export async function redeliverEventForCaller(
  deps: OutboxDeps,
  caller: string,
  jobId: string,
  eventId: string,
  query: RedeliverQuery,
): Promise<EventView> {
  let job = await callersJob(deps, caller, jobId);
  for (let tries = 1; ; tries++) {
    const event = eventOf(job, eventId);
    const now = isoTime(deps.now);
    const updates: Record<string, Delivery> = {};
    for (const target of selectedTargets(event, query)) {
      const delivery = event.deliveries[target] as Delivery;
      const due =
        delivery.state === 'PENDING' && delivery.nextAttemptAt !== null && delivery.nextAttemptAt <= now;
      if (!due) updates[target] = { state: 'PENDING', attempts: delivery.attempts, nextAttemptAt: now };
    }
    if (Object.keys(updates).length === 0) return toEventView(event);
    try {
      return toEventView(eventOf(await recordDeliveries(deps, job, { [eventId]: updates }), eventId));
    } catch (error) {
      if (!(error instanceof JobConflictError) || tries >= REDELIVER_TRIES) throw error;
      job = await callersJob(deps, caller, jobId);
    }
  }
}
