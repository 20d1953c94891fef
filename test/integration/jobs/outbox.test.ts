import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobConflictError } from '../../../lib/errors.ts';
import { failJob, finishJob, recordProgress, recordSubmission } from '../../../lib/jobs/lifecycle.ts';
import type { Delivery, Job } from '../../../lib/jobs/model.ts';
import { eventId, type OutboxDeps, recordDeliveries } from '../../../lib/jobs/outbox.ts';
import { createJob, getJob, listJobsWithEventsDue } from '../../../lib/jobs/store.ts';
import { jobKey } from '../../../lib/jobs/table.ts';
import { isoAt, testClock } from '../../helpers/clock.ts';
import { type ApiEmulators, startApiEmulators } from '../../helpers/emulators.ts';
import { jobIdOf, jobIn } from '../../helpers/jobs.ts';

let env: ApiEmulators;
let deps: OutboxDeps;
const clock = testClock();
let nextJob = 7000;

beforeAll(async () => {
  env = await startApiEmulators('outbox');
  deps = { ddb: env.ddb, tableName: env.tableName, now: clock.now, eventTargets: ['default'] };
});
afterAll(() => env.stop());

async function stored(job: Job): Promise<Job> {
  await createJob(deps, job);
  return job;
}

const submitting = () =>
  stored(jobIn('SUBMITTING', { jobId: jobIdOf(++nextJob), webhookUrl: 'https://hooks.example.com/' }));
const submitted = (job: Job) =>
  recordSubmission(deps, job, { instanceIds: ['ins-aaaaaaaa'], requestId: 'req-1' });
const dueIds = async () =>
  (await listJobsWithEventsDue(deps, isoAt(clock), { limit: 1000 })).map((j) => j.jobId);

async function rawItem(jobId: string) {
  const { Item } = await env.ddb.send(new GetCommand({ TableName: env.tableName, Key: jobKey(jobId) }));
  return Item;
}

const delivered = (at: string): Delivery => ({
  state: 'DELIVERED',
  attempts: [{ at, status: 200 }],
  nextAttemptAt: null,
});

describe('the outbox on the job item', () => {
  it('writes the event with the transition, due now at the job webhook and the configured targets', async () => {
    const job = await submitted(await submitting());
    const event = job.events[eventId(job.jobId, 'job.submitted')];
    expect(event).toEqual({
      id: eventId(job.jobId, 'job.submitted'),
      type: 'job.submitted',
      createdAt: isoAt(clock),
      snapshot: {
        status: 'SUBMITTED',
        instances: job.instances,
        error: null,
        attempts: job.attempts,
        updatedAt: isoAt(clock),
        submittedAt: isoAt(clock),
        completedAt: null,
      },
      deliveries: {
        webhook: { state: 'PENDING', attempts: [], nextAttemptAt: isoAt(clock) },
        default: { state: 'PENDING', attempts: [], nextAttemptAt: isoAt(clock) },
      },
    });
    expect(await rawItem(job.jobId)).toMatchObject({ notifyPending: 'due', notifyAt: isoAt(clock) });
  });

  it('gives an event an id without dots, stable for the job and type (the webhook-id)', () => {
    expect(eventId(jobIdOf(1), 'job.partially_failed')).toBe(`evt_${jobIdOf(1)}_partially_failed`);
    expect(eventId(jobIdOf(1), 'job.succeeded')).not.toContain('.');
  });

  it('lands neither the transition nor its event when the write loses a race', async () => {
    const job = await submitting();
    await submitted(job);
    const error = await failJob(deps, job, { code: 'X', message: 'y', requestId: null }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JobConflictError);
    const now = await getJob(deps, job.jobId);
    expect(now?.status).toBe('SUBMITTED');
    expect(Object.keys(now?.events ?? {})).toEqual([eventId(job.jobId, 'job.submitted')]);
  });

  it('keeps two undelivered events side by side, and the due-events index finds the job once', async () => {
    const job = await submitted(await submitting());
    clock.advance(1000);
    const done = await finishJob(deps, job, 'succeed', { instances: job.instances });
    expect(
      Object.values(done.events)
        .map((event) => event.type)
        .sort(),
    ).toEqual(['job.submitted', 'job.succeeded']);
    expect((await dueIds()).filter((id) => id === job.jobId)).toHaveLength(1);
    const [found] = (await listJobsWithEventsDue(deps, isoAt(clock), { limit: 1000 })).filter(
      (j) => j.jobId === job.jobId,
    );
    expect(found?.events).toEqual(done.events);
  });

  it('snapshots the job as each event saw it', async () => {
    const job = await submitted(await submitting());
    clock.advance(1000);
    const done = await finishJob(deps, job, 'succeed', { instances: job.instances });
    expect(done.events[eventId(job.jobId, 'job.submitted')]?.snapshot.status).toBe('SUBMITTED');
    expect(done.events[eventId(job.jobId, 'job.succeeded')]?.snapshot).toMatchObject({
      status: 'SUCCEEDED',
      completedAt: isoAt(clock),
    });
  });

  it('does not find a job whose events are due later', async () => {
    const job = await submitted(await submitting());
    const later = new Date(clock.now() + 60_000).toISOString();
    const id = eventId(job.jobId, 'job.submitted');
    await recordDeliveries(deps, job, {
      [id]: {
        webhook: { state: 'PENDING', attempts: [{ at: isoAt(clock), status: 503 }], nextAttemptAt: later },
        default: delivered(isoAt(clock)),
      },
    });
    expect(await dueIds()).not.toContain(job.jobId);
    expect((await listJobsWithEventsDue(deps, later, { limit: 1000 })).map((j) => j.jobId)).toContain(
      job.jobId,
    );
  });

  it('keeps a job due while one of its events is undelivered, and lets it go when all are', async () => {
    const job = await submitted(await submitting());
    const done = await finishJob(deps, job, 'succeed', { instances: job.instances });
    const first = eventId(job.jobId, 'job.submitted');
    const second = eventId(job.jobId, 'job.succeeded');
    const now = isoAt(clock);
    const half = await recordDeliveries(deps, done, {
      [first]: { webhook: delivered(now), default: delivered(now) },
    });
    expect(await dueIds()).toContain(job.jobId);
    await recordDeliveries(deps, half, { [second]: { webhook: delivered(now), default: delivered(now) } });
    expect(await dueIds()).not.toContain(job.jobId);
    const item = await rawItem(job.jobId);
    expect(item).not.toHaveProperty('notifyPending');
    expect(item?.events[second].deliveries.webhook).toEqual(delivered(now));
  });

  it('records an event with no target without making the job due', async () => {
    const job = await stored(jobIn('SUBMITTING', { jobId: jobIdOf(++nextJob) }));
    const written = await recordSubmission({ ...deps, eventTargets: [] }, job, {
      instanceIds: ['ins-aaaaaaaa'],
      requestId: null,
    });
    expect(written.events[eventId(job.jobId, 'job.submitted')]?.deliveries).toEqual({});
    expect(await rawItem(job.jobId)).not.toHaveProperty('notifyPending');
  });

  it('emits no event for a progress write', async () => {
    const job = await submitted(await submitting());
    const progressed = await recordProgress(deps, job, job.instances);
    expect(progressed.events).toEqual(job.events);
  });

  it('refuses delivery outcomes for an event or target the job does not have', async () => {
    const job = await submitted(await submitting());
    await expect(recordDeliveries(deps, job, { nope: {} })).rejects.toThrow('no event');
    await expect(
      recordDeliveries(deps, job, {
        [eventId(job.jobId, 'job.submitted')]: { chat: delivered(isoAt(clock)) },
      }),
    ).rejects.toThrow('no target');
  });
});
