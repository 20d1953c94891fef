import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { JobConflictError, JobExistsError } from '../../../lib/errors.ts';
import {
  createJob,
  getJob,
  listJobsWithEventsDue,
  listPendingJobs,
  writeJob,
} from '../../../lib/jobs/store.ts';
import { NOTIFY_INDEX, PENDING_INDEX } from '../../../lib/jobs/table.ts';
import { awsErrors, mockedApi } from '../../helpers/aws-mocks.ts';
import { CLOCK_START } from '../../helpers/clock.ts';
import { jobIdOf, jobIn } from '../../helpers/jobs.ts';

const JOB_ID = jobIdOf(1);
const CREATED_AT = new Date(CLOCK_START).toISOString();
const { conditionFailed } = awsErrors;

describe('createJob and getJob', () => {
  it('puts the job with pk, kind and the pending attributes, conditioned on a new pk', async () => {
    const api = mockedApi();
    await createJob(api.deps, jobIn('QUEUED'));
    expect(api.ddb.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      TableName: api.deps.tableName,
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: `job#${JOB_ID}`, kind: 'job', pendingStatus: 'QUEUED', pendingSince: CREATED_AT },
    });
  });

  it('reads strongly consistent and returns the job without store bookkeeping', async () => {
    const api = mockedApi();
    await createJob(api.deps, jobIn('QUEUED'));
    expect(await getJob(api.deps, JOB_ID)).toEqual(jobIn('QUEUED'));
    expect(api.ddb.commandCalls(GetCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('treats a failed condition on its own earlier write as success', async () => {
    const api = mockedApi();
    await createJob(api.deps, jobIn('QUEUED'));
    api.ddb.on(PutCommand).rejects(conditionFailed());
    await expect(createJob(api.deps, jobIn('QUEUED'))).resolves.toBeUndefined();
  });

  it('throws JobExistsError when another job holds the id', async () => {
    const api = mockedApi();
    await createJob(api.deps, jobIn('QUEUED', { requestedBy: 'bob' }));
    api.ddb.on(PutCommand).rejects(conditionFailed());
    await expect(createJob(api.deps, jobIn('QUEUED'))).rejects.toBeInstanceOf(JobExistsError);
  });

  it('propagates a Put error other than a failed condition without reading', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(new Error('throttled'));
    await expect(createJob(api.deps, jobIn('QUEUED'))).rejects.toThrow('throttled');
    expect(api.ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('returns undefined for a missing job', async () => {
    expect(await getJob(mockedApi().deps, JOB_ID)).toBeUndefined();
  });

  it('returns undefined for a tombstone at the job key', async () => {
    const api = mockedApi();
    api.ddb.on(GetCommand).resolves({ Item: { pk: `job#${JOB_ID}`, kind: 'void', jobId: JOB_ID } });
    expect(await getJob(api.deps, JOB_ID)).toBeUndefined();
  });
});

describe('writeJob', () => {
  const job = jobIn('SUBMITTED');

  it('conditions the update on the status and version it read, and increments the version', async () => {
    const api = mockedApi();
    api.ddb.on(UpdateCommand).resolves({ Attributes: { ...job, version: 4 } });
    await writeJob(api.deps, job, { set: [[['instances'], []]] });
    const input = api.ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Key: { pk: `job#${JOB_ID}` },
      ConditionExpression: '#status = :expectedStatus AND #version = :expectedVersion',
      ExpressionAttributeValues: { ':expectedStatus': 'SUBMITTED', ':expectedVersion': 3, ':nextVersion': 4 },
      ReturnValues: 'ALL_NEW',
    });
    expect(input?.UpdateExpression).toMatch(/^SET #version = :nextVersion, /);
  });

  it('names every segment of a nested path, so no reserved word breaks the expression', async () => {
    const api = mockedApi();
    api.ddb.on(UpdateCommand).resolves({ Attributes: job });
    await writeJob(api.deps, job, { set: [], remove: [['request', 'LoginSettings', 'Password']] });
    const input = api.ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).toMatch(/REMOVE #n0\.#n1\.#n2$/);
    expect(input?.ExpressionAttributeNames).toMatchObject({
      '#n0': 'request',
      '#n1': 'LoginSettings',
      '#n2': 'Password',
    });
  });

  it('moves a job into the pending index of the status it writes, as of its updatedAt', async () => {
    const api = mockedApi();
    api.ddb.on(UpdateCommand).resolves({ Attributes: job });
    await writeJob(api.deps, jobIn('SUBMITTING'), {
      set: [
        [['status'], 'SUBMITTED'],
        [['updatedAt'], 'T'],
      ],
    });
    expect(api.ddb.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues).toMatchObject({
      ':pendingStatus': 'SUBMITTED',
      ':pendingSince': 'T',
    });
  });

  it('takes a job that reaches a terminal status out of the pending index', async () => {
    const api = mockedApi();
    api.ddb.on(UpdateCommand).resolves({ Attributes: job });
    await writeJob(api.deps, job, { set: [[['status'], 'SUCCEEDED']] });
    const input = api.ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    const removed = (input?.UpdateExpression?.split(' REMOVE ')[1] ?? '')
      .split(', ')
      .map((alias) => input?.ExpressionAttributeNames?.[alias]);
    expect(removed).toEqual(['pendingStatus', 'pendingSince']);
  });

  it('leaves the pending index alone for a write that sets no status', async () => {
    const api = mockedApi();
    api.ddb.on(UpdateCommand).resolves({ Attributes: job });
    await writeJob(api.deps, job, { set: [[['notifyAt'], 'T']] });
    const input = api.ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(Object.values(input?.ExpressionAttributeNames ?? {})).not.toContain('pendingStatus');
  });

  it('returns the job as written, without store bookkeeping', async () => {
    const api = mockedApi();
    api.ddb.on(UpdateCommand).resolves({
      Attributes: { pk: `job#${JOB_ID}`, kind: 'job', pendingStatus: 'SUBMITTED', ...job, version: 4 },
    });
    expect(await writeJob(api.deps, job, { set: [] })).toEqual({ ...job, version: 4 });
  });

  it('reports a lost race as JobConflictError naming the state it found', async () => {
    const api = mockedApi();
    api.ddb.on(UpdateCommand).rejects(conditionFailed());
    api.ddb
      .on(GetCommand)
      .resolves({ Item: { pk: `job#${JOB_ID}`, kind: 'job', ...job, status: 'SUCCEEDED', version: 4 } });
    const error = await writeJob(api.deps, job, { set: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobConflictError);
    expect(error).toMatchObject({
      expected: { status: 'SUBMITTED', version: 3 },
      current: { status: 'SUCCEEDED', version: 4 },
      retryable: false,
    });
  });

  it('still reports the conflict when the state now cannot be read', async () => {
    const api = mockedApi();
    api.ddb.on(UpdateCommand).rejects(conditionFailed());
    api.ddb.on(GetCommand).rejects(new Error('throttled'));
    const error = await writeJob(api.deps, job, { set: [] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'JobConflictError', current: undefined, cause: expect.any(Error) });
  });

  it('propagates errors other than a failed condition', async () => {
    const api = mockedApi();
    api.ddb.on(UpdateCommand).rejects(new Error('throttled'));
    await expect(writeJob(api.deps, job, { set: [] })).rejects.toThrow('throttled');
  });
});

describe('listPendingJobs', () => {
  it('queries the pending index for a status, before a time when given', async () => {
    const api = mockedApi();
    await listPendingJobs(api.deps, 'QUEUED', { before: CREATED_AT, limit: 10 });
    expect(api.ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      IndexName: PENDING_INDEX,
      KeyConditionExpression: 'pendingStatus = :status AND pendingSince < :before',
      ExpressionAttributeValues: { ':status': 'QUEUED', ':before': CREATED_AT },
      Limit: 10,
    });
  });

  it('follows LastEvaluatedKey until the limit is reached', async () => {
    const api = mockedApi();
    let n = 0;
    const page = (size: number) =>
      Array.from({ length: size }, () => jobIn('QUEUED', { jobId: jobIdOf(++n) }));
    api.ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: page(100), LastEvaluatedKey: { pk: 'a' } })
      .resolvesOnce({ Items: page(50), LastEvaluatedKey: { pk: 'b' } })
      .resolves({ Items: page(100) });
    const found = await listPendingJobs(api.deps, 'QUEUED', { limit: 150 });
    expect(found).toHaveLength(150);
    const calls = api.ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => [input.Limit, input.ExclusiveStartKey])).toEqual([
      [100, undefined],
      [50, { pk: 'a' }],
    ]);
  });

  it('reads every page when no limit is given', async () => {
    const api = mockedApi();
    api.ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [jobIn('QUEUED')], LastEvaluatedKey: { pk: 'a' } })
      .resolves({ Items: [jobIn('QUEUED', { jobId: jobIdOf(2) })] });
    expect(await listPendingJobs(api.deps, 'QUEUED', { limit: Number.POSITIVE_INFINITY })).toHaveLength(2);
  });

  it('asks DynamoDB nothing for a limit of 0', async () => {
    const api = mockedApi();
    expect(await listPendingJobs(api.deps, 'QUEUED', { limit: 0 })).toEqual([]);
    expect(api.ddb.calls()).toHaveLength(0);
  });
});

describe('listJobsWithEventsDue', () => {
  it('queries the due-events index up to the given time', async () => {
    const api = mockedApi();
    await listJobsWithEventsDue(api.deps, CREATED_AT);
    expect(api.ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      IndexName: NOTIFY_INDEX,
      KeyConditionExpression: 'notifyPending = :pending AND notifyAt <= :dueBy',
      ExpressionAttributeValues: { ':pending': 'due', ':dueBy': CREATED_AT },
    });
  });
});
