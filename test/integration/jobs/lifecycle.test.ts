import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaimHeldError, IllegalTransitionError, JobConflictError } from '../../../lib/errors.ts';
import {
  applyTransition,
  canTransition,
  claimForSubmission,
  recordProgress,
  recordSubmission,
  releaseClaim,
  TRANSITION_NAMES,
  TRANSITIONS,
  type Transition,
  type TransitionChanges,
  type TransitionName,
} from '../../../lib/jobs/lifecycle.ts';
import {
  FIXED_FIELDS,
  JOB_STATUSES,
  type Job,
  type JobStatus,
  TERMINAL_STATUSES,
  toJobView,
} from '../../../lib/jobs/model.ts';
import { eventId, type OutboxDeps } from '../../../lib/jobs/outbox.ts';
import { createJob, getJob, writeJob } from '../../../lib/jobs/store.ts';
import { jobKey, PENDING_INDEX } from '../../../lib/jobs/table.ts';
import { REDACTED } from '../../../lib/run-instances/index.ts';
import { isoAt, testClock } from '../../helpers/clock.ts';
import { type ApiEmulators, startApiEmulators } from '../../helpers/emulators.ts';
import { jobIdOf, jobIn } from '../../helpers/jobs.ts';
import { SEED_PASSWORD } from '../../helpers/requests.ts';

let env: ApiEmulators;
let deps: OutboxDeps;
const clock = testClock();
let nextJob = 5000;

beforeAll(async () => {
  env = await startApiEmulators('lifecycle');
  deps = { ddb: env.ddb, tableName: env.tableName, now: clock.now, eventTargets: ['default'] };
});
afterAll(() => env.stop());

/** A job in `status` stored under a fresh id (the store writes any status's item the same way). */
async function storedIn(status: JobStatus, overrides: Partial<Job> = {}): Promise<Job> {
  const job = jobIn(status, { jobId: jobIdOf(++nextJob), ...overrides });
  await createJob(deps, job);
  return job;
}

async function rawItem(jobId: string) {
  const { Item } = await env.ddb.send(new GetCommand({ TableName: env.tableName, Key: jobKey(jobId) }));
  return Item;
}

/** Sample values for the fields a row sets. */
const SAMPLE = {
  instances: [
    { instanceId: 'ins-sample01', state: 'RUNNING', privateIpAddresses: ['10.0.0.9'], publicIpAddresses: [] },
  ],
  error: { code: 'Sample.Code', message: 'a sample', requestId: 'req-sample' },
  submitRequestId: 'req-sample',
  claimExpiresAt: '2099-01-01T00:00:00.000Z',
  claimedAt: '2098-12-31T23:59:00.000Z',
  sendOutcome: 'unknown',
  reconcileAfter: '2098-12-31T23:59:30.000Z',
  lastError: { code: 'RequestLimitExceeded', message: 'slow down', requestId: 'req-throttled' },
  rollback: { startedAt: '2098-12-31T23:59:45.000Z', reason: '0 of 1 instances reached RUNNING' },
} as const;

function changesFor<N extends TransitionName>(name: N): TransitionChanges<N> {
  const row: Transition = TRANSITIONS[name];
  return Object.fromEntries(row.sets.map((field) => [field, SAMPLE[field]])) as TransitionChanges<N>;
}

/** A job that may make the move from `from` (a SUBMITTING job to be claimed again has an expired claim). */
function sourceOverrides(name: TransitionName, from: JobStatus): Partial<Job> {
  const row: Transition = TRANSITIONS[name];
  return row.takesOverExpiredClaim && from === row.to ? { claimExpiresAt: isoAt(clock) } : {};
}

const CASES = TRANSITION_NAMES.flatMap((name) =>
  (TRANSITIONS[name] as Transition).from.map((from) => [name, from] as const),
);

describe('the lifecycle table', () => {
  it.each(CASES)('%s succeeds from %s and sets what its row says', async (name, from) => {
    const row: Transition = TRANSITIONS[name];
    const job = await storedIn(from, sourceOverrides(name, from));
    clock.advance(1000);
    const written = await applyTransition(deps, job, name, changesFor(name));
    const now = isoAt(clock);
    expect(written.status).toBe(row.to);
    expect(written.version).toBe(job.version + 1);
    expect(written.updatedAt).toBe(now);
    for (const field of row.sets) expect(written[field]).toEqual(SAMPLE[field]);
    for (const stamp of row.stamps) expect(written[stamp]).toBe(now);
    expect(written.attempts).toBe(job.attempts + (row.countsAttempt ? 1 : 0));
    for (const field of FIXED_FIELDS.filter((f) => f !== 'request'))
      expect(written[field]).toEqual(job[field]);
    if ((row.redacts ?? []).some((path) => path.join('.') === 'request.LoginSettings.Password'))
      expect(written.request).toEqual({
        ...job.request,
        LoginSettings: { ...job.request.LoginSettings, Password: REDACTED },
      });
    else expect(written.request).toEqual(job.request);
    for (const path of row.removes) expect(written[path[0] as keyof Job]).toBeNull();
    if (row.emits) {
      expect(written.events[eventId(job.jobId, row.emits)]).toMatchObject({
        type: row.emits,
        createdAt: now,
        snapshot: { status: row.to, updatedAt: now },
        deliveries: { default: { state: 'PENDING', attempts: [], nextAttemptAt: now } },
      });
    } else expect(written.events).toEqual(job.events);
    expect(await getJob(deps, job.jobId)).toEqual(written);
  });

  it.each(
    TRANSITION_NAMES.flatMap((name) =>
      JOB_STATUSES.filter((status) => !(TRANSITIONS[name] as Transition).from.includes(status)).map(
        (status) => [name, status] as const,
      ),
    ),
  )('%s is refused from %s before anything is sent, and the item is left as it was', async (name, from) => {
    const job = await storedIn(from);
    let sends = 0;
    const counting: OutboxDeps = {
      ...deps,
      ddb: {
        send: ((command: never) => {
          sends++;
          return env.ddb.send(command);
        }) as typeof env.ddb.send,
      },
    };
    await expect(applyTransition(counting, job, name, changesFor(name))).rejects.toBeInstanceOf(
      IllegalTransitionError,
    );
    expect(sends).toBe(0);
    expect(await getJob(deps, job.jobId)).toEqual(job);
  });

  it('allows exactly the moves of the documented state machine (docs/job-lifecycle.md)', () => {
    const allowed = JOB_STATUSES.flatMap((from) =>
      JOB_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from} → ${to}`),
    );
    expect(allowed.sort()).toEqual(
      [
        'QUEUED → QUEUED',
        'QUEUED → SUBMITTING',
        'QUEUED → FAILED',
        'QUEUED → CANCELLED',
        'SUBMITTING → SUBMITTING',
        'SUBMITTING → CANCELLED',
        'SUBMITTING → SUBMITTED',
        'SUBMITTING → FAILED',
        'SUBMITTED → SUBMITTED',
        'SUBMITTED → SUCCEEDED',
        'SUBMITTED → PARTIALLY_FAILED',
        'SUBMITTED → FAILED',
        'SUBMITTED → TIMED_OUT',
      ].sort(),
    );
  });

  it('lets no terminal status move and changes no field fixed at creation', () => {
    for (const row of Object.values(TRANSITIONS) as Transition[]) {
      for (const status of TERMINAL_STATUSES) expect(row.from).not.toContain(status);
      for (const field of row.sets) expect(FIXED_FIELDS).not.toContain(field);
    }
  });

  it.each(CASES)(
    '%s from %s is refused with a stale version, and neither it nor its event lands',
    async (name, from) => {
      const job = await storedIn(from, sourceOverrides(name, from));
      const stale = { ...job, version: job.version - 1 };
      const error = await applyTransition(deps, stale, name, changesFor(name)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobConflictError);
      expect(error).toMatchObject({ current: { status: from, version: job.version } });
      expect(await getJob(deps, job.jobId)).toEqual(job);
    },
  );
});

describe('claiming a job for submission on dynalite', () => {
  it('lets exactly one of two concurrent claims of a QUEUED job win', async () => {
    const job = await storedIn('QUEUED');
    const results = await Promise.allSettled([claimForSubmission(deps, job), claimForSubmission(deps, job)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected');
    expect(lost?.status === 'rejected' && lost.reason).toBeInstanceOf(JobConflictError);
    expect(await getJob(deps, job.jobId)).toMatchObject({ status: 'SUBMITTING', attempts: 1, version: 2 });
  });

  it('lets exactly one of ten concurrent claims win', async () => {
    const job = await storedIn('QUEUED');
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => claimForSubmission(deps, job)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('gives the claim a lease and counts the attempt', async () => {
    const job = await storedIn('QUEUED');
    const claimed = await claimForSubmission(deps, job, 30_000);
    expect(claimed).toMatchObject({
      status: 'SUBMITTING',
      attempts: 1,
      claimExpiresAt: new Date(clock.now() + 30_000).toISOString(),
    });
  });

  it('refuses a SUBMITTING job whose claim is live, writing nothing', async () => {
    const job = await storedIn('SUBMITTING', {
      claimExpiresAt: new Date(clock.now() + 10_000).toISOString(),
    });
    await expect(claimForSubmission(deps, job)).rejects.toBeInstanceOf(ClaimHeldError);
    expect(await getJob(deps, job.jobId)).toEqual(job);
  });

  it('takes over a SUBMITTING job whose claim ran out, counting a second attempt', async () => {
    const job = await storedIn('SUBMITTING', { claimExpiresAt: new Date(clock.now() - 1).toISOString() });
    const claimed = await claimForSubmission(deps, job, 60_000);
    expect(claimed).toMatchObject({
      status: 'SUBMITTING',
      attempts: job.attempts + 1,
      version: job.version + 1,
      claimExpiresAt: new Date(clock.now() + 60_000).toISOString(),
    });
  });

  it('is refused by the table itself when the stored claim is live, whatever the caller believes', async () => {
    const job = await storedIn('SUBMITTING', {
      claimExpiresAt: new Date(clock.now() + 10_000).toISOString(),
    });
    const believed = { ...job, claimExpiresAt: new Date(clock.now() - 1).toISOString() };
    await expect(claimForSubmission(deps, believed)).rejects.toBeInstanceOf(ClaimHeldError);
    expect(await getJob(deps, job.jobId)).toEqual(job);
  });

  it('takes over a SUBMITTING job stored without a claim end (null), instead of leaving it stuck', async () => {
    const job = await storedIn('SUBMITTING', { claimExpiresAt: null });
    await expect(claimForSubmission(deps, job)).resolves.toMatchObject({ attempts: job.attempts + 1 });
  });

  it('moves the job from the QUEUED to the SUBMITTING part of the pending index', async () => {
    const job = await storedIn('QUEUED');
    await claimForSubmission(deps, job);
    expect(await rawItem(job.jobId)).toMatchObject({
      pendingStatus: 'SUBMITTING',
      pendingSince: isoAt(clock),
    });
    expect(PENDING_INDEX).toBe('pending-by-status');
  });
});

describe('what a claim knows of earlier attempts', () => {
  it('marks the attempt in flight from its claim, and nothing to reconcile on a first claim', async () => {
    const job = await storedIn('QUEUED');
    const claimed = await claimForSubmission(deps, job, 30_000);
    expect(claimed).toMatchObject({
      claimedAt: isoAt(clock),
      sendOutcome: 'in-flight',
      reconcileAfter: null,
    });
  });

  it('after an attempt that died in flight, reconciles from the end of its claim (its call can have run until then)', async () => {
    const diedAt = new Date(clock.now() - 5000).toISOString();
    const job = await storedIn('SUBMITTING', { sendOutcome: 'in-flight', claimExpiresAt: diedAt });
    const claimed = await claimForSubmission(deps, job);
    expect(claimed).toMatchObject({ sendOutcome: 'in-flight', reconcileAfter: diedAt, attempts: 2 });
  });

  it('after an attempt that said its call created nothing, has nothing new to reconcile', async () => {
    const job = await storedIn('SUBMITTING', { claimExpiresAt: isoAt(clock), sendOutcome: 'in-flight' });
    const released = await releaseClaim(deps, await claimForSubmission(deps, job), {
      sendOutcome: 'not-created',
      lastError: { code: 'RequestLimitExceeded', message: 'throttled', requestId: 'req-1' },
    });
    // The first attempt (stored in flight, then taken over) still counts; the released one adds nothing.
    const first = job.claimExpiresAt;
    expect(released).toMatchObject({
      sendOutcome: 'not-created',
      reconcileAfter: first,
      claimExpiresAt: isoAt(clock),
    });
    clock.advance(1000);
    expect((await claimForSubmission(deps, released)).reconcileAfter).toBe(first);
  });

  it('after an unknown outcome, reconciles from the release, and never moves reconcileAfter back', async () => {
    const job = await storedIn('QUEUED');
    const claimed = await claimForSubmission(deps, job);
    clock.advance(2000);
    const released = await releaseClaim(deps, claimed, { sendOutcome: 'unknown', lastError: null });
    expect(released).toMatchObject({
      sendOutcome: 'unknown',
      reconcileAfter: isoAt(clock),
      claimExpiresAt: isoAt(clock),
    });
    const mark = isoAt(clock);
    clock.advance(1000);
    const again = await claimForSubmission(deps, released);
    expect(again.reconcileAfter).toBe(mark);
    const quiet = await releaseClaim(deps, again, { sendOutcome: 'not-created', lastError: null });
    expect(quiet.reconcileAfter).toBe(mark);
  });

  it('lets the next delivery claim at once after a release', async () => {
    const released = await releaseClaim(deps, await claimForSubmission(deps, await storedIn('QUEUED')), {
      sendOutcome: 'not-created',
      lastError: null,
    });
    await expect(claimForSubmission(deps, released)).resolves.toMatchObject({ attempts: 2 });
  });

  it('refuses a release by a holder that lost its claim to a newer attempt', async () => {
    const claimed = await claimForSubmission(deps, await storedIn('QUEUED'), 1000);
    clock.advance(2000);
    await claimForSubmission(deps, claimed);
    await expect(
      releaseClaim(deps, claimed, { sendOutcome: 'not-created', lastError: null }),
    ).rejects.toBeInstanceOf(JobConflictError);
  });
});

describe('recording a submission on dynalite', () => {
  it('replaces the password in the stored item with the redaction mark, keeping the rest of the request', async () => {
    const job = await storedIn('SUBMITTING');
    expect(job.request.LoginSettings?.Password).toBe(SEED_PASSWORD);
    const submitted = await recordSubmission(deps, job, {
      instanceIds: ['ins-aaaaaaaa'],
      requestId: 'req-1',
    });
    expect(submitted.request).toEqual({ ...job.request, LoginSettings: { Password: REDACTED } });
    expect(JSON.stringify(await rawItem(job.jobId))).not.toContain(SEED_PASSWORD);
  });

  it('still shows the request as first accepted, password redacted, after submission', async () => {
    const job = await storedIn('SUBMITTING');
    const submitted = await recordSubmission(deps, job, {
      instanceIds: ['ins-aaaaaaaa'],
      requestId: 'req-1',
    });
    expect(toJobView(submitted).request).toEqual(toJobView(job).request);
  });

  it('keeps the time the job entered SUBMITTED on the pending index through later progress', async () => {
    const job = await storedIn('SUBMITTING');
    const submitted = await recordSubmission(deps, job, {
      instanceIds: ['ins-aaaaaaaa'],
      requestId: 'req-1',
    });
    clock.advance(600_000);
    await recordProgress(deps, submitted, submitted.instances);
    expect(await rawItem(job.jobId)).toMatchObject({
      pendingStatus: 'SUBMITTED',
      pendingSince: submitted.updatedAt,
    });
  });

  it('refuses to write a field fixed at creation, whatever the write', async () => {
    const job = await storedIn('QUEUED');
    await expect(writeJob(deps, job, { set: [[['requestedBy'], 'mallory']] })).rejects.toThrow(
      /fixed at creation/,
    );
    await expect(writeJob(deps, job, { set: [[['request', 'ImageId'], 'img-00000000']] })).rejects.toThrow(
      /fixed at creation/,
    );
    expect(await getJob(deps, job.jobId)).toEqual(job);
  });

  it('records the instances as PENDING with Tencent RequestId, and drops the claim', async () => {
    const job = await storedIn('SUBMITTING');
    const submitted = await recordSubmission(deps, job, {
      instanceIds: ['ins-aaaaaaaa', 'ins-bbbbbbbb'],
      requestId: 'req-1',
    });
    expect(submitted).toMatchObject({
      status: 'SUBMITTED',
      submitRequestId: 'req-1',
      claimExpiresAt: null,
      instances: [
        { instanceId: 'ins-aaaaaaaa', state: 'PENDING', privateIpAddresses: [], publicIpAddresses: [] },
        { instanceId: 'ins-bbbbbbbb', state: 'PENDING', privateIpAddresses: [], publicIpAddresses: [] },
      ],
    });
    expect(await rawItem(job.jobId)).not.toHaveProperty('claimExpiresAt');
  });

  it('works for a request that never had a password', async () => {
    const job = await storedIn('SUBMITTING', {
      request: { ...jobIn('SUBMITTING').request, LoginSettings: { KeyIds: ['skey-b4vakk62'] } },
    });
    const submitted = await recordSubmission(deps, job, { instanceIds: ['ins-aaaaaaaa'], requestId: null });
    expect(submitted.request.LoginSettings).toEqual({ KeyIds: ['skey-b4vakk62'] });
  });
});
