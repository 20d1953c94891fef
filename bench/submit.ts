/**
 * Submitter benchmark (issue 10), printing figures only. The local stack runs serverless.yml's functions in
 * their containers (the local runtime), with SQS and DynamoDB emulated and the CVM simulator at its real limit
 * of 10 RunInstances per second. 300 jobs are stored QUEUED, then their 300 messages are sent at once; the
 * clock runs until every job is SUBMITTED (or FAILED). Printed, counts first:
 *   - Tencent calls per job by action (goal: 1 RunInstances per job on the happy path);
 *   - DynamoDB calls per job by kind, counted by a proxy in front of the emulator the functions call;
 *   - attempts, failed jobs (goal 0), jobs with extra instances (goal 0) or missing ones;
 *   - wall time against the rate-limit floor of 300 / 10 = 30 s (goal <= 1.15x).
 * Then the same with 20% of RunInstances answers lost after the instances were created (dropAfterCommit and
 * http502 after commit, 10% each): extra instances must stay 0.
 *   npm run bench:submit
 */
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { JOB_TAG_KEY, type Job, newJob } from '../lib/jobs/model.ts';
import { createJob, getJob, listPendingJobs } from '../lib/jobs/store.ts';
import { checkSubmission } from '../lib/jobs/submission.ts';
import { startLocalStack } from '../local/stack.ts';

const JOBS = Number(process.env.BENCH_JOBS || 300);
/** Jobs drained first, unmeasured, so the containers are warm, as they are on Lambda under steady load. */
const WARM_UP_JOBS = 20;
const RUN_INSTANCES_PER_SECOND = 10;

/** A proxy that counts the AWS JSON-protocol calls passing through it by their X-Amz-Target. */
async function countingProxy() {
  let resolveTarget: (url: URL) => void = () => {};
  const target = new Promise<URL>((resolve) => {
    resolveTarget = resolve;
  });
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const kind =
      String(req.headers['x-amz-target'] ?? 'unknown')
        .split('.')
        .pop() ?? 'unknown';
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    void target.then((url) => {
      const upstream = httpRequest(
        { host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    setTarget: (url: string) => resolveTarget(new URL(url)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const ddbProxy = await countingProxy();
const stack = await startLocalStack({
  port: 0,
  simulatorPort: 0,
  dataDir: null,
  env: { LOG_LEVEL: 'error' },
  logSink: () => {},
  functionEnv: { AWS_ENDPOINT_URL_DYNAMODB: ddbProxy.url, LOG_LEVEL: 'error' },
});
ddbProxy.setTarget(stack.emulators.dynamodbEndpoint);
const simulator = stack.simulator;
if (!simulator) throw new Error('the local stack started no simulator');

const { request, region } = checkSubmission(
  { profile: 'current', policy: {}, now: Date.now() },
  { request: { Placement: { Zone: 'ap-guangzhou-3' }, ImageId: 'img-pmqg1cw7', InstanceType: 'S5.MEDIUM4' } },
);

const snapshot = (map: ReadonlyMap<string, number>) => new Map(map);
const delta = (after: ReadonlyMap<string, number>, before: ReadonlyMap<string, number>) =>
  [...after].map(([kind, n]) => [kind, n - (before.get(kind) ?? 0)] as const).filter(([, n]) => n > 0);
const perJob = (n: number) => (n / JOBS).toFixed(2);

async function run(label: string, faults: Array<Record<string, unknown>>, count = JOBS): Promise<void> {
  await fetch(`${simulator?.url}/_sim/faults`, { method: 'DELETE' });
  const jobs: Job[] = [];
  for (let i = 0; i < count; i++) {
    const job = newJob({
      jobId: randomUUID(),
      region,
      request,
      requestedBy: 'bench',
      metadata: {},
      webhookUrl: null,
      createdAt: new Date().toISOString(),
    });
    await createJob(stack.deps, job);
    jobs.push(job);
  }
  for (const fault of faults) {
    await fetch(`${simulator?.url}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fault),
    });
  }
  const tencentBefore = snapshot(simulator?.calls ?? new Map());
  const ddbBefore = snapshot(ddbProxy.counts);
  const start = performance.now();
  for (let i = 0; i < jobs.length; i += 10) {
    await stack.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.queueUrls.SubmitQueue,
        Entries: jobs
          .slice(i, i + 10)
          .map((job, j) => ({ Id: String(j), MessageBody: JSON.stringify({ jobId: job.jobId }) })),
      }),
    );
  }
  for (;;) {
    const [queued, submitting] = await Promise.all([
      listPendingJobs(stack.deps, 'QUEUED', { limit: 1 }),
      listPendingJobs(stack.deps, 'SUBMITTING', { limit: 1 }),
    ]);
    if (queued.length === 0 && submitting.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const wall = (performance.now() - start) / 1000;
  if (label === 'warm-up')
    return void console.log(`\nwarm-up: ${count} jobs in ${wall.toFixed(1)} s (not measured)`);
  const tencent = delta(simulator?.calls ?? new Map(), tencentBefore);
  const ddb = delta(ddbProxy.counts, ddbBefore);

  const stored = await Promise.all(jobs.map((job) => getJob(stack.deps, job.jobId)));
  const instances = (await (await fetch(`${simulator?.url}/_sim/instances`)).json()) as {
    Instances: Array<{ Tags: Array<{ Key: string; Value: string }> }>;
  };
  const byJob = new Map<string, number>();
  for (const instance of instances.Instances) {
    const tag = instance.Tags.find((t) => t.Key === JOB_TAG_KEY);
    if (tag) byJob.set(tag.Value, (byJob.get(tag.Value) ?? 0) + 1);
  }
  const failed = stored.filter((job) => job?.status === 'FAILED').length;
  // Submitted by the end: SUBMITTED, or already moved on by the poller (it runs beside the submitters).
  const submitted = stored.filter(
    (job) => job && job.status !== 'FAILED' && job.status !== 'QUEUED' && job.status !== 'SUBMITTING',
  );
  const attempts = stored.reduce((sum, job) => sum + (job?.attempts ?? 0), 0);
  const extra = jobs.filter((job) => (byJob.get(job.jobId) ?? 0) > 1).length;
  const missing = submitted.filter((job) => job && (byJob.get(job.jobId) ?? 0) < 1).length;
  const recordedWrong = submitted.filter(
    (job) => job && job.instances.length !== (byJob.get(job.jobId) ?? 0),
  ).length;
  const floor = JOBS / RUN_INSTANCES_PER_SECOND;

  console.log(`\n${label}: ${JOBS} jobs of 1 instance each`);
  console.log(
    `  Tencent calls per job:  ${tencent.map(([k, n]) => `${k} ${perJob(n)}`).join(', ')} (goal: RunInstances 1.00 on the happy path)`,
  );
  console.log(
    `  DynamoDB calls per job: ${ddb.map(([k, n]) => `${k} ${perJob(n)}`).join(', ')} (total ${perJob(ddb.reduce((s, [, n]) => s + n, 0))}; Query is the sweep's, every POLL_INTERVAL_MS)`,
  );
  console.log(`  attempts per job:       ${perJob(attempts)}`);
  console.log(`  submitted ${submitted.length} of ${count}, FAILED ${failed} (goal 0)`);
  console.log(
    `  jobs with extra instances: ${extra} (goal 0); with none: ${missing}; recorded ≠ created: ${recordedWrong}`,
  );
  console.log(
    `  wall ${wall.toFixed(1)} s against the floor of ${floor.toFixed(0)} s (${JOBS} / ${RUN_INSTANCES_PER_SECOND} per s): ${(wall / floor).toFixed(2)}x (${faults.length ? "the time goal is the happy path's; here: extra instances 0" : 'goal <= 1.15x'})`,
  );
}

console.log(`node ${process.version}; ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);
console.log(
  `submit: batches of 10, 2 at once, paced to SUBMIT_RATE_PER_SECOND ${process.env.SUBMIT_RATE_PER_SECOND || 9} per region; simulator limits on, visibility delays on`,
);
try {
  await run('warm-up', [], WARM_UP_JOBS);
  await run('happy path', []);
  await run('20% of answers lost after commit', [
    { action: 'RunInstances', mode: 'dropAfterCommit', rate: 0.1 },
    { action: 'RunInstances', mode: 'http502', when: 'after', rate: 0.1 / 0.9 },
  ]);
} finally {
  await stack.stop();
  await ddbProxy.close();
}
