import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestFingerprint } from '../../lib/jobs/accept.ts';
import { beginIdempotentRequest, idempotencyRecordKey } from '../../lib/jobs/idempotency.ts';
import { requeueStaleJobs, STALE_QUEUED_MS } from '../../lib/jobs/sweep.ts';
import { silentLogger } from '../../lib/log.ts';
import { validateRunInstances } from '../../lib/run-instances/index.ts';
import { provisionResources } from '../../local/emulators.ts';
import { readStackResources } from '../../local/resources.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { serverlessWithout } from '../helpers/stack-files.ts';
import { waitFor } from '../helpers/wait.ts';

const SEED_PASSWORD = 'Qcloud@TestApi123++';
const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef01';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const seed = (n: number, ext: 'json' | 'form') =>
  readFileSync(new URL(`../../events/seed/example-${n}.${ext}`, import.meta.url), 'utf8');
const IDEMPOTENCY_SECRET = 'local-stack-test-idempotency-secret-0001';
const CONTENT_TYPE = { json: 'application/json', form: 'application/x-www-form-urlencoded' } as const;

let stack: LocalStack;
const logLines: string[] = [];
const bodies: string[] = [];

async function call(
  path: string,
  init: {
    method?: string;
    token?: string | null;
    type?: string;
    body?: string;
    headers?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? ALICE}`;
  if (init.type) headers['content-type'] = init.type;
  const response = await fetch(`${stack.url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  bodies.push(text);
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

const post = (body: string, type: string, extra: Parameters<typeof call>[1] = {}) =>
  call('/v1/run-instances', { body, type, ...extra });

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    simulatorPort: 0,
    dataDir: null,
    env: {
      API_TOKENS: `alice:${sha(ALICE)},bob:${sha(BOB)}`,
      MAX_INSTANCES_PER_JOB: '20',
      IDEMPOTENCY_SECRET,
    },
    logSink: (line) => logLines.push(line),
  });
});
afterAll(() => stack.stop());

describe('the local stack over HTTP', () => {
  it.each([1, 2, 3].flatMap((n) => (['json', 'form'] as const).map((ext) => [n, ext] as const)))(
    'accepts seed example %i as %s with 202, Location and Retry-After',
    async (n, ext) => {
      const response = await post(seed(n, ext), CONTENT_TYPE[ext]);
      expect(response.status).toBe(202);
      const job = response.json();
      expect(response.headers.get('location')).toBe(`/v1/jobs/${job.jobId}`);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(job).toMatchObject({ status: 'QUEUED', region: 'ap-guangzhou', requestedBy: 'alice' });
      const fetched = await call(`/v1/jobs/${job.jobId}`);
      expect(fetched.status).toBe(200);
      expect(fetched.json()).toEqual(job);
    },
  );

  it('answers 400 with every violation for an invalid request', async () => {
    const response = await post(
      JSON.stringify({ Placement: { Zone: 'ap-guangzhou-2' }, ImageId: 'img-1', InstanceCoutn: 1 }),
      'application/json',
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = response.json();
    expect(problem).toMatchObject({ status: 400, code: 'InvalidImageId.Malformed' });
    expect(problem.errors.map((e: { param: string }) => e.param)).toEqual(['ImageId', 'InstanceCoutn']);
  });

  it('answers 401 without a valid token', async () => {
    expect((await post(seed(1, 'json'), 'application/json', { token: null })).status).toBe(401);
    expect(
      (await post(seed(1, 'json'), 'application/json', { token: 'not-a-configured-token-at-all' })).status,
    ).toBe(401);
  });

  it('answers 403 naming the rule when a guardrail refuses the request', async () => {
    const body = JSON.stringify({ ...JSON.parse(seed(3, 'json')), InstanceCount: 21 });
    const response = await post(body, 'application/json');
    expect(response.status).toBe(403);
    expect(response.json()).toMatchObject({ code: 'UnauthorizedOperation.TooManyInstances' });
  });

  it("answers 404 for another caller's job, an unknown job and an unknown route", async () => {
    const job = (await post(seed(1, 'json'), 'application/json')).json();
    expect((await call(`/v1/jobs/${job.jobId}`, { token: BOB })).status).toBe(404);
    expect((await call('/v1/jobs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const unknownRoute = await call('/v1/nothing-here');
    expect(unknownRoute.status).toBe(404);
    expect(unknownRoute.headers.get('content-type')).toBe('application/problem+json');
    expect(unknownRoute.json()).toMatchObject({
      status: 404,
      instance: '/v1/nothing-here',
      code: 'ResourceNotFound',
      errors: [],
    });
  });

  it('answers 413 for a body over 64 KiB and 415 for another media type', async () => {
    const big = JSON.stringify({ ...JSON.parse(seed(1, 'json')), InstanceName: 'x'.repeat(70_000) });
    expect((await post(big, 'application/json')).status).toBe(413);
    expect((await post('<RunInstances/>', 'application/xml')).status).toBe(415);
  });

  it('replays the first response for the same Idempotency-Key and payload, as JSON or as the form', async () => {
    const headers = { 'idempotency-key': '"replay-key-1"' };
    const first = await post(seed(2, 'json'), 'application/json', { headers });
    const again = await post(seed(2, 'json'), 'application/json', { headers });
    const asForm = await post(seed(2, 'form'), CONTENT_TYPE.form, { headers });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.json().jobId).toBe(first.json().jobId);
    expect(asForm.json().jobId).toBe(first.json().jobId);
  });

  it('answers 422 for the same Idempotency-Key with another payload', async () => {
    const headers = { 'idempotency-key': 'reuse-key-2' };
    expect((await post(seed(2, 'json'), 'application/json', { headers })).status).toBe(202);
    expect((await post(seed(3, 'json'), 'application/json', { headers })).status).toBe(422);
  });

  it('keeps Idempotency-Keys per caller', async () => {
    const headers = { 'idempotency-key': 'shared-key-3' };
    const alice = (await post(seed(1, 'json'), 'application/json', { headers })).json();
    const bob = (await post(seed(1, 'json'), 'application/json', { headers, token: BOB })).json();
    expect(bob.jobId).not.toBe(alice.jobId);
  });

  it('answers 409 while the first request with the key is still in flight', async () => {
    const validation = validateRunInstances(JSON.parse(seed(1, 'json')), { profile: 'seed-2017' });
    if (!validation.ok) throw new Error('seed example 1 must validate');
    const fingerprint = requestFingerprint(
      validation.request,
      validation.region,
      { webhookUrl: null, metadata: {}, minCount: null },
      IDEMPOTENCY_SECRET,
    );
    await beginIdempotentRequest(
      stack.deps,
      idempotencyRecordKey('alice', 'in-flight-key'),
      fingerprint,
      'in-flight-job',
    );
    const response = await post(seed(1, 'json'), 'application/json', {
      headers: { 'idempotency-key': 'in-flight-key' },
    });
    expect(response.status).toBe(409);
    expect(response.headers.get('retry-after')).not.toBeNull();
  });

  it('never shows the login password in a response or a log line', async () => {
    const job = (await post(seed(2, 'json'), 'application/json')).json();
    expect(job.request.LoginSettings.Password).toBe('[REDACTED]');
    await call(`/v1/jobs/${job.jobId}`);
    await post(seed(2, 'form'), CONTENT_TYPE.form);
    expect(logLines.length).toBeGreaterThan(0);
    for (const text of [...bodies, ...logLines]) expect(text).not.toContain(SEED_PASSWORD);
  });
});

describe('when a dependency fails', () => {
  let broken: LocalStack;
  beforeAll(async () => {
    broken = await startLocalStack({
      // No submitter: the queue keeps the sweep's message for the test to read (a running submitter could
      // take it first once the queue exists again).
      serverlessYml: serverlessWithout('submit'),
      port: 0,
      simulatorPort: 0,
      dataDir: null,
      env: { API_TOKENS: `alice:${sha(ALICE)}` },
      logSink: () => {},
    });
  });
  afterAll(() => broken.stop());

  const send = (path: string, body?: string) =>
    fetch(`${broken.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    });

  it('still answers 202 when the queue send fails, and the sweep enqueues the job later', async () => {
    const queueUrl = broken.queueUrls.SubmitQueue as string;
    await broken.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    const response = await send('/v1/run-instances', seed(1, 'json'));
    expect(response.status).toBe(202);
    const { jobId } = (await response.json()) as { jobId: string };

    await provisionResources(broken.clients, readStackResources('local'));
    const later = { ...broken.deps, logger: silentLogger, now: () => Date.now() + STALE_QUEUED_MS + 60_000 };
    expect(await requeueStaleJobs(later)).toBe(1);
    const { Messages } = await broken.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect((Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}').jobId)).toEqual([jobId]);
  });

  it('answers 503 with Retry-After when the job store is unreachable, and 500 (generic) for a failed read', async () => {
    await broken.emulators.stopDynamodb();
    const post503 = await send('/v1/run-instances', seed(1, 'json'));
    expect(post503.status).toBe(503);
    expect(post503.headers.get('retry-after')).not.toBeNull();
    const get500 = await send('/v1/jobs/00000000-0000-4000-8000-000000000000');
    expect(get500.status).toBe(500);
    const problem = (await get500.json()) as { detail: string };
    expect(problem.detail).not.toMatch(/ResourceNotFound|table|stack|at /i);
  });
});

describe('restarting the local stack', () => {
  it('sends the messages of jobs left QUEUED by the previous run again, and the submitter submits them', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cvmp-restart-'));
    try {
      const env = { API_TOKENS: `alice:${sha(ALICE)}` };
      // The first run has no submitter, so the job is still QUEUED when it stops.
      const first = await startLocalStack({
        serverlessYml: serverlessWithout('submit'),
        port: 0,
        simulatorPort: 0,
        dataDir,
        env,
        logSink: () => {},
      });
      const response = await fetch(`${first.url}/v1/run-instances`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' },
        body: seed(1, 'json'),
      });
      const { jobId } = (await response.json()) as { jobId: string };
      await first.stop();
      const second = await startLocalStack({ port: 0, simulatorPort: 0, dataDir, env, logSink: () => {} });
      try {
        expect(second.requeued).toBe(1);
        const job = await waitFor('the requeued job to be submitted', async () => {
          const answer = await fetch(`${second.url}/v1/jobs/${jobId}`, {
            headers: { authorization: `Bearer ${ALICE}` },
          });
          const view = (await answer.json()) as { status: string; instances: unknown[] };
          return view.status === 'SUBMITTED' ? view : undefined;
        });
        expect(job.instances).toHaveLength(1);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
