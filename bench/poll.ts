/**
 * Poller and notifier benchmark (issue 11), printing figures only. In one process: the DynamoDB emulator with
 * serverless.yml's table, the CVM simulator (DescribeInstances at its real limit of 40/s) and our Tencent client.
 * 1,000 SUBMITTED jobs of 10 instances each are spread over 3 regions (10,000 in-flight instances). Printed,
 * counts first:
 *   - DescribeInstances calls per poll run (goal: exactly Σ over regions of ceil(ids / 100));
 *   - DynamoDB calls per run by kind (Query only for reading; never a Scan);
 *   - each run's wall time against the same Describe calls made alone, at the same pace (goal <= 1.5x): a run
 *     with every instance PENDING (reads only), then one with every instance RUNNING (1,000 jobs SUCCEEDED);
 *   - webhook deliveries per second to a loopback sink against a bare undici POST loop to the same sink at the
 *     same concurrency (goal >= 0.5x).
 *   npm run bench:poll
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { Agent, request } from 'undici';
import { documentClient } from '../lib/deps.ts';
import { claimForSubmission, recordSubmission } from '../lib/jobs/lifecycle.ts';
import { newJob } from '../lib/jobs/model.ts';
import { DEFAULT_WEBHOOK_TARGET } from '../lib/jobs/outbox.ts';
import { createJob, getJob } from '../lib/jobs/store.ts';
import { silentLogger } from '../lib/log.ts';
import { attemptDelivery } from '../lib/notify/deliver.ts';
import { deliverDueEvents, type NotifyDeps } from '../lib/notify/notifier.ts';
import { createSigners, webhookBody, webhookHeaders } from '../lib/notify/payload.ts';
import { createGuardedDispatcher } from '../lib/notify/ssrf.ts';
import { DESCRIBE_MAX_IDS, type PollDeps, pollSubmittedJobs } from '../lib/poll/poll-jobs.ts';
import { createPacer } from '../lib/submit/pacer.ts';
import { createTencentClient } from '../lib/tencent/client.ts';
import { staticCredentials } from '../lib/tencent/credentials.ts';
import {
  DEFAULT_SIM_SECRET_ID,
  DEFAULT_SIM_SECRET_KEY,
  startSimulator,
} from '../local/cvm-simulator/index.ts';
import { localClients, provisionResources, startEmulators } from '../local/emulators.ts';
import { readStackResources } from '../local/resources.ts';

const JOBS = 1000;
const PER_JOB = 10;
const ZONES = ['ap-guangzhou-3', 'ap-shanghai-2', 'ap-beijing-3'] as const;
const DESCRIBE_RATE = 20; // the default DESCRIBE_RATE_PER_SECOND
const CONCURRENCY = 16; // the default WEBHOOK_CONCURRENCY
const BOOT_MS = 60_000;

const emulators = await startEmulators();
const clients = localClients(emulators);
const { tableName } = await provisionResources(clients, readStackResources('bench'));
const counts = new Map<string, number>();
const base = documentClient(clients.dynamodb);
const ddb = {
  send: ((command: { constructor: { name: string } }) => {
    const kind = command.constructor.name.replace(/Command$/, '');
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    return base.send(command as never);
  }) as typeof base.send,
};
/** Real time, moved ahead by hand to boot the instances at once. */
let offset = 0;
const now = () => Date.now() + offset;
const sim = await startSimulator({
  port: 0,
  bootMs: BOOT_MS,
  settleMs: 0,
  visibilityDelayMs: 0,
  tagDelayMs: 0,
  visibilityJitterMs: 0,
  quota: 100_000,
  rateLimits: { RunInstances: 10_000, DescribeInstances: 40 },
  now,
});
const tencent = createTencentClient({
  endpoint: sim.url,
  signMethod: 'TC3-HMAC-SHA256',
  credentials: staticCredentials(DEFAULT_SIM_SECRET_ID, DEFAULT_SIM_SECRET_KEY),
  now: Date.now,
});

// 1,000 SUBMITTED jobs, their instances PENDING at the simulator.
const perRegion = new Map<string, number>();
let firstJobId = '';
const store = { ddb: base, tableName, now };
for (let i = 0; i < JOBS; i += 50) {
  await Promise.all(
    Array.from({ length: Math.min(50, JOBS - i) }, async (_, k) => {
      const zone = ZONES[(i + k) % ZONES.length] as string;
      const region = zone.replace(/-\d+$/, '');
      const request = {
        Placement: { Zone: zone },
        ImageId: 'img-pmqg1cw7',
        InstanceType: 'S5.MEDIUM4',
        InstanceCount: PER_JOB,
      };
      const job = newJob({
        jobId: randomUUID(),
        region,
        request,
        requestedBy: 'bench',
        metadata: {},
        webhookUrl: null,
        createdAt: new Date(now()).toISOString(),
      });
      await createJob(store, job);
      firstJobId ||= job.jobId;
      const claimed = await claimForSubmission({ ...store, eventTargets: [DEFAULT_WEBHOOK_TARGET] }, job);
      const { InstanceIdSet } = await tencent.call('RunInstances', request, { region });
      await recordSubmission({ ...store, eventTargets: [DEFAULT_WEBHOOK_TARGET] }, claimed, {
        instanceIds: InstanceIdSet as string[],
        requestId: null,
      });
      perRegion.set(region, (perRegion.get(region) ?? 0) + PER_JOB);
    }),
  );
}
const expectedCalls = [...perRegion.values()].reduce((sum, n) => sum + Math.ceil(n / DESCRIBE_MAX_IDS), 0);

/** The pacing lib/deps.ts gives a single TENCENTCLOUD_ENDPOINT: one pacer whatever the region. */
function onePacer(): PollDeps['describePacer'] {
  const pacer = createPacer({ ratePerSecond: DESCRIBE_RATE });
  return () => pacer;
}

const pollDeps: PollDeps = {
  ddb,
  tableName,
  now,
  eventTargets: [DEFAULT_WEBHOOK_TARGET],
  tencent,
  logger: silentLogger,
  describePacer: onePacer(),
  terminatePacer: onePacer(),
  jobTimeoutMs: 3_600_000,
  visibilityGraceMs: 60_000,
};

/** The same calls the poller makes, alone: ids packed a hundred to a call per region, each region paced alike. */
async function describeAlone(): Promise<number> {
  const byRegion = new Map<string, string[]>();
  for (const [id, instance] of sim.state.instances) {
    const list = byRegion.get(instance.region);
    if (list) list.push(id);
    else byRegion.set(instance.region, [id]);
  }
  const started = performance.now();
  // One pacer for every region: the simulator is one host, one rate-limit bucket (as lib/deps.ts paces it).
  const pacer = createPacer({ ratePerSecond: DESCRIBE_RATE });
  await Promise.all(
    [...byRegion].map(async ([region, ids]) => {
      const chunks: string[][] = [];
      for (let i = 0; i < ids.length; i += DESCRIBE_MAX_IDS) chunks.push(ids.slice(i, i + DESCRIBE_MAX_IDS));
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < chunks.length) {
            const chunk = chunks[next++] as string[];
            await pacer.take();
            await tencent.call(
              'DescribeInstances',
              { InstanceIds: chunk, Limit: DESCRIBE_MAX_IDS },
              { region },
            );
          }
        }),
      );
    }),
  );
  return (performance.now() - started) / 1000;
}

async function pollRun(label: string): Promise<void> {
  counts.clear();
  // A fresh pacer per run, as in a fresh container.
  pollDeps.describePacer = onePacer();
  const started = performance.now();
  const summary = await pollSubmittedJobs(pollDeps, { remainingMs: () => 600_000 });
  const wall = (performance.now() - started) / 1000;
  const alone = await describeAlone();
  const kinds = [...counts].map(([kind, n]) => `${kind} ${n}`).join(', ');
  console.log(`\n${label}`);
  console.log(
    `  DescribeInstances calls: ${summary.describeCalls} (Σ ceil(n/100) over ${perRegion.size} regions = ${expectedCalls}; failures ${summary.describeFailures}; goal: exactly Σ ceil(n/100))`,
  );
  console.log(`  DynamoDB calls:          ${kinds} (Scan: ${counts.get('Scan') ?? 0})`);
  console.log(
    `  jobs: ${summary.jobs} read, ${summary.succeeded} SUCCEEDED, ${summary.progressed} progressed, ${summary.deferred} deferred, ${summary.conflicts} conflicts`,
  );
  console.log(
    `  wall ${wall.toFixed(2)} s vs the same Describe calls alone ${alone.toFixed(2)} s = ${(wall / alone).toFixed(2)}x (goal <= 1.5x)`,
  );
}

console.log(
  `node ${process.version}; ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; ${new Date().toISOString()}`,
);
console.log(
  `${JOBS} SUBMITTED jobs x ${PER_JOB} instances = ${JOBS * PER_JOB} in flight over ${perRegion.size} regions; Describe paced at ${DESCRIBE_RATE}/s to the one simulator host (Tencent allows 40)`,
);
await pollRun('poll run 1: every instance PENDING (nothing to write)');
offset += BOOT_MS;
await pollRun('poll run 2: every instance RUNNING (every job SUCCEEDED)');

// Webhooks: job.submitted and job.succeeded of every job are now due to the default target.
const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(204).end());
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hooks`;
const dispatcher = createGuardedDispatcher({ allowPrivate: true });
const signers = createSigners([`whsec_${Buffer.alloc(32, 5).toString('base64')}`]);
const notifyDeps: NotifyDeps = {
  ddb,
  tableName,
  now,
  logger: silentLogger,
  dispatcher,
  signers,
  targetUrls: { [DEFAULT_WEBHOOK_TARGET]: sinkUrl },
  allowPrivate: true,
  timeoutMs: 10_000,
  concurrency: CONCURRENCY,
  retrySchedule: [5000],
  chatFollowUps: { slackApiUrl: 'https://slack.com/api' },
};
const perTarget = Math.ceil(CONCURRENCY / 2);
counts.clear();
let delivered = 0;
let runs = 0;
const started = performance.now();
for (;;) {
  const summary = await deliverDueEvents(notifyDeps, { remainingMs: () => 600_000 });
  delivered += summary.delivered;
  if (summary.attempts === 0) break;
  runs++;
}
const notifierSeconds = (performance.now() - started) / 1000;
const notifierCalls = [...counts].map(([kind, n]) => `${kind} ${n}`).join(', ');

/** `total` tasks, `width` at a time; seconds taken. */
async function loop(total: number, width: number, task: () => Promise<void>): Promise<number> {
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next++ < total) await task();
    }),
  );
  return (performance.now() - began) / 1000;
}

// The delivery path alone (a real event's body and headers, signed per attempt, through the guarded
// dispatcher, classified), and the bare loop: plain undici POSTs of a body of the same size; both at the
// bound the notifier gives one target (half of WEBHOOK_CONCURRENCY).
const one = await getJob(store, firstJobId);
if (!one) throw new Error('no job to take a body from');
const event = Object.values(one.events)[0];
if (!event) throw new Error('the job has no event');
const body = webhookBody(one, event);
const viaPath = async () => {
  const outcome = await attemptDelivery(
    { dispatcher, now: Date.now },
    {
      url: sinkUrl,
      headers: webhookHeaders(signers, event.id, Date.now(), body),
      body,
      timeoutMs: 10_000,
      allowPrivate: true,
    },
  );
  if (outcome.kind !== 'delivered') throw new Error(`the sink answered ${JSON.stringify(outcome)}`);
};
const bare = new Agent();
const viaBare = async () => {
  const response = await request(sinkUrl, {
    method: 'POST',
    dispatcher: bare,
    body,
    headers: { 'content-type': 'application/json' },
  });
  await response.body.dump();
};
// Both warmed up alike, then measured in alternating rounds; the median round of each counts.
await loop(1000, perTarget, viaPath);
await loop(1000, perTarget, viaBare);
const pathRounds: number[] = [];
const bareRounds: number[] = [];
for (let round = 0; round < 3; round++) {
  pathRounds.push(await loop(delivered, perTarget, viaPath));
  bareRounds.push(await loop(delivered, perTarget, viaBare));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[1] as number;
const pathSeconds = median(pathRounds);
const bareSeconds = median(bareRounds);
const rate = (seconds: number) => delivered / seconds;
console.log(
  `\nwebhook deliveries to a loopback sink (${body.length}-byte bodies, ${perTarget} at once to one target)`,
);
console.log(
  `  notifier, end to end:  ${delivered} delivered in ${runs} runs, ${notifierSeconds.toFixed(2)} s = ${rate(notifierSeconds).toFixed(0)}/s; DynamoDB ${notifierCalls} (one write per job per run)`,
);
console.log(
  `  delivery path alone:   ${rate(pathSeconds).toFixed(0)}/s (sign, guarded dispatcher, classify)`,
);
console.log(`  bare undici POST loop: ${rate(bareSeconds).toFixed(0)}/s`);
console.log(
  `  delivery path / bare = ${(bareSeconds / pathSeconds).toFixed(2)}x (goal >= 0.5x; median of 3 alternating rounds after a warm-up); end to end / bare = ${(bareSeconds / notifierSeconds).toFixed(2)}x (the in-process DynamoDB emulator's writes included)`,
);

await dispatcher.close();
await bare.close();
await new Promise<void>((resolve) => sink.close(() => resolve()));
await tencent.close();
await sim.close();
clients.dynamodb.destroy();
clients.sqs.destroy();
await emulators.stop();
