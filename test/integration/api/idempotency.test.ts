import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../../lib/api/deps.ts';
import { createApiHandler } from '../../../lib/api/handler.ts';
import type { HttpEvent } from '../../../lib/http/types.ts';
import {
  beginIdempotentRequest,
  IDEMPOTENCY_TTL_SECONDS,
  IN_PROGRESS_LEASE_SECONDS,
  idempotencyRecordKey,
} from '../../../lib/jobs/idempotency.ts';
import { awsErrors } from '../../helpers/aws-mocks.ts';
import {
  type ApiEmulators,
  type ApiStack,
  drainQueue,
  emulatorApi,
  queuedJobIds,
  startApiEmulators,
} from '../../helpers/emulators.ts';
import { formRunEvent, invoke, jobOf, jsonRunEvent, problemOf, TOKENS } from '../../helpers/events.ts';
import { fingerprintOf } from '../../helpers/jobs.ts';
import { seedExample, seedForm } from '../../helpers/requests.ts';

let env: ApiEmulators;
let stages = 0;

beforeAll(async () => {
  env = await startApiEmulators('idempotency');
});
afterAll(() => env.stop());

/** A table and queue of their own for one test, and the API on them. */
async function freshApi(overrides: Partial<ApiDeps> = {}) {
  const stack = await env.provision(`idem-${++stages}`);
  const api = emulatorApi(stack, overrides);
  const call = (event: HttpEvent) => invoke(createApiHandler(api.deps), event);
  return { stack, api, call };
}

const jobCount = async (stack: ApiStack) => (await queuedJobIds(stack)).length;

const messages = (stack: ApiStack) => drainQueue(stack.sqs, stack.submitQueueUrl);

describe('Idempotency-Key against dynalite and fauxqs', () => {
  it('replays the first status and body for the same caller, key and payload', async () => {
    const { call } = await freshApi();
    const first = await call(jsonRunEvent(seedExample(2), { idempotencyKey: 'order-1' }));
    const second = await call(jsonRunEvent(seedExample(2), { idempotencyKey: 'order-1' }));
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(first.statusCode);
    expect(second.body).toBe(first.body);
    expect(second.headers.location).toBe(first.headers.location);
  });

  it('creates one job and one message for a request sent three times', async () => {
    const { stack, call } = await freshApi();
    const responses = [];
    for (let i = 0; i < 3; i++)
      responses.push(await call(jsonRunEvent(seedExample(1), { idempotencyKey: 'k' })));
    expect(new Set(responses.map((response) => jobOf(response).jobId)).size).toBe(1);
    expect(await jobCount(stack)).toBe(1);
    expect(await messages(stack)).toHaveLength(1);
  });

  it('answers 422 for the same key with another payload, creating nothing', async () => {
    const { stack, call } = await freshApi();
    await call(jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }));
    await messages(stack);
    const response = await call(jsonRunEvent(seedExample(3), { idempotencyKey: 'k' }));
    expect(response.statusCode).toBe(422);
    expect(problemOf(response).code).toBe('IdempotencyKey.PayloadMismatch');
    expect(await jobCount(stack)).toBe(1);
    expect(await messages(stack)).toEqual([]);
  });

  it('answers 422 when only metadata differs', async () => {
    const { call } = await freshApi();
    await call(jsonRunEvent({ ...seedExample(1), metadata: { run: '1' } }, { idempotencyKey: 'k' }));
    const response = await call(
      jsonRunEvent({ ...seedExample(1), metadata: { run: '2' } }, { idempotencyKey: 'k' }),
    );
    expect(response.statusCode).toBe(422);
  });

  it('answers 409 with Retry-After while the first request with the key is in progress', async () => {
    const { stack, api, call } = await freshApi();
    await beginIdempotentRequest(
      api.deps,
      idempotencyRecordKey('alice', 'k'),
      fingerprintOf(seedExample(1)),
      'earlier-job',
    );
    const response = await call(jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }));
    expect(response.statusCode).toBe(409);
    expect(response.headers['retry-after']).toBe('1');
    expect(await jobCount(stack)).toBe(0);
    expect(await messages(stack)).toEqual([]);
  });

  it('answers 422, not 409, for another payload while the key is in progress', async () => {
    const { api, call } = await freshApi();
    await beginIdempotentRequest(
      api.deps,
      idempotencyRecordKey('alice', 'k'),
      fingerprintOf(seedExample(1)),
      'earlier-job',
    );
    expect((await call(jsonRunEvent(seedExample(3), { idempotencyKey: 'k' }))).statusCode).toBe(422);
  });

  it('lets a retry take over a key whose in-progress lease ran out', async () => {
    const { stack, api, call } = await freshApi();
    await beginIdempotentRequest(
      api.deps,
      idempotencyRecordKey('alice', 'k'),
      fingerprintOf(seedExample(1)),
      'earlier-job',
    );
    api.clock.advance(IN_PROGRESS_LEASE_SECONDS * 1000);
    const response = await call(jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }));
    expect(response.statusCode).toBe(202);
    expect(await messages(stack)).toHaveLength(1);
  });

  it('keeps the keys of different callers independent', async () => {
    const { stack, call } = await freshApi();
    const alice = await call(jsonRunEvent(seedExample(1), { idempotencyKey: 'shared' }));
    const bob = await call(
      jsonRunEvent(seedExample(1), { idempotencyKey: 'shared', bearer: TOKENS.bob.token }),
    );
    expect(bob.statusCode).toBe(202);
    expect(jobOf(bob).jobId).not.toBe(jobOf(alice).jobId);
    expect(jobOf(bob).requestedBy).toBe('bob');
    expect(await jobCount(stack)).toBe(2);
    expect(await messages(stack)).toHaveLength(2);
  });

  it('does not give another caller a 422 for a key used with another payload', async () => {
    const { call } = await freshApi();
    await call(jsonRunEvent(seedExample(1), { idempotencyKey: 'shared' }));
    const bob = await call(
      jsonRunEvent(seedExample(3), { idempotencyKey: 'shared', bearer: TOKENS.bob.token }),
    );
    expect(bob.statusCode).toBe(202);
  });

  it('still replays just before 24 hours have passed', async () => {
    const { api, call } = await freshApi();
    const first = await call(jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }));
    api.clock.advance(IDEMPOTENCY_TTL_SECONDS * 1000 - 1000);
    const again = await call(jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }));
    expect(jobOf(again).jobId).toBe(jobOf(first).jobId);
  });

  it('creates a new job once the record is older than 24 hours, although DynamoDB still holds it', async () => {
    const { stack, api, call } = await freshApi();
    const first = await call(jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }));
    await messages(stack);
    api.clock.advance(IDEMPOTENCY_TTL_SECONDS * 1000 + 1000);
    const later = await call(jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }));
    expect(later.statusCode).toBe(202);
    expect(jobOf(later).jobId).not.toBe(jobOf(first).jobId);
    expect(await messages(stack)).toEqual([JSON.stringify({ jobId: jobOf(later).jobId })]);
  });

  it('creates a new job after 24 hours even for another payload (no 422 from an expired record)', async () => {
    const { api, call } = await freshApi();
    await call(jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }));
    api.clock.advance(IDEMPOTENCY_TTL_SECONDS * 1000 + 1000);
    expect((await call(jsonRunEvent(seedExample(3), { idempotencyKey: 'k' }))).statusCode).toBe(202);
  });

  it.each([1, 2, 3] as const)(
    'replays seed example %i sent as JSON, then as the flattened form',
    async (n) => {
      const { stack, call } = await freshApi();
      const json = await call(jsonRunEvent(seedExample(n), { idempotencyKey: `seed-${n}` }));
      const form = await call(formRunEvent(seedForm(n), { base64: true, idempotencyKey: `seed-${n}` }));
      expect(form.statusCode).toBe(202);
      expect(form.body).toBe(json.body);
      expect(await messages(stack)).toHaveLength(1);
    },
  );

  it('replays the response even when the first SQS send failed', async () => {
    const { stack, api, call } = await freshApi();
    const broken = createApiHandler({ ...api.deps, queueUrl: `${stack.submitQueueUrl}-missing` });
    const first = await invoke(broken, jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }));
    const again = await call(jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }));
    expect(first.statusCode).toBe(202);
    expect(again.body).toBe(first.body);
    expect(await messages(stack)).toEqual([]);
  });

  it('frees the key after a 503, so the same request with the same key is then accepted', async () => {
    const { stack, api, call } = await freshApi();
    const failingJobPut: ApiDeps['ddb'] = {
      send: ((command: Parameters<typeof stack.ddb.send>[0]) =>
        command instanceof PutCommand && command.input.Item?.kind === 'job'
          ? Promise.reject(awsErrors.outage('DynamoDB is down'))
          : stack.ddb.send(command)) as typeof stack.ddb.send,
    };
    const down = await invoke(
      createApiHandler({ ...api.deps, ddb: failingJobPut }),
      jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }),
    );
    expect(down.statusCode).toBe(503);
    const retry = await call(jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }));
    expect(retry.statusCode).toBe(202);
    expect(await jobCount(stack)).toBe(1);
    expect(await messages(stack)).toHaveLength(1);
  });
});
