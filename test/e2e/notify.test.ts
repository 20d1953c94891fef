import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import type { Arrival } from '../../local/webhook-sink.ts';
import { type LoopbackServer, startLoopbackServer } from '../helpers/loopback-server.ts';
import { TEST_WEBHOOK_SECRET } from '../helpers/poll.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * The whole life of a job on the local stack: accepted over HTTP, submitted to the simulator, polled to its
 * end by the scheduled function, and told to a webhook receiver with Standard Webhooks signatures.
 */
const ALICE = 'alice-token-0123456789abcdef';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const SEED_2 = JSON.parse(readFileSync(new URL('../../events/seed/example-2.json', import.meta.url), 'utf8'));

async function post(stack: LocalStack, body: unknown): Promise<string> {
  const response = await fetch(`${stack.url}/v1/run-instances`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { jobId: string }).jobId;
}

interface View {
  status: string;
  instances: Array<{ instanceId: string; state: string; reason?: string }>;
  error: { code: string; message: string } | null;
}

const view = async (stack: LocalStack, jobId: string) =>
  (await (
    await fetch(`${stack.url}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${ALICE}` } })
  ).json()) as View;

const until = (stack: LocalStack, jobId: string, status: string, timeoutMs = 30_000) =>
  waitFor(
    `job ${jobId} to be ${status}`,
    async () => {
      const job = await view(stack, jobId);
      return job.status === status ? job : undefined;
    },
    timeoutMs,
    100,
  );

/** The job view an arrival carried. */
function dataOf(arrival: Arrival | undefined): View {
  const body = arrival?.body as { data?: View } | undefined;
  if (!body?.data) throw new Error('the arrival carries no job');
  return body.data;
}

const simulatorOf = (stack: LocalStack) => {
  if (!stack.simulator) throw new Error('the stack runs no simulator');
  return stack.simulator;
};

describe('the local stack’s own webhook sink', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      simulatorPort: 0,
      dataDir: null,
      env: { API_TOKENS: `alice:${sha(ALICE)}`, POLL_INTERVAL_MS: '500', SIM_BOOT_MS: '1000' },
      logSink: () => {},
    });
  });
  afterAll(() => stack.stop());

  it('shows seed example 2 as job.submitted then job.succeeded, signatures verified, with ids and addresses', async () => {
    const jobId = await post(stack, SEED_2);
    const arrivals = await waitFor(
      'job.succeeded at the sink',
      async () => {
        const response = await fetch(`${stack.url}/_local/webhooks?jobId=${jobId}`);
        const { webhooks } = (await response.json()) as { webhooks: Arrival[] };
        return webhooks.some((arrival) => arrival.type === 'job.succeeded') ? webhooks : undefined;
      },
      30_000,
      200,
    );
    expect(arrivals.map((arrival) => arrival.type)).toEqual(['job.submitted', 'job.succeeded']);
    expect(arrivals.every((arrival) => arrival.verified)).toBe(true);
    const succeeded = dataOf(arrivals[1]);
    const instance = simulatorOf(stack).state.instances.get(succeeded.instances[0]?.instanceId ?? '');
    expect(instance).toBeDefined();
    expect(succeeded).toMatchObject({
      jobId,
      status: 'SUCCEEDED',
      instances: [
        {
          instanceId: instance?.instanceId,
          state: 'RUNNING',
          privateIpAddresses: [instance?.privateIp],
          publicIpAddresses: [instance?.publicIp],
        },
      ],
    });
    expect(JSON.stringify(arrivals)).not.toContain(SEED_2.LoginSettings.Password);
  });
});

describe('a receiver of our own', () => {
  let stack: LocalStack;
  let receiver: LoopbackServer;
  /** How many more times each webhook-id is refused with a 503. */
  const refusals = new Map<string, number>();
  beforeAll(async () => {
    receiver = await startLoopbackServer((request, res) => {
      const id = String(request.headers['webhook-id']);
      const left = refusals.get(id) ?? 0;
      refusals.set(id, left - 1);
      res.writeHead(left > 0 ? 503 : 204).end();
    });
    stack = await startLocalStack({
      port: 0,
      simulatorPort: 0,
      dataDir: null,
      env: {
        API_TOKENS: `alice:${sha(ALICE)}`,
        POLL_INTERVAL_MS: '500',
        // Long enough to change an instance after the job is SUBMITTED, well inside the job's timeout.
        SIM_BOOT_MS: '2500',
        SIM_SETTLE_MS: '500',
        DEFAULT_WEBHOOK_URL: `${receiver.url}/hooks`,
        WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
        WEBHOOK_RETRY_SCHEDULE: '1s,1s,1s,1s,1s',
        JOB_TIMEOUT_SECONDS: '8',
      },
      logSink: () => {},
    });
  });
  afterAll(async () => {
    await stack.stop();
    await receiver.close();
  });

  const arrivalsOf = (id: string) =>
    receiver.received.filter((request) => request.headers['webhook-id'] === id);

  it('gets an event refused three times delivered on the fourth try, with the same webhook-id, verifiable', async () => {
    const jobId = await post(stack, { ...SEED_2, InstanceName: 'retried' });
    refusals.set(`evt_${jobId}_submitted`, 3);
    const tries = await waitFor(
      'the fourth try',
      async () => {
        const got = arrivalsOf(`evt_${jobId}_submitted`);
        return got.length >= 4 ? got : undefined;
      },
      30_000,
      100,
    );
    expect(tries).toHaveLength(4);
    for (const request of tries) {
      const verified = new Webhook(TEST_WEBHOOK_SECRET).verify(request.body, {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      });
      expect(verified).toMatchObject({ type: 'job.submitted', data: { jobId } });
    }
  });

  it('ends PARTIALLY_FAILED with the reason when one instance fails to launch, and says so once', async () => {
    const jobId = await post(stack, { ...SEED_2, InstanceCount: 2 });
    const submitted = await until(stack, jobId, 'SUBMITTED');
    const failing = simulatorOf(stack).state.instances.get(submitted.instances[0]?.instanceId ?? '');
    if (!failing) throw new Error('the simulator does not have the instance');
    failing.launchFails = true;
    const done = await until(stack, jobId, 'PARTIALLY_FAILED');
    expect(done.instances.map((i) => i.state)).toEqual(['LAUNCH_FAILED', 'RUNNING']);
    expect(done.instances[0]?.reason).toEqual(expect.any(String));
    await waitFor(
      'job.partially_failed',
      async () => arrivalsOf(`evt_${jobId}_partially_failed`).length || undefined,
    );
    expect(arrivalsOf(`evt_${jobId}_partially_failed`)).toHaveLength(1);
  });

  it('times out a slow boot after JOB_TIMEOUT_SECONDS and tells the receiver', async () => {
    const jobId = await post(stack, SEED_2);
    const submitted = await until(stack, jobId, 'SUBMITTED');
    const slow = simulatorOf(stack).state.instances.get(submitted.instances[0]?.instanceId ?? '');
    if (!slow) throw new Error('the simulator does not have the instance');
    slow.readyAt = Number.MAX_SAFE_INTEGER;
    const done = await until(stack, jobId, 'TIMED_OUT', 20_000);
    expect(done.error?.code).toBe('JobTimedOut');
    await waitFor('job.timed_out', async () => arrivalsOf(`evt_${jobId}_timed_out`).length || undefined);
  }, 40_000);
});
