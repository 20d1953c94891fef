import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { requeueStaleJobs, STALE_QUEUED_MS } from '../../../lib/jobs/sweep.ts';
import { parseSubmitMessage } from '../../../lib/queue/producer.ts';
import { mockedApi } from '../../helpers/aws-mocks.ts';
import { CLOCK_START } from '../../helpers/clock.ts';
import { jobIdOf, jobIn } from '../../helpers/jobs.ts';

const A = jobIdOf(10);
const B = jobIdOf(11);

function withStale(...jobIds: string[]) {
  const api = mockedApi();
  api.ddb.on(QueryCommand).resolves({
    Items: jobIds.map((jobId) => ({ pk: `job#${jobId}`, kind: 'job', ...jobIn('QUEUED', { jobId }) })),
  });
  api.ddb.on(UpdateCommand).callsFake((input: { Key: { pk: string } }) => ({
    Attributes: { ...jobIn('QUEUED', { jobId: input.Key.pk.slice(4), version: 2 }) },
  }));
  return api;
}

describe('requeueStaleJobs', () => {
  it('looks for jobs QUEUED since before now minus STALE_QUEUED_MS', async () => {
    const api = withStale();
    await requeueStaleJobs(api.deps);
    expect(api.ddb.commandCalls(QueryCommand)[0]?.args[0].input.ExpressionAttributeValues).toMatchObject({
      ':before': new Date(CLOCK_START - STALE_QUEUED_MS).toISOString(),
    });
  });

  it('sends one {jobId} message per stale job and returns the count', async () => {
    const api = withStale(A, B);
    await expect(requeueStaleJobs(api.deps)).resolves.toBe(2);
    expect(api.sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input.MessageBody)).toEqual([
      JSON.stringify({ jobId: A }),
      JSON.stringify({ jobId: B }),
    ]);
  });

  it('marks each re-enqueued job through the lifecycle (QUEUED → QUEUED at the version it read)', async () => {
    const api = withStale(A);
    await requeueStaleJobs(api.deps);
    expect(api.ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: `job#${A}` },
      ExpressionAttributeValues: {
        ':expectedStatus': 'QUEUED',
        ':expectedVersion': 1,
        ':pendingStatus': 'QUEUED',
      },
    });
  });

  it('logs, and carries on, when the submitter claimed a job before the sweep could mark it', async () => {
    const api = withStale(A, B);
    api.ddb
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    await expect(requeueStaleJobs(api.deps)).resolves.toBe(2);
    expect(api.logs.records()).toContainEqual(
      expect.objectContaining({ level: 'warn', jobId: A, message: expect.stringContaining('moved on') }),
    );
  });

  it('skips a job whose send failed, leaving it stale for the next sweep', async () => {
    const api = withStale(A, B);
    api.sqs.on(SendMessageCommand).rejectsOnce(new Error('SQS down')).resolves({ MessageId: 'm' });
    await expect(requeueStaleJobs(api.deps)).resolves.toBe(1);
    const touched = api.ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input.Key?.pk);
    expect(touched).toEqual([`job#${B}`]);
    expect(api.logs.records()).toContainEqual(expect.objectContaining({ level: 'warn', jobId: A }));
  });

  it('sends nothing when no job is stale', async () => {
    const api = withStale();
    await expect(requeueStaleJobs(api.deps)).resolves.toBe(0);
    expect(api.sqs.calls()).toHaveLength(0);
  });
});

describe('parseSubmitMessage', () => {
  it('reads the message the producer sends', () => {
    expect(parseSubmitMessage(JSON.stringify({ jobId: A }))).toEqual({ jobId: A });
  });

  it.each(['not json', 'null', '{}', '{"jobId":""}', '{"jobId":7}', '[]'])(
    'returns undefined for %s',
    (body) => {
      expect(parseSubmitMessage(body)).toBeUndefined();
    },
  );
});

describe('requeueStaleJobs at a restart of the local stack (no limit)', () => {
  it('re-enqueues every stale job, beyond a thousand, page by page', async () => {
    const api = mockedApi();
    let n = 0;
    const page = () =>
      Array.from({ length: 100 }, () => {
        const jobId = jobIdOf(++n);
        return { pk: `job#${jobId}`, kind: 'job', ...jobIn('QUEUED', { jobId }) };
      });
    const query = api.ddb.on(QueryCommand);
    for (let i = 0; i < 10; i++) query.resolvesOnce({ Items: page(), LastEvaluatedKey: { pk: `p${i}` } });
    query.resolvesOnce({ Items: page() });
    api.ddb.on(UpdateCommand).resolves({ Attributes: jobIn('QUEUED', { version: 2 }) });
    await expect(requeueStaleJobs(api.deps, { olderThanMs: 0 })).resolves.toBe(1100);
    expect(api.sqs.commandCalls(SendMessageCommand)).toHaveLength(1100);
  });
});
