import { GetCommand, type PutCommand, type UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../../lib/api/deps.ts';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { JobExistsError } from '../../../lib/errors.ts';
import type { HttpEvent } from '../../../lib/http/types.ts';
import { IN_PROGRESS_LEASE_SECONDS } from '../../../lib/jobs/idempotency.ts';
import { newJob } from '../../../lib/jobs/model.ts';
import { createJob } from '../../../lib/jobs/store.ts';
import { jobKey } from '../../../lib/jobs/table.ts';
import { awsErrors } from '../../helpers/aws-mocks.ts';
import {
  type ApiEmulators,
  type ApiStack,
  drainQueue,
  emulatorApi,
  queuedJobIds,
  startApiEmulators,
} from '../../helpers/emulators.ts';
import { invoke, jobOf, jsonRunEvent, problemOf, TOKENS } from '../../helpers/events.ts';
import { seedExample } from '../../helpers/requests.ts';

let env: ApiEmulators;
let stages = 0;
beforeAll(async () => {
  env = await startApiEmulators('exactly-once');
});
afterAll(() => env.stop());

type Command = PutCommand | UpdateCommand;
/** What the test makes one DynamoDB call do: fail before sending, or send and then fail (timeout after write). */
type Sabotage = (command: Command) => 'before' | 'after' | undefined;

/** The real table behind a client whose chosen calls fail, as a network timeout would. */
function sabotaged(stack: ApiStack, sabotage: { current: Sabotage | undefined }): ApiDeps['ddb'] {
  return {
    send: (async (command: Command) => {
      const when = sabotage.current?.(command);
      if (when === 'before') throw awsErrors.timeout();
      const result = await stack.ddb.send(command as never);
      if (when === 'after') throw awsErrors.timeout();
      return result;
    }) as ApiDeps['ddb']['send'],
  };
}

const itemKind = (command: Command) => (command.input as { Item?: { kind?: string } }).Item?.kind;

const FIXED_JOB_ID = '00000000-0000-4000-8000-00000000d0d0';

async function freshApi(overrides: Partial<ApiDeps> = {}) {
  const stack = await env.provision(`once-${++stages}`);
  const sabotage: { current: Sabotage | undefined } = { current: undefined };
  const api = emulatorApi(stack, { ddb: sabotaged(stack, sabotage), ...overrides });
  const call = (event: HttpEvent) => invoke(createApiHandler(api.deps), event);
  return { stack, api, call, sabotage };
}

const queuedJobs = queuedJobIds;

describe('one request, one job — even when the store fails half-way', () => {
  it('answers 202 when the job write landed but its answer was lost, and stores one job', async () => {
    const { stack, call, sabotage } = await freshApi();
    sabotage.current = (command) => (itemKind(command) === 'job' ? 'after' : undefined);
    const response = await call(jsonRunEvent(seedExample(1)));
    expect(response.statusCode).toBe(202);
    expect(await queuedJobs(stack)).toEqual([jobOf(response).jobId]);
    expect(await drainQueue(stack.sqs, stack.submitQueueUrl)).toHaveLength(1);
  });

  it('answers 503 "nothing was accepted" only once a tombstone guarantees the job can never appear', async () => {
    const { stack, api, call, sabotage } = await freshApi({ newId: () => FIXED_JOB_ID });
    sabotage.current = (command) => (itemKind(command) === 'job' ? 'before' : undefined);
    const response = await call(jsonRunEvent(seedExample(1)));
    expect(response.statusCode).toBe(503);
    expect(problemOf(response).detail).toContain('nothing was accepted');
    expect(await queuedJobs(stack)).toEqual([]);
    const { Item } = await stack.ddb.send(
      new GetCommand({ TableName: stack.tableName, Key: jobKey(FIXED_JOB_ID), ConsistentRead: true }),
    );
    expect(Item?.kind).toBe('void');
    // The job's own write, arriving late, can no longer land.
    sabotage.current = undefined;
    const late = newJob({
      jobId: FIXED_JOB_ID,
      region: 'ap-guangzhou',
      request: { Placement: { Zone: 'ap-guangzhou-2' }, ImageId: 'img-pmqg1cw7' },
      requestedBy: 'alice',
      metadata: {},
      webhookUrl: null,
      createdAt: new Date(api.clock.now()).toISOString(),
    });
    await expect(createJob(api.deps, late)).rejects.toBeInstanceOf(JobExistsError);
  });

  it('answers a retry with the job the key names once it is stored, during the lease and after, never a second job', async () => {
    const sends: string[] = [];
    const { stack, api, call } = await freshApi({
      // The queue is down: the job is stored but its message is not sent (the sweep would send it).
      sqs: {
        send: (async (command: { input: { MessageBody?: string } }) => {
          sends.push(String(command.input.MessageBody));
          throw new Error('SQS is down');
        }) as ApiDeps['sqs']['send'],
      },
    });
    const first = await call(jsonRunEvent(seedExample(2), { idempotencyKey: 'deploy-42' }));
    expect(first.statusCode).toBe(202);
    // Within the first request's lease: the stored job is the answer (no write marks the record complete).
    const during = await call(jsonRunEvent(seedExample(2), { idempotencyKey: 'deploy-42' }));
    expect(during.statusCode).toBe(202);
    expect(jobOf(during).jobId).toBe(jobOf(first).jobId);
    expect(sends).toHaveLength(1);
    // After it: the job is recovered, and its message sent again since it is still QUEUED.
    api.clock.advance(IN_PROGRESS_LEASE_SECONDS * 1000 + 1000);
    const retry = await call(jsonRunEvent(seedExample(2), { idempotencyKey: 'deploy-42' }));
    expect(retry.statusCode).toBe(202);
    expect(jobOf(retry).jobId).toBe(jobOf(first).jobId);
    expect(sends).toHaveLength(2);
    expect(await queuedJobs(stack)).toEqual([jobOf(first).jobId]);
  });

  it('asks for a retry with the same key when even the tombstone fails, and that retry finds the job', async () => {
    const { stack, api, call, sabotage } = await freshApi();
    sabotage.current = (command) =>
      itemKind(command) === 'job' ? 'after' : itemKind(command) === 'void' ? 'before' : undefined;
    const first = await call(jsonRunEvent(seedExample(3), { idempotencyKey: 'unsure' }));
    expect(first.statusCode).toBe(503);
    expect(problemOf(first).detail).toContain('same Idempotency-Key');
    sabotage.current = undefined;
    api.clock.advance(IN_PROGRESS_LEASE_SECONDS * 1000 + 1000);
    const retry = await call(jsonRunEvent(seedExample(3), { idempotencyKey: 'unsure' }));
    expect(retry.statusCode).toBe(202);
    expect(await queuedJobs(stack)).toEqual([jobOf(retry).jobId]);
  });
});

describe('a caller-chosen ClientToken belongs to one job', () => {
  const withToken = (n: 1 | 2 | 3, ClientToken: string) => ({ ...seedExample(n), ClientToken });

  it('refuses another job with a ClientToken in use, whoever asks, with 409', async () => {
    const { call } = await freshApi();
    expect((await call(jsonRunEvent(withToken(1, 'deploy-web-1')))).statusCode).toBe(202);
    const bob = await call(jsonRunEvent(withToken(1, 'deploy-web-1'), { bearer: TOKENS.bob.token }));
    expect(bob.statusCode).toBe(409);
    expect(problemOf(bob).code).toBe('InvalidClientToken.InUse');
    expect((await call(jsonRunEvent(withToken(3, 'deploy-web-1')))).statusCode).toBe(409);
  });

  it('frees the token of a job that was certainly not stored', async () => {
    const { call, sabotage } = await freshApi();
    sabotage.current = (command) => (itemKind(command) === 'job' ? 'before' : undefined);
    expect((await call(jsonRunEvent(withToken(1, 'retry-me')))).statusCode).toBe(503);
    sabotage.current = undefined;
    expect((await call(jsonRunEvent(withToken(1, 'retry-me')))).statusCode).toBe(202);
  });

  it('answers 409 in progress, and undoes nothing, while another request with the token is still storing its job', async () => {
    const stack = await env.provision(`once-${++stages}`);
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    // The first request's job write is slow (SDK retries on a throttled table, say).
    const slowJobPut: ApiDeps['ddb'] = {
      send: (async (command: Command) => {
        if (itemKind(command) === 'job') await gate;
        return stack.ddb.send(command as never);
      }) as ApiDeps['ddb']['send'],
    };
    const slow = emulatorApi(stack, { ddb: slowJobPut });
    const fast = emulatorApi(stack, { now: slow.clock.now });
    const first = invoke(createApiHandler(slow.deps), jsonRunEvent(withToken(1, 'raced-token')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await invoke(
      createApiHandler(fast.deps),
      jsonRunEvent(withToken(1, 'raced-token'), { bearer: TOKENS.bob.token }),
    );
    expect(second.statusCode).toBe(409);
    expect(problemOf(second).code).toBe('InvalidClientToken.InProgress');
    expect(second.headers['retry-after']).toMatch(/^\d+$/);
    open();
    const firstAnswer = await first;
    expect(firstAnswer.statusCode).toBe(202);
    expect(await queuedJobs(stack)).toEqual([jobOf(firstAnswer).jobId]);
  });

  it('takes over a reservation left by a request that died before storing its job, once its lease is over', async () => {
    const { stack, api, call, sabotage } = await freshApi();
    // The job write fails and even the release fails: the reservation is left behind.
    sabotage.current = (command) =>
      itemKind(command) === 'job' ||
      ('ConditionExpression' in command.input &&
        (command.input as { Key?: { pk?: string } }).Key?.pk?.startsWith('ctok#'))
        ? 'before'
        : undefined;
    await call(jsonRunEvent(withToken(1, 'orphaned-token')));
    sabotage.current = undefined;
    expect((await call(jsonRunEvent(withToken(1, 'orphaned-token')))).statusCode).toBe(409);
    api.clock.advance(IN_PROGRESS_LEASE_SECONDS * 1000 + 1000);
    const later = await call(jsonRunEvent(withToken(1, 'orphaned-token')));
    expect(later.statusCode).toBe(202);
    expect(await queuedJobs(stack)).toEqual([jobOf(later).jobId]);
  });

  it('reserves tokens that differ only in case or surrounding spaces as one', async () => {
    const { call } = await freshApi();
    expect((await call(jsonRunEvent(withToken(1, 'Deploy-Web-2')))).statusCode).toBe(202);
    expect((await call(jsonRunEvent(withToken(1, 'deploy-web-2')))).statusCode).toBe(409);
  });

  it('lets a replay with the same Idempotency-Key through its own reservation', async () => {
    const { call } = await freshApi();
    const first = await call(jsonRunEvent(withToken(2, 'keyed-token'), { idempotencyKey: 'k-1' }));
    const again = await call(jsonRunEvent(withToken(2, 'keyed-token'), { idempotencyKey: 'k-1' }));
    expect(again.statusCode).toBe(202);
    expect(jobOf(again).jobId).toBe(jobOf(first).jobId);
  });
});
