import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Job, newJob } from '../../../lib/jobs/model.ts';
import {
  createJob,
  getJob,
  IllegalTransitionError,
  JobExistsError,
  listStaleQueuedJobs,
  type StoreDeps,
  touchQueuedJob,
  transitionJob,
} from '../../../lib/jobs/store.ts';
import { jobKey, PENDING_INDEX } from '../../../lib/jobs/table.ts';
import {
  type ApiEmulators,
  CLOCK_START,
  SEED_PASSWORD,
  sequentialIds,
  startApiEmulators,
  testClock,
} from '../../helpers/api.ts';
import { validRequest } from '../../helpers/requests.ts';

let env: ApiEmulators;
let store: StoreDeps;
const clock = testClock();
/** Each test takes fresh ids, so tests share the table without meeting. */
const nextId = sequentialIds();

beforeAll(async () => {
  env = await startApiEmulators('store');
  store = { ddb: env.ddb, tableName: env.tableName, now: clock.now };
});
afterAll(() => env.stop());

function queuedJob(at: Date = clock.now(), jobId = nextId()): Job {
  return newJob({
    jobId,
    region: 'ap-guangzhou',
    request: validRequest({ LoginSettings: { Password: SEED_PASSWORD } }),
    requestedBy: 'alice',
    metadata: { team: 'web' },
    webhookUrl: null,
    now: at,
  });
}

async function stored(job: Job): Promise<Job> {
  await createJob(store, job);
  return job;
}

async function pendingIds(status: string): Promise<string[]> {
  const { Items = [] } = await env.ddb.send(
    new QueryCommand({
      TableName: env.tableName,
      IndexName: PENDING_INDEX,
      KeyConditionExpression: 'pendingStatus = :s',
      ExpressionAttributeValues: { ':s': status },
    }),
  );
  return Items.map((item) => String(item.jobId));
}

describe('createJob and getJob on dynalite', () => {
  it('reads back the job it stored', async () => {
    const job = await stored(queuedJob());
    expect(await getJob(store, job.jobId)).toEqual(job);
  });

  it('refuses a different job under an existing id with JobExistsError', async () => {
    const job = await stored(queuedJob());
    await expect(createJob(store, { ...job, requestedBy: 'mallory' })).rejects.toBeInstanceOf(JobExistsError);
    expect((await getJob(store, job.jobId))?.requestedBy).toBe('alice');
  });

  it('does not overwrite an existing job with a later one of the same id', async () => {
    const job = await stored(queuedJob());
    const later = {
      ...job,
      createdAt: new Date(clock.now().getTime() + 1).toISOString(),
      metadata: { x: 'y' },
    };
    await expect(createJob(store, later)).rejects.toBeInstanceOf(JobExistsError);
    expect(await getJob(store, job.jobId)).toEqual(job);
  });

  it('treats storing the same job again (an SDK retry after a landed write) as success', async () => {
    const job = await stored(queuedJob());
    await expect(createJob(store, job)).resolves.toBeUndefined();
    expect(await getJob(store, job.jobId)).toEqual(job);
  });

  it('puts a new QUEUED job on the pending-by-status index', async () => {
    const job = await stored(queuedJob());
    expect(await pendingIds('QUEUED')).toContain(job.jobId);
  });

  it('returns undefined for an unknown job', async () => {
    expect(await getJob(store, nextId())).toBeUndefined();
  });
});

describe('transitionJob on dynalite', () => {
  it('moves QUEUED → SUBMITTING, applying changes and bumping version', async () => {
    const job = await stored(queuedJob());
    clock.advance(1000);
    const updated = await transitionJob(store, job.jobId, ['QUEUED'], 'SUBMITTING', { attempts: 1 });
    expect(updated).toMatchObject({
      status: 'SUBMITTING',
      attempts: 1,
      version: 2,
      updatedAt: clock.now().toISOString(),
    });
    expect(await getJob(store, job.jobId)).toEqual(updated);
  });

  it('moves the job to the new status on the pending index', async () => {
    const job = await stored(queuedJob());
    await transitionJob(store, job.jobId, ['QUEUED'], 'SUBMITTING');
    expect(await pendingIds('QUEUED')).not.toContain(job.jobId);
    expect(await pendingIds('SUBMITTING')).toContain(job.jobId);
  });

  it('throws IllegalTransitionError for SUBMITTED → QUEUED and leaves the item untouched', async () => {
    const job = await stored(queuedJob());
    await transitionJob(store, job.jobId, ['QUEUED'], 'SUBMITTING');
    const submitted = await transitionJob(store, job.jobId, ['SUBMITTING'], 'SUBMITTED');
    let sends = 0;
    const counting: StoreDeps = {
      ...store,
      ddb: {
        send: ((command: Parameters<typeof env.ddb.send>[0]) => {
          sends++;
          return env.ddb.send(command);
        }) as typeof env.ddb.send,
      },
    };
    await expect(transitionJob(counting, job.jobId, ['SUBMITTED'], 'QUEUED')).rejects.toBeInstanceOf(
      IllegalTransitionError,
    );
    expect(sends).toBe(0);
    expect(await getJob(store, job.jobId)).toEqual(submitted);
  });

  it('returns undefined when the job is not in the expected status', async () => {
    const job = await stored(queuedJob());
    expect(await transitionJob(store, job.jobId, ['SUBMITTING'], 'SUBMITTED')).toBeUndefined();
    expect((await getJob(store, job.jobId))?.status).toBe('QUEUED');
  });

  it('lets exactly one of two concurrent QUEUED → SUBMITTING transitions win', async () => {
    const job = await stored(queuedJob());
    const results = await Promise.all([
      transitionJob(store, job.jobId, ['QUEUED'], 'SUBMITTING', { attempts: 1 }),
      transitionJob(store, job.jobId, ['QUEUED'], 'SUBMITTING', { attempts: 1 }),
    ]);
    expect(results.filter((result) => result === undefined)).toHaveLength(1);
    expect(results.filter((result) => result?.status === 'SUBMITTING')).toHaveLength(1);
    expect((await getJob(store, job.jobId))?.version).toBe(2);
  });

  it('lets exactly one of ten concurrent claims win', async () => {
    const job = await stored(queuedJob());
    const results = await Promise.all(
      Array.from({ length: 10 }, () => transitionJob(store, job.jobId, ['QUEUED'], 'SUBMITTING')),
    );
    expect(results.filter((result) => result !== undefined)).toHaveLength(1);
  });

  it.each(['SUCCEEDED', 'PARTIALLY_FAILED', 'FAILED', 'TIMED_OUT'] as const)(
    'removes pendingStatus on the terminal transition to %s, so the job leaves the pending index',
    async (terminal) => {
      const job = await stored(queuedJob());
      await transitionJob(store, job.jobId, ['QUEUED'], 'SUBMITTING');
      await transitionJob(store, job.jobId, ['SUBMITTING'], 'SUBMITTED');
      expect(await pendingIds('SUBMITTED')).toContain(job.jobId);
      await transitionJob(store, job.jobId, ['SUBMITTED'], terminal);
      const { Item } = await env.ddb.send(
        new GetCommand({ TableName: env.tableName, Key: jobKey(job.jobId) }),
      );
      expect(Item).not.toHaveProperty('pendingStatus');
      expect(Item).not.toHaveProperty('pendingSince');
      for (const status of ['QUEUED', 'SUBMITTING', 'SUBMITTED'])
        expect(await pendingIds(status)).not.toContain(job.jobId);
    },
  );

  it('removes QUEUED → FAILED jobs from the pending index', async () => {
    const job = await stored(queuedJob());
    await transitionJob(store, job.jobId, ['QUEUED'], 'FAILED', {
      error: { code: 'InvalidParameter', message: 'refused', requestId: null },
    });
    expect(await pendingIds('QUEUED')).not.toContain(job.jobId);
    expect((await getJob(store, job.jobId))?.error).toEqual({
      code: 'InvalidParameter',
      message: 'refused',
      requestId: null,
    });
  });

  it("drops the password with remove: ['request.LoginSettings.Password']", async () => {
    const job = await stored(queuedJob());
    await transitionJob(store, job.jobId, ['QUEUED'], 'SUBMITTING');
    const submitted = await transitionJob(store, job.jobId, ['SUBMITTING'], 'SUBMITTED', {}, [
      'request.LoginSettings.Password',
    ]);
    expect(submitted?.request.LoginSettings).toEqual({});
    const { Item } = await env.ddb.send(new GetCommand({ TableName: env.tableName, Key: jobKey(job.jobId) }));
    expect(JSON.stringify(Item)).not.toContain(SEED_PASSWORD);
  });

  it('keeps the rest of the request when dropping the password', async () => {
    const job = await stored(queuedJob());
    await transitionJob(store, job.jobId, ['QUEUED'], 'SUBMITTING');
    const submitted = await transitionJob(store, job.jobId, ['SUBMITTING'], 'SUBMITTED', {}, [
      'request.LoginSettings.Password',
    ]);
    const { LoginSettings: _login, ...rest } = job.request;
    expect(submitted?.request).toEqual({ ...rest, LoginSettings: {} });
  });
});

describe('listStaleQueuedJobs on dynalite', () => {
  // A time window of its own, far before the other tests' jobs, so this describe sees only its jobs.
  const base = new Date('2020-01-01T00:00:00.000Z');
  const at = (minutes: number) => new Date(base.getTime() + minutes * 60_000);
  let staleIds: string[] = [];

  beforeAll(async () => {
    const jobs = Array.from({ length: 150 }, (_, i) => queuedJob(at(i)));
    for (const job of jobs) await createJob(store, job);
    staleIds = jobs.map((job) => job.jobId);
    await createJob(store, queuedJob(at(500)));
  });

  it('pages through LastEvaluatedKey to return 150 stale jobs', async () => {
    const found = await listStaleQueuedJobs(store, at(200), 150);
    expect(found.map((job) => job.jobId)).toEqual(staleIds);
  });

  it('returns them oldest first with their pendingSince', async () => {
    const found = await listStaleQueuedJobs(store, at(200), 150);
    expect(found[0]).toEqual({ jobId: staleIds[0], pendingSince: at(0).toISOString() });
    expect(found.at(-1)).toEqual({ jobId: staleIds[149], pendingSince: at(149).toISOString() });
  });

  it('stops at the limit', async () => {
    expect(await listStaleQueuedJobs(store, at(200), 120)).toHaveLength(120);
  });

  it('leaves out jobs whose pendingSince is not before the cutoff', async () => {
    const found = await listStaleQueuedJobs(store, at(10), 150);
    expect(found.map((job) => job.jobId)).toEqual(staleIds.slice(0, 10));
  });

  it('leaves out jobs that are no longer QUEUED', async () => {
    const job = await stored(queuedJob(at(-10)));
    await transitionJob({ ...store, now: () => at(-9) }, job.jobId, ['QUEUED'], 'SUBMITTING');
    const found = await listStaleQueuedJobs(store, at(0), 150);
    expect(found.map((item) => item.jobId)).not.toContain(job.jobId);
  });
});

describe('touchQueuedJob on dynalite', () => {
  it('moves pendingSince to now so the job is no longer stale', async () => {
    const old = new Date(CLOCK_START.getTime() - 3_600_000);
    const job = await stored(queuedJob(old));
    await expect(touchQueuedJob(store, job.jobId, old.toISOString())).resolves.toBe(true);
    const { Item } = await env.ddb.send(new GetCommand({ TableName: env.tableName, Key: jobKey(job.jobId) }));
    expect(Item?.pendingSince).toBe(clock.now().toISOString());
  });

  it('refuses when pendingSince changed since the sweep read it', async () => {
    const job = await stored(queuedJob());
    await expect(touchQueuedJob(store, job.jobId, '1999-01-01T00:00:00.000Z')).resolves.toBe(false);
  });

  it('refuses when the job left QUEUED', async () => {
    const job = await stored(queuedJob());
    await transitionJob(store, job.jobId, ['QUEUED'], 'SUBMITTING');
    await expect(touchQueuedJob(store, job.jobId, clock.now().toISOString())).resolves.toBe(false);
  });
});
