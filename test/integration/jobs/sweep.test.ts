import { createServer } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { requeueStaleJobs, STALE_QUEUED_MS, type SweepDeps } from '../../../lib/jobs/sweep.ts';
import { jobKey } from '../../../lib/jobs/table.ts';
import { LOCAL_AWS } from '../../../local/emulators.ts';
import {
  type ApiEmulators,
  type ApiStack,
  drainQueue,
  emulatorApi,
  startApiEmulators,
} from '../../helpers/emulators.ts';
import { invoke, jobOf, jsonRunEvent } from '../../helpers/events.ts';
import { captureLogs } from '../../helpers/logs.ts';
import { SEED_PASSWORD, seedExample } from '../../helpers/requests.ts';

let env: ApiEmulators;
/** An SQS client aimed at a loopback port that was just closed: every send fails with ECONNREFUSED. */
let brokenSqs: SQSClient;
let stages = 0;

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  env = await startApiEmulators('sweep');
  brokenSqs = new SQSClient({
    ...LOCAL_AWS,
    endpoint: `http://127.0.0.1:${await closedPort()}`,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  brokenSqs.destroy();
  await env.stop();
});

/** A table and queue of its own, then seed example 2 accepted while SQS is down. */
async function acceptWhileSqsDown() {
  const stack = await env.provision(`sweep-${++stages}`);
  const api = emulatorApi(stack, { sqs: brokenSqs });
  const response = await invoke(createApiHandler(api.deps), jsonRunEvent(seedExample(2)));
  expect(response.statusCode).toBe(202);
  const acceptedAt = api.clock.now();
  return {
    stack,
    api,
    jobId: jobOf(response).jobId,
    message: JSON.stringify({ jobId: jobOf(response).jobId }),
    acceptedAt,
  };
}

function sweepDeps(stack: ApiStack, now: number, logs = captureLogs()): SweepDeps {
  return {
    ddb: stack.ddb,
    sqs: stack.sqs,
    tableName: stack.tableName,
    queueUrl: stack.submitQueueUrl,
    now: () => now,
    logger: logs.logger,
  };
}

describe('a job accepted while SQS was failing', () => {
  it('is answered 202 and stored QUEUED, with no message on the queue', async () => {
    const { stack, jobId } = await acceptWhileSqsDown();
    const { Item } = await stack.ddb.send(new GetCommand({ TableName: stack.tableName, Key: jobKey(jobId) }));
    expect(Item).toMatchObject({ status: 'QUEUED', pendingStatus: 'QUEUED' });
    expect(await drainQueue(stack.sqs, stack.submitQueueUrl)).toEqual([]);
  });

  it('leaves a warning naming the job and not the password', async () => {
    const { api, jobId } = await acceptWhileSqsDown();
    expect(api.logs.records()).toContainEqual(expect.objectContaining({ level: 'warn', jobId }));
    expect(api.logs.text()).not.toContain(SEED_PASSWORD);
  });

  it('is not re-enqueued when exactly STALE_QUEUED_MS has passed', async () => {
    const { stack, acceptedAt } = await acceptWhileSqsDown();
    await expect(requeueStaleJobs(sweepDeps(stack, acceptedAt + STALE_QUEUED_MS))).resolves.toBe(0);
    expect(await drainQueue(stack.sqs, stack.submitQueueUrl)).toEqual([]);
  });

  it('is re-enqueued once older than STALE_QUEUED_MS, its message arriving on the queue', async () => {
    const { stack, acceptedAt, message } = await acceptWhileSqsDown();
    await expect(requeueStaleJobs(sweepDeps(stack, acceptedAt + STALE_QUEUED_MS + 1))).resolves.toBe(1);
    expect(await drainQueue(stack.sqs, stack.submitQueueUrl)).toEqual([message]);
  });

  it('has its pendingSince touched by the sweep', async () => {
    const { stack, acceptedAt, jobId } = await acceptWhileSqsDown();
    const later = acceptedAt + STALE_QUEUED_MS + 1;
    await requeueStaleJobs(sweepDeps(stack, later));
    const { Item } = await stack.ddb.send(new GetCommand({ TableName: stack.tableName, Key: jobKey(jobId) }));
    expect(Item).toMatchObject({ status: 'QUEUED', pendingSince: new Date(later).toISOString() });
  });

  it('is not sent again by a second sweep right after', async () => {
    const { stack, acceptedAt } = await acceptWhileSqsDown();
    const later = acceptedAt + STALE_QUEUED_MS + 1;
    await requeueStaleJobs(sweepDeps(stack, later));
    await drainQueue(stack.sqs, stack.submitQueueUrl);
    await expect(requeueStaleJobs(sweepDeps(stack, later))).resolves.toBe(0);
    expect(await drainQueue(stack.sqs, stack.submitQueueUrl)).toEqual([]);
  });

  it('is sent again when it stays QUEUED another STALE_QUEUED_MS', async () => {
    const { stack, acceptedAt, message } = await acceptWhileSqsDown();
    const first = acceptedAt + STALE_QUEUED_MS + 1;
    await requeueStaleJobs(sweepDeps(stack, first));
    await drainQueue(stack.sqs, stack.submitQueueUrl);
    await expect(requeueStaleJobs(sweepDeps(stack, first + STALE_QUEUED_MS + 1))).resolves.toBe(1);
    expect(await drainQueue(stack.sqs, stack.submitQueueUrl)).toEqual([message]);
  });

  it('stays stale when the sweep cannot send either, and the next sweep sends it', async () => {
    const { stack, acceptedAt, jobId, message } = await acceptWhileSqsDown();
    const later = acceptedAt + STALE_QUEUED_MS + 1;
    const logs = captureLogs();
    await expect(requeueStaleJobs({ ...sweepDeps(stack, later, logs), sqs: brokenSqs })).resolves.toBe(0);
    expect(logs.records()).toContainEqual(expect.objectContaining({ level: 'warn', jobId }));
    await expect(requeueStaleJobs(sweepDeps(stack, later))).resolves.toBe(1);
    expect(await drainQueue(stack.sqs, stack.submitQueueUrl)).toEqual([message]);
  });
});
