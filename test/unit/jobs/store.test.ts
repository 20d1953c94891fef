import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { newJob } from '../../../lib/jobs/model.ts';
import {
  createJob,
  getJob,
  IllegalTransitionError,
  JobExistsError,
  listStaleQueuedJobs,
  touchQueuedJob,
  transitionJob,
} from '../../../lib/jobs/store.ts';
import { PENDING_INDEX } from '../../../lib/jobs/table.ts';
import { CLOCK_START, mockedApi, sequentialIds } from '../../helpers/api.ts';
import { validRequest } from '../../helpers/requests.ts';

const JOB_ID = '00000000-0000-4000-8000-000000000001';
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

function queuedJob(jobId = JOB_ID) {
  return newJob({
    jobId,
    region: 'ap-guangzhou',
    request: validRequest(),
    requestedBy: 'alice',
    metadata: {},
    webhookUrl: null,
    now: CLOCK_START,
  });
}

describe('createJob and getJob', () => {
  it('puts the job with pk, kind and the pending attributes, conditioned on a new pk', async () => {
    const api = mockedApi();
    await createJob(api.deps, queuedJob());
    expect(api.ddb.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      TableName: api.deps.tableName,
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        pk: `job#${JOB_ID}`,
        kind: 'job',
        pendingStatus: 'QUEUED',
        pendingSince: CLOCK_START.toISOString(),
      },
    });
  });

  it('reads strongly consistent and returns the job without store bookkeeping', async () => {
    const api = mockedApi();
    await createJob(api.deps, queuedJob());
    expect(await getJob(api.deps, JOB_ID)).toEqual(queuedJob());
    expect(api.ddb.commandCalls(GetCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('treats a failed condition on its own earlier write as success', async () => {
    const api = mockedApi();
    await createJob(api.deps, queuedJob());
    api.ddb.on(PutCommand).rejects(conditionFailed());
    await expect(createJob(api.deps, queuedJob())).resolves.toBeUndefined();
  });

  it('throws JobExistsError when another job holds the id', async () => {
    const api = mockedApi();
    await createJob(api.deps, { ...queuedJob(), requestedBy: 'bob' });
    api.ddb.on(PutCommand).rejects(conditionFailed());
    await expect(createJob(api.deps, queuedJob())).rejects.toBeInstanceOf(JobExistsError);
  });

  it('propagates a Put error other than a failed condition without reading', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(new Error('throttled'));
    await expect(createJob(api.deps, queuedJob())).rejects.toThrow('throttled');
    expect(api.ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('returns undefined for a missing job', async () => {
    expect(await getJob(mockedApi().deps, JOB_ID)).toBeUndefined();
  });
});

describe('transitionJob', () => {
  it('throws IllegalTransitionError for SUBMITTED → QUEUED without touching DynamoDB', async () => {
    const api = mockedApi();
    await expect(transitionJob(api.deps, JOB_ID, ['SUBMITTED'], 'QUEUED')).rejects.toThrow(
      IllegalTransitionError,
    );
    expect(api.ddb.calls()).toHaveLength(0);
  });

  it('throws IllegalTransitionError for any move out of a terminal status', async () => {
    const api = mockedApi();
    await expect(transitionJob(api.deps, JOB_ID, ['SUCCEEDED'], 'FAILED')).rejects.toThrow(
      IllegalTransitionError,
    );
    expect(api.ddb.calls()).toHaveLength(0);
  });

  it('conditions the update on the expected status and bumps updatedAt and version', async () => {
    const api = mockedApi();
    await transitionJob(api.deps, JOB_ID, ['QUEUED'], 'SUBMITTING', { attempts: 1 });
    const input = api.ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('#status IN (:from0)');
    expect(input?.ExpressionAttributeValues).toMatchObject({
      ':from0': 'QUEUED',
      ':to': 'SUBMITTING',
      ':now': CLOCK_START.toISOString(),
    });
    expect(input?.UpdateExpression).toContain('#version = #version + :one');
    expect(input?.UpdateExpression).toContain('#pendingStatus = :to');
    expect(input?.ReturnValues).toBe('ALL_NEW');
  });

  it('removes pendingStatus and pendingSince on a terminal transition', async () => {
    const api = mockedApi();
    await transitionJob(api.deps, JOB_ID, ['SUBMITTED'], 'SUCCEEDED');
    const expression = api.ddb.commandCalls(UpdateCommand)[0]?.args[0].input.UpdateExpression ?? '';
    expect(expression).toMatch(/REMOVE .*#pendingStatus/);
    expect(expression).toMatch(/REMOVE .*#pendingSince/);
    expect(expression).not.toContain('#pendingStatus = :to');
  });

  it('turns a dotted remove path into one attribute name per segment', async () => {
    const api = mockedApi();
    await transitionJob(api.deps, JOB_ID, ['SUBMITTING'], 'SUBMITTED', {}, [
      'request.LoginSettings.Password',
    ]);
    const input = api.ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).toContain('#r0_0.#r0_1.#r0_2');
    expect(input?.ExpressionAttributeNames).toMatchObject({
      '#r0_0': 'request',
      '#r0_1': 'LoginSettings',
      '#r0_2': 'Password',
    });
  });

  it('returns the updated job without store bookkeeping', async () => {
    const api = mockedApi();
    const stored = {
      ...queuedJob(),
      status: 'SUBMITTING',
      pk: `job#${JOB_ID}`,
      kind: 'job',
      pendingStatus: 'SUBMITTING',
    };
    api.ddb.on(UpdateCommand).resolves({ Attributes: stored });
    const updated = await transitionJob(api.deps, JOB_ID, ['QUEUED'], 'SUBMITTING');
    expect(updated).toEqual({ ...queuedJob(), status: 'SUBMITTING' });
  });

  it('returns undefined when another writer moved the job first', async () => {
    const api = mockedApi();
    api.ddb.on(UpdateCommand).rejects(conditionFailed());
    await expect(transitionJob(api.deps, JOB_ID, ['QUEUED'], 'SUBMITTING')).resolves.toBeUndefined();
  });

  it('propagates errors other than a failed condition', async () => {
    const api = mockedApi();
    api.ddb.on(UpdateCommand).rejects(new Error('throttled'));
    await expect(transitionJob(api.deps, JOB_ID, ['QUEUED'], 'SUBMITTING')).rejects.toThrow('throttled');
  });
});

describe('listStaleQueuedJobs', () => {
  it('queries the pending index for QUEUED jobs older than the cutoff', async () => {
    const api = mockedApi();
    await listStaleQueuedJobs(api.deps, CLOCK_START, 10);
    expect(api.ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      IndexName: PENDING_INDEX,
      KeyConditionExpression: 'pendingStatus = :queued AND pendingSince < :cutoff',
      ExpressionAttributeValues: { ':queued': 'QUEUED', ':cutoff': CLOCK_START.toISOString() },
      Limit: 10,
    });
  });

  it('follows LastEvaluatedKey until the limit is reached', async () => {
    const api = mockedApi();
    const ids = sequentialIds();
    const page = (n: number) => Array.from({ length: n }, () => ({ jobId: ids(), pendingSince: 'x' }));
    api.ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: page(100), LastEvaluatedKey: { pk: 'a' } })
      .resolvesOnce({ Items: page(50), LastEvaluatedKey: { pk: 'b' } })
      .resolves({ Items: page(100) });
    const found = await listStaleQueuedJobs(api.deps, CLOCK_START, 150);
    expect(found).toHaveLength(150);
    const calls = api.ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => [input.Limit, input.ExclusiveStartKey])).toEqual([
      [100, undefined],
      [50, { pk: 'a' }],
    ]);
  });

  it('stops when there is no LastEvaluatedKey', async () => {
    const api = mockedApi();
    api.ddb.on(QueryCommand).resolves({ Items: [{ jobId: JOB_ID, pendingSince: 'x' }] });
    expect(await listStaleQueuedJobs(api.deps, CLOCK_START, 150)).toEqual([
      { jobId: JOB_ID, pendingSince: 'x' },
    ]);
    expect(api.ddb.commandCalls(QueryCommand)).toHaveLength(1);
  });
});

describe('touchQueuedJob', () => {
  it('sets pendingSince to now, conditioned on QUEUED and the pendingSince seen', async () => {
    const api = mockedApi();
    await expect(touchQueuedJob(api.deps, JOB_ID, 'seen')).resolves.toBe(true);
    expect(api.ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      ConditionExpression: '#status = :queued AND pendingSince = :seen',
      ExpressionAttributeValues: { ':now': CLOCK_START.toISOString(), ':seen': 'seen', ':queued': 'QUEUED' },
    });
  });

  it('returns false when the job moved meanwhile', async () => {
    const api = mockedApi();
    api.ddb.on(UpdateCommand).rejects(conditionFailed());
    await expect(touchQueuedJob(api.deps, JOB_ID, 'seen')).resolves.toBe(false);
  });
});
