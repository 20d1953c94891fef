import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_TAG_KEY } from '../../lib/jobs/model.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { type AdminInstance, addFault, simInstances } from '../helpers/simulator.ts';
import { serverlessVariant } from '../helpers/stack-files.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * The submitter through the local runtime (serverless.yml's submit, deadLetter and poll functions in their
 * own containers, SQS and DynamoDB emulated, the simulator with its default visibility delays): requests made
 * over HTTP end as instances, exactly once.
 */
const ALICE = 'alice-token-0123456789abcdef';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const REQUEST = {
  Placement: { Zone: 'ap-guangzhou-3' },
  ImageId: 'img-pmqg1cw7',
  InstanceType: 'S5.MEDIUM4',
  InstanceCount: 2,
};

let stack: LocalStack;
beforeAll(async () => {
  // Shorter than deployed, so a crash and a dead letter play out in seconds: the submit function times out
  // after 10 s (its claims last 15 s) and its queue hides a message for 16 s, longer than a claim, as deployed;
  // two receives lead to the dead-letter queue.
  const file = serverlessVariant((sls) => {
    (sls.functions.submit as { timeout: number }).timeout = 10;
    const queue = sls.resources.Resources.SubmitQueue?.Properties as Record<string, unknown>;
    queue.VisibilityTimeout = 16;
    (queue.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount = 2;
  });
  stack = await startLocalStack({
    serverlessYml: file,
    port: 0,
    simulatorPort: 0,
    dataDir: null,
    env: { API_TOKENS: `alice:${sha(ALICE)}` },
    logSink: () => {},
  });
});
afterAll(() => stack.stop());

async function post(body: unknown): Promise<string> {
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
  attempts: number;
  instances: Array<{ instanceId: string }>;
  error: { code: string; message: string } | null;
}

async function view(jobId: string): Promise<View> {
  const response = await fetch(`${stack.url}/v1/jobs/${jobId}`, {
    headers: { authorization: `Bearer ${ALICE}` },
  });
  return (await response.json()) as View;
}

const until = (jobId: string, status: string, timeoutMs = 30_000) =>
  waitFor(
    `job ${jobId} to be ${status}`,
    async () => {
      const job = await view(jobId);
      return job.status === status ? job : undefined;
    },
    timeoutMs,
    200,
  );

async function instancesOf(jobId: string): Promise<AdminInstance[]> {
  const simulator = stack.simulator;
  if (!simulator) throw new Error('the stack runs no simulator');
  return (await simInstances(simulator)).filter((i) =>
    i.Tags.some((t) => t.Key === JOB_TAG_KEY && t.Value === jobId),
  );
}

const ids = (list: Array<{ instanceId?: string; InstanceId?: string }>) =>
  list.map((i) => i.instanceId ?? i.InstanceId).sort();

describe('the submitter through the local runtime', () => {
  it('submits jobs made over HTTP: each ends SUBMITTED with exactly its instances', async () => {
    const jobs = await Promise.all([post(REQUEST), post(REQUEST), post({ ...REQUEST, InstanceCount: 1 })]);
    for (const [i, jobId] of jobs.entries()) {
      // (How many attempts it took depends on the machine's load: the variant's submit function has 10 s.)
      const job = await until(jobId, 'SUBMITTED');
      expect(job.instances).toHaveLength(i === 2 ? 1 : 2);
      expect(ids(job.instances)).toEqual(ids(await instancesOf(jobId)));
    }
  });

  it('a submitter killed after RunInstances did the work and before its write: the job ends with exactly its instances', async () => {
    const simulator = stack.simulator;
    if (!simulator) throw new Error('the stack runs no simulator');
    // The call takes effect and its answer never comes: the process is killed while it waits.
    await addFault(simulator, { action: 'RunInstances', mode: 'timeout', when: 'after', count: 1 });
    const jobId = await post(REQUEST);
    await waitFor('the instances to exist', async () => (await instancesOf(jobId)).length === 2, 15_000);
    await stack.runtime.functions.get('submit')?.crash();
    const job = await until(jobId, 'SUBMITTED', 45_000);
    expect(job.attempts).toBe(2);
    expect(ids(job.instances)).toEqual(ids(await instancesOf(jobId)));
    expect(await instancesOf(jobId)).toHaveLength(2);
  });

  it('a job Tencent always throttles: backed off, dead-lettered, FAILED with SubmitRetriesExhausted', async () => {
    const simulator = stack.simulator;
    if (!simulator) throw new Error('the stack runs no simulator');
    await addFault(simulator, { action: 'RunInstances', mode: 'RequestLimitExceeded', rate: 1 });
    try {
      const jobId = await post(REQUEST);
      const job = await until(jobId, 'FAILED', 30_000);
      expect(job.error).toMatchObject({
        code: 'SubmitRetriesExhausted',
        message: expect.stringContaining('the last: RequestLimitExceeded'),
      });
      expect(job.attempts).toBe(2);
      expect(await instancesOf(jobId)).toEqual([]);
    } finally {
      await fetch(`${simulator.url}/_sim/faults`, { method: 'DELETE' });
    }
  });
});
