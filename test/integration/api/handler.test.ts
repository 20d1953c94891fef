import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { RETRY_AFTER_SECONDS } from '../../../lib/api/run-instances.ts';
import { jobKey } from '../../../lib/jobs/table.ts';
import { type ApiEmulators, drainQueue, emulatorApi, startApiEmulators } from '../../helpers/emulators.ts';
import {
  ALICE_ROLE,
  formRunEvent,
  getJobEvent,
  iamIdentity,
  invoke,
  jobOf,
  jsonRunEvent,
  problemOf,
  TOKENS,
} from '../../helpers/events.ts';
import { captureLogs } from '../../helpers/logs.ts';
import { SEED_PASSWORD, type SeedNumber, seedExample, seedForm } from '../../helpers/requests.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SEEDS: SeedNumber[] = [1, 2, 3];
const FORMATS = SEEDS.flatMap((n) => [
  [n, 'JSON'] as const,
  [n, 'base64 form'] as const,
  [n, 'plain form'] as const,
]);

let env: ApiEmulators;

beforeAll(async () => {
  env = await startApiEmulators('handler');
});
afterAll(() => env.stop());
beforeEach(async () => {
  await drainQueue(env.sqs, env.submitQueueUrl);
});

function api() {
  return emulatorApi(env);
}

function seedEvent(n: SeedNumber, format: (typeof FORMATS)[number][1]) {
  if (format === 'JSON') return jsonRunEvent(seedExample(n));
  return formRunEvent(seedForm(n), { base64: format === 'base64 form' });
}

describe.each(FORMATS)(
  'seed example %i as %s through createApiHandler on dynalite and fauxqs',
  (n, format) => {
    it('answers 202 with Location /v1/jobs/{uuid} and Retry-After', async () => {
      const response = await invoke(createApiHandler(api().deps), seedEvent(n, format));
      expect(response.statusCode).toBe(202);
      const jobId = jobOf(response).jobId;
      expect(jobId).toMatch(UUID);
      expect(response.headers.location).toBe(`/v1/jobs/${jobId}`);
      expect(response.headers['retry-after']).toBe(String(RETRY_AFTER_SECONDS));
    });

    it('stores the job QUEUED with pendingStatus', async () => {
      const response = await invoke(createApiHandler(api().deps), seedEvent(n, format));
      const { jobId } = jobOf(response);
      const { Item } = await env.ddb.send(new GetCommand({ TableName: env.tableName, Key: jobKey(jobId) }));
      expect(Item).toMatchObject({
        jobId,
        kind: 'job',
        status: 'QUEUED',
        pendingStatus: 'QUEUED',
        region: 'ap-guangzhou',
      });
    });

    it('puts exactly one {jobId} message on the submit queue', async () => {
      const response = await invoke(createApiHandler(api().deps), seedEvent(n, format));
      expect(await drainQueue(env.sqs, env.submitQueueUrl)).toEqual([
        JSON.stringify({ jobId: jobOf(response).jobId }),
      ]);
    });
  },
);

describe('createApiHandler on dynalite and fauxqs', () => {
  it('puts one message per request for three requests in a row', async () => {
    const handler = createApiHandler(api().deps);
    const ids: string[] = [];
    for (const n of SEEDS) ids.push(jobOf(await invoke(handler, jsonRunEvent(seedExample(n)))).jobId);
    const bodies = await drainQueue(env.sqs, env.submitQueueUrl);
    expect(bodies.sort()).toEqual(ids.map((jobId) => JSON.stringify({ jobId })).sort());
  });

  it('serves the stored job to its caller with GET /v1/jobs/{jobId}', async () => {
    const handler = createApiHandler(api().deps);
    const accepted = await invoke(handler, jsonRunEvent({ ...seedExample(2), metadata: { team: 'web' } }));
    const { jobId } = jobOf(accepted);
    const read = await invoke(handler, getJobEvent(jobId));
    expect(read.statusCode).toBe(200);
    expect(JSON.parse(read.body)).toEqual(JSON.parse(accepted.body));
  });

  it('answers 404 to another caller asking for the job', async () => {
    const handler = createApiHandler(api().deps);
    const { jobId } = jobOf(await invoke(handler, jsonRunEvent(seedExample(1))));
    const read = await invoke(handler, getJobEvent(jobId, { bearer: TOKENS.bob.token }));
    expect(read.statusCode).toBe(404);
  });

  it('answers 404 for an unknown job id', async () => {
    const read = await invoke(
      createApiHandler(api().deps),
      getJobEvent('00000000-0000-4000-8000-00000000dead'),
    );
    expect(read.statusCode).toBe(404);
  });

  it('redacts the password in the 202 and the 200 bodies while the item still holds it', async () => {
    const handler = createApiHandler(api().deps);
    const accepted = await invoke(handler, formRunEvent(seedForm(2), { base64: true }));
    const { jobId } = jobOf(accepted);
    const read = await invoke(handler, getJobEvent(jobId));
    for (const response of [accepted, read]) {
      expect(response.body).not.toContain(SEED_PASSWORD);
      expect(jobOf(response).request.LoginSettings?.Password).toBe('[REDACTED]');
    }
    const { Item } = await env.ddb.send(new GetCommand({ TableName: env.tableName, Key: jobKey(jobId) }));
    expect(Item?.request.LoginSettings.Password).toBe(SEED_PASSWORD);
  });

  it('records the IAM role of the userArn as the caller in iam mode', async () => {
    const handler = createApiHandler(api().deps);
    const iamHandler = createApiHandler({ ...api().deps, auth: { mode: 'iam' } });
    const response = await invoke(
      iamHandler,
      jsonRunEvent(seedExample(1), { bearer: null, iam: iamIdentity() }),
    );
    expect(jobOf(response).requestedBy).toBe(ALICE_ROLE);
    const byToken = await invoke(handler, getJobEvent(jobOf(response).jobId));
    expect(byToken.statusCode).toBe(404);
  });

  it('answers a generic 500 (retrying cannot help), logs why, and enqueues nothing when the table is missing', async () => {
    const { deps, logs } = emulatorApi(env, { tableName: 'no-such-table' });
    const response = await invoke(createApiHandler(deps), jsonRunEvent(seedExample(2)));
    expect(response.statusCode).toBe(500);
    expect(response.headers['retry-after']).toBeUndefined();
    expect(problemOf(response).code).toBe('InternalError');
    expect(logs.text()).toContain('ResourceNotFoundException');
    expect(await drainQueue(env.sqs, env.submitQueueUrl)).toEqual([]);
  });

  it('answers 400 and enqueues nothing for an invalid request', async () => {
    const response = await invoke(
      createApiHandler(api().deps),
      jsonRunEvent({ ...seedExample(1), Placement: {} }),
    );
    expect(response.statusCode).toBe(400);
    expect(await drainQueue(env.sqs, env.submitQueueUrl)).toEqual([]);
  });

  it('writes no log line holding the password across accept, read, refusal and a failed send', async () => {
    const own = captureLogs();
    const deps = emulatorApi(env, { logger: own.logger }).deps;
    const handler = createApiHandler(deps);
    const { jobId } = jobOf(await invoke(handler, formRunEvent(seedForm(2), { base64: true })));
    await invoke(handler, getJobEvent(jobId));
    await invoke(handler, getJobEvent(jobId, { bearer: TOKENS.bob.token }));
    await invoke(handler, jsonRunEvent({ ...seedExample(2), ImageId: 'bad' }));
    await invoke(
      createApiHandler({ ...deps, queueUrl: `${env.submitQueueUrl}-missing` }),
      jsonRunEvent(seedExample(3)),
    );
    expect(own.records().map((record) => record.level)).toContain('warn');
    expect(own.text()).not.toContain(SEED_PASSWORD);
    expect(own.text()).not.toContain(encodeURIComponent(SEED_PASSWORD));
  });
});
