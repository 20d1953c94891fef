import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { requestFingerprint } from '../../../lib/jobs/accept.ts';
import { idempotencyRecordKey } from '../../../lib/jobs/idempotency.ts';
import type { Job } from '../../../lib/jobs/model.ts';
import { fromItem } from '../../../lib/jobs/store.ts';
import { validateFlattenedRunInstances, validateRunInstances } from '../../../lib/run-instances/index.ts';
import { awsErrors, type MockedApi, mockedApi } from '../../helpers/aws-mocks.ts';
import { invoke, jobOf, jsonRunEvent, problemOf } from '../../helpers/events.ts';
import { fingerprintOf } from '../../helpers/jobs.ts';
import { seedExample, seedForm } from '../../helpers/requests.ts';

const { conditionFailed } = awsErrors;

/** An idempotency record (and the jobs it may name) already in the table: a claim of the key fails. */
function planted(api: MockedApi, record: Record<string, unknown>, ...jobs: Job[]): void {
  api.ddb.on(PutCommand).callsFake((input: { Item: { kind: string } }) => {
    if (input.Item.kind === 'idempotency') throw conditionFailed();
    return {};
  });
  const items = new Map(
    jobs.map((job) => [`job#${job.jobId}`, { pk: `job#${job.jobId}`, kind: 'job', ...job }]),
  );
  api.ddb.on(GetCommand).callsFake((input: { Key: { pk: string } }) => ({
    Item: input.Key.pk.startsWith('idem#') ? record : items.get(input.Key.pk),
  }));
}

describe('Idempotency-Key on POST /v1/run-instances (mocked table)', () => {
  it('claims the key under the caller-scoped record before storing the job', async () => {
    const api = mockedApi();
    await invoke(createApiHandler(api.deps), jsonRunEvent(seedExample(1), { idempotencyKey: 'order-1' }));
    const puts = api.ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item?.pk);
    expect(puts).toEqual([
      `idem#${idempotencyRecordKey('alice', 'order-1')}`,
      'job#00000000-0000-4000-8000-000000000001',
    ]);
  });

  it('writes the record once, naming its job: the stored job is the answer, no second write completes it', async () => {
    const api = mockedApi();
    const response = await invoke(
      createApiHandler(api.deps),
      jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }),
    );
    const records = api.ddb
      .commandCalls(PutCommand)
      .map((call) => call.args[0].input.Item)
      .filter((item) => String(item?.pk).startsWith('idem#'));
    expect(records).toEqual([
      expect.objectContaining({ status: 'IN_PROGRESS', jobId: jobOf(response).jobId }),
    ]);
    expect(api.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('treats a quoted key like the same bare key', async () => {
    const api = mockedApi();
    await invoke(createApiHandler(api.deps), jsonRunEvent(seedExample(1), { idempotencyKey: '"order-1"' }));
    expect(api.ddb.commandCalls(PutCommand)[0]?.args[0].input.Item?.pk).toBe(
      `idem#${idempotencyRecordKey('alice', 'order-1')}`,
    );
  });

  it('replays the first answer for the job the record names, storing and sending nothing', async () => {
    const first = mockedApi();
    const original = await invoke(
      createApiHandler(first.deps),
      jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }),
    );
    const job = fromItem(first.items.get(`job#${jobOf(original).jobId}`) ?? {});
    const api = mockedApi();
    // The job has moved on since; the replay still answers what the first request did.
    planted(
      api,
      { status: 'COMPLETED', fingerprint: fingerprintOf(seedExample(1)), jobId: job.jobId },
      { ...job, status: 'SUBMITTED', attempts: 1, version: 3, updatedAt: '2026-11-26T12:01:00.000Z' },
    );
    const response = await invoke(
      createApiHandler(api.deps),
      jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }),
    );
    expect(response).toEqual(original);
    expect(api.items.size).toBe(0);
    expect(api.sqs.calls()).toHaveLength(0);
  });

  it('answers 422 when the key was used with another payload, sending nothing', async () => {
    const api = mockedApi();
    planted(api, { status: 'COMPLETED', fingerprint: fingerprintOf(seedExample(3)), jobId: 'x' });
    const response = await invoke(
      createApiHandler(api.deps),
      jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }),
    );
    expect(response.statusCode).toBe(422);
    expect(problemOf(response).code).toBe('IdempotencyKey.PayloadMismatch');
    expect(api.sqs.calls()).toHaveLength(0);
  });

  it('answers 409 while the first request is in flight, sending nothing', async () => {
    const api = mockedApi();
    planted(api, { status: 'IN_PROGRESS', fingerprint: fingerprintOf(seedExample(1)) });
    const response = await invoke(
      createApiHandler(api.deps),
      jsonRunEvent(seedExample(1), { idempotencyKey: 'k' }),
    );
    expect(response.statusCode).toBe(409);
    expect(api.sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('does not read or claim a key for a request that fails validation', async () => {
    const api = mockedApi();
    const response = await invoke(
      createApiHandler(api.deps),
      jsonRunEvent({ ...seedExample(1), ImageId: 'bad' }, { idempotencyKey: 'k' }),
    );
    expect(response.statusCode).toBe(400);
    expect(api.ddb.calls()).toHaveLength(0);
  });
});

describe('requestFingerprint', () => {
  it('is equal for the JSON and the flattened form of each seed example', () => {
    for (const n of [1, 2, 3] as const) {
      const json = validateRunInstances(seedExample(n), { profile: 'seed-2017' });
      const form = validateFlattenedRunInstances(seedForm(n), { profile: 'seed-2017' });
      if (!json.ok || !form.ok) throw new Error(`seed example ${n} does not validate`);
      const control = { webhookUrl: null, metadata: {}, minCount: null };
      expect(requestFingerprint(form.request, form.region, control)).toBe(
        requestFingerprint(json.request, json.region, control),
      );
    }
  });

  it('does not depend on the order of members', () => {
    const { ImageId, Placement } = { ImageId: 'img-pmqg1cw7', Placement: { Zone: 'ap-guangzhou-2' } };
    expect(fingerprintOf({ ImageId, Placement })).toBe(fingerprintOf({ Placement, ImageId }));
  });

  it('differs when only metadata differs', () => {
    expect(fingerprintOf({ ...seedExample(1), metadata: { a: '1' } })).not.toBe(
      fingerprintOf({ ...seedExample(1), metadata: { a: '2' } }),
    );
  });

  it('differs when only webhookUrl differs', () => {
    expect(fingerprintOf({ ...seedExample(1), webhookUrl: 'https://a.example/' })).not.toBe(
      fingerprintOf({ ...seedExample(1), webhookUrl: 'https://b.example/' }),
    );
  });

  const withPassword = (password: string) => ({ ...seedExample(2), LoginSettings: { Password: password } });
  const SECRET = 'a-per-deployment-secret-of-32-chars!';

  it('differs when only the password differs, given the per-deployment secret', () => {
    expect(fingerprintOf(withPassword('Qcloud@TestApi123++'), { secret: SECRET })).not.toBe(
      fingerprintOf(withPassword('Qcloud@TestApi123--'), { secret: SECRET }),
    );
  });

  it('leaves the password out without a secret, so nothing stored depends on it', () => {
    expect(fingerprintOf(withPassword('Qcloud@TestApi123++'))).toBe(
      fingerprintOf(withPassword('Qcloud@TestApi123--')),
    );
  });

  it('cannot be matched by hashing a password guess without the secret', () => {
    const stored = fingerprintOf(withPassword('Qcloud@TestApi123++'), { secret: SECRET });
    const validation = validateRunInstances(withPassword('Qcloud@TestApi123++'), { profile: 'seed-2017' });
    if (!validation.ok) throw new Error('seed example 2 must validate');
    const control = { webhookUrl: null, metadata: {}, minCount: null };
    const guesses = [undefined, '', 'guess', 'Qcloud@TestApi123++'].map((secret) =>
      requestFingerprint(validation.request, validation.region, control, secret),
    );
    expect(guesses).not.toContain(stored);
  });
});
