import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobExistsError } from '../../../lib/errors.ts';
import { claimForSubmission } from '../../../lib/jobs/lifecycle.ts';
import { type Job, newJob } from '../../../lib/jobs/model.ts';
import { createJob, getJob, listPendingJobs, type StoreDeps } from '../../../lib/jobs/store.ts';
import { PENDING_INDEX } from '../../../lib/jobs/table.ts';
import { testClock } from '../../helpers/clock.ts';
import { type ApiEmulators, startApiEmulators } from '../../helpers/emulators.ts';
import { sequentialIds } from '../../helpers/jobs.ts';
import { SEED_PASSWORD, validRequest } from '../../helpers/requests.ts';

let env: ApiEmulators;
let store: StoreDeps;
const clock = testClock();
/** Each test takes fresh ids, so tests share the table without meeting. */
const nextId = sequentialIds(1000);

beforeAll(async () => {
  env = await startApiEmulators('store');
  store = { ddb: env.ddb, tableName: env.tableName, now: clock.now };
});
afterAll(() => env.stop());

function queuedJob(at: number = clock.now(), jobId = nextId()): Job {
  return newJob({
    jobId,
    region: 'ap-guangzhou',
    request: validRequest({ LoginSettings: { Password: SEED_PASSWORD } }),
    requestedBy: 'alice',
    metadata: { team: 'web' },
    webhookUrl: null,
    createdAt: new Date(at).toISOString(),
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
    const later = { ...job, createdAt: new Date(clock.now() + 1).toISOString(), metadata: { x: 'y' } };
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

describe('listPendingJobs on dynalite', () => {
  // A time window of its own, far before the other tests' jobs, so this describe sees only its jobs.
  const base = Date.parse('2020-01-01T00:00:00.000Z');
  const at = (minutes: number) => base + minutes * 60_000;
  const iso = (minutes: number) => new Date(at(minutes)).toISOString();
  let staleIds: string[] = [];

  beforeAll(async () => {
    const jobs = Array.from({ length: 150 }, (_, i) => queuedJob(at(i)));
    for (const job of jobs) await createJob(store, job);
    staleIds = jobs.map((job) => job.jobId);
    await createJob(store, queuedJob(at(500)));
  });

  it('pages through LastEvaluatedKey to return 150 jobs, oldest first', async () => {
    const found = await listPendingJobs(store, 'QUEUED', { before: iso(200), limit: 150 });
    expect(found.map((job) => job.jobId)).toEqual(staleIds);
    expect(found[0]?.createdAt).toBe(iso(0));
  });

  it('returns whole jobs, ready for a conditional write', async () => {
    const [first] = await listPendingJobs(store, 'QUEUED', { before: iso(200), limit: 1 });
    expect(first).toEqual(await getJob(store, staleIds[0] ?? ''));
  });

  it('stops at the limit', async () => {
    expect(await listPendingJobs(store, 'QUEUED', { before: iso(200), limit: 120 })).toHaveLength(120);
  });

  it('leaves out jobs that entered the status at or after `before`', async () => {
    const found = await listPendingJobs(store, 'QUEUED', { before: iso(10), limit: 150 });
    expect(found.map((job) => job.jobId)).toEqual(staleIds.slice(0, 10));
  });

  it('leaves out jobs that are no longer in the status', async () => {
    const job = await stored(queuedJob(at(-10)));
    await claimForSubmission({ ...store, now: () => at(-9) }, job);
    const found = await listPendingJobs(store, 'QUEUED', { before: iso(0), limit: 150 });
    expect(found.map((item) => item.jobId)).not.toContain(job.jobId);
    expect(await pendingIds('SUBMITTING')).toContain(job.jobId);
  });
});
