/**
 * The fault-injection run over the whole pipeline (test/e2e/chaos.test.ts, and `npm run chaos -- --jobs N` at
 * scale): the local stack with its functions in their containers, the simulator injecting every fault it has,
 * and clients of every kind, then the invariants of docs/job-lifecycle.md checked against the simulator's own
 * inventory, the table, the queues and what a webhook receiver of our own got.
 *
 * What the run does to the stack, besides its clients' traffic:
 *   - RunInstances: InternalError, http502 (before and after the action), timeout (before and after),
 *     RequestLimitExceeded and dropAfterCommit at rates, and one of each at set moments so that every mode
 *     strikes; DescribeInstances and TerminateInstances fail too; the rate limits are on; some launches fail.
 *   - The simulator's ClientToken mode changes every few seconds: honoured, expiring (a short memory), ignored.
 *   - The submit function is killed while a RunInstances it sent has done its work and its answer is held.
 *   - Some jobs' submit messages are sent again (a duplicate delivery), at once and a little later.
 *   - The poll function has no reserved concurrency and is invoked besides its schedule, two at once.
 *   - The webhook receiver is down (connection refused), then answers 503, then recovers.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Webhook } from 'standardwebhooks';
import { JOB_TAG_KEY, type Job, type JobStatus, TERMINAL_STATUSES } from '../../lib/jobs/model.ts';
import { fromItem, listJobsWithEventsDue, listPendingJobs } from '../../lib/jobs/store.ts';
import { enqueueSubmit, parseSubmitMessage } from '../../lib/queue/producer.ts';
import { slackSignature } from '../../local/chat-events.ts';
import type { ClientTokenMode } from '../../local/cvm-simulator/state.ts';
import { scheduledEvent } from '../../local/runtime/schedule-source.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { commandFields, formBody, SLACK_SECRET } from './chat.ts';
import { TOKENS } from './events.ts';
import { TEST_WEBHOOK_SECRET } from './poll.ts';
import { type AdminInstance, simInstances } from './simulator.ts';
import { serverlessVariant } from './stack-files.ts';

export interface ChaosOptions {
  /** Jobs the clients ask for (each kind's share below). */
  jobs: number;
  /** Seeds the choice of kinds, counts and moments (printed, so a failing run can be repeated). */
  seed?: number;
  /** How long to wait, after the last request, for every job to end and every event to be delivered. */
  settleTimeoutMs?: number;
  /** Where the stack's and the functions' log lines go (nowhere by default). */
  logSink?: (line: string) => void;
  /** LOG_LEVEL of the functions and the stack. */
  logLevel?: string;
  /** Progress lines (the CLI prints them). */
  progress?: (line: string) => void;
}

/** What a client asked for, and what it was answered. */
export type JobKind =
  | 'json'
  | 'form'
  | 'idempotency-key'
  | 'chat'
  | 'cancel'
  | 'min-count'
  | 'launch-fail'
  | 'duplicate-message';

const KIND_WEIGHTS: ReadonlyArray<readonly [JobKind, number]> = [
  ['json', 22],
  ['form', 14],
  ['idempotency-key', 14],
  ['chat', 12],
  ['cancel', 10],
  ['min-count', 14],
  ['launch-fail', 4],
  ['duplicate-message', 10],
];

interface Asked {
  kind: JobKind;
  count: number;
  minCount: number | null;
  /** Drawn up front from the seed, so that a seed fixes the whole mix whatever the timing. */
  ownClientToken: boolean;
  /** A pause the kind uses (the third Idempotency-Key request, the cancel, the second duplicate), in ms. */
  pauseMs: number;
  /** Chat: whether Slack's retry is sent too. */
  slackRetry: boolean;
  /** The job id every answer named (more than one: a violation). */
  jobIds: Set<string>;
  /** Answers that were neither the documented success nor a documented "retry later". */
  unexpected: string[];
  cancelled: boolean | null;
}

export interface Invariant {
  name: string;
  /** How many things were checked. */
  checked: number;
  violations: string[];
}

export interface ChaosReport {
  seed: number;
  wallSeconds: number;
  /** Jobs by kind, as asked. */
  kinds: Record<string, number>;
  /** Jobs by final status. */
  statuses: Record<string, number>;
  /** Faults that struck (the simulator's count) and the calls its rate limit refused. */
  struck: Record<string, number>;
  /** API calls the simulator answered, by action. */
  calls: Record<string, number>;
  /** RunInstances calls made under each ClientToken mode. */
  runInstancesByTokenMode: Record<ClientTokenMode, number>;
  /** Submit containers killed while their RunInstances was done and its answer held. */
  crashes: number;
  duplicateMessages: number;
  /** The most poll invocations seen running at once. */
  maxConcurrentPolls: number;
  extraPollInvocations: number;
  /** What the webhook receiver saw: attempts refused while down (from the jobs' delivery records), 503s, 2xx. */
  receiver: { refusedWhileDown: number; answered5xx: number; answered2xx: number };
  /** Jobs whose messages reached the dead-letter queue (its function was handed them). */
  deadLettered: number;
  instances: number;
  invariants: Invariant[];
}

/** mulberry32: a small seeded generator, so a run's choices can be repeated from its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** The suite's own test secrets, which its log capture knows to look for (test/e2e/setup.ts). */
const TOKEN = TOKENS.alice.token;
const BASE = { zone: 'ap-guangzhou-3', image: 'img-pmqg1cw7', type: 'S5.MEDIUM4' } as const;
const TOKEN_MODES: readonly ClientTokenMode[] = ['honoured', 'expiring', 'ignored'];
/** How long each ClientToken mode lasts before the next. */
const TOKEN_MODE_MS = 2500;
/** The receiver refuses connections this long from the first request, then answers 503 as long again. */
const RECEIVER_DOWN_MS = 6000;
const RECEIVER_5XX_MS = 6000;

/** Faults at rates for the whole run (docs/simulator.md, "Fault injection"). */
const RATE_FAULTS: ReadonlyArray<Record<string, unknown>> = [
  { action: 'RunInstances', mode: 'InternalError', rate: 0.04 },
  { action: 'RunInstances', mode: 'http502', rate: 0.03 },
  { action: 'RunInstances', mode: 'http502', when: 'after', rate: 0.03 },
  { action: 'RunInstances', mode: 'timeout', rate: 0.015 },
  { action: 'RunInstances', mode: 'timeout', when: 'after', rate: 0.015 },
  { action: 'RunInstances', mode: 'RequestLimitExceeded', rate: 0.04 },
  { action: 'RunInstances', mode: 'dropAfterCommit', rate: 0.04 },
  { action: 'DescribeInstances', mode: 'InternalError', rate: 0.03 },
  { action: 'DescribeInstances', mode: 'http502', rate: 0.03 },
  { action: 'DescribeInstances', mode: 'RequestLimitExceeded', rate: 0.03 },
  { action: 'DescribeInstances', mode: 'timeout', rate: 0.005 },
  { action: 'TerminateInstances', mode: 'InternalError', rate: 0.05 },
  { action: 'TerminateInstances', mode: 'http502', when: 'after', rate: 0.05 },
  { action: 'TerminateInstances', mode: 'RequestLimitExceeded', rate: 0.05 },
];

/** One of each RunInstances fault, added one by one while the clients run, so that every mode strikes. */
const ONE_OF_EACH: ReadonlyArray<Record<string, unknown>> = [
  { action: 'RunInstances', mode: 'InternalError', count: 1 },
  { action: 'RunInstances', mode: 'http502', count: 1 },
  { action: 'RunInstances', mode: 'http502', when: 'after', count: 1 },
  { action: 'RunInstances', mode: 'timeout', count: 1 },
  { action: 'RunInstances', mode: 'RequestLimitExceeded', count: 1 },
  { action: 'RunInstances', mode: 'dropAfterCommit', count: 1 },
  { action: 'RunInstances', mode: 'InternalError', when: 'after', count: 1 },
];

/** A webhook receiver that can be down (its port closed), answer 503, or accept; it keeps what arrived. */
interface Arrival {
  webhookId: string;
  type: string | null;
  jobId: string | null;
  verified: boolean;
  status: number;
}

async function startReceiver(secret: string) {
  const verifier = new Webhook(secret);
  const arrivals: Arrival[] = [];
  let mode: 'down' | '5xx' | 'up' = 'up';
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      };
      let verified = false;
      try {
        verifier.verify(raw, headers);
        verified = true;
      } catch {
        // kept as unverified
      }
      let body: { type?: unknown; data?: { jobId?: unknown } } = {};
      try {
        body = JSON.parse(raw);
      } catch {
        // kept without a type
      }
      const status = mode === '5xx' ? 503 : 204;
      arrivals.push({
        webhookId: headers['webhook-id'],
        type: typeof body.type === 'string' ? body.type : null,
        jobId: typeof body.data?.jobId === 'string' ? body.data.jobId : null,
        verified,
        status,
      });
      res.writeHead(status).end();
    });
  };
  let server: Server = createServer(handle);
  let ended = false;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    arrivals,
    async set(next: 'down' | '5xx' | 'up') {
      // Once closed for good, a phase still pending opens nothing.
      if (next === mode || ended) return;
      if (next === 'down') await close();
      if (mode === 'down') {
        server = createServer(handle);
        await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      }
      mode = next;
    },
    close: () => {
      ended = true;
      return mode === 'down' ? Promise.resolve() : close();
    },
  };
}

/** A small semaphore for the clients' requests in flight. */
function limit(concurrency: number) {
  let running = 0;
  const queue: Array<() => void> = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}

const JOB_ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = seeded(seed);
  const progress = options.progress ?? (() => {});
  const receiver = await startReceiver(TEST_WEBHOOK_SECRET);
  // Shorter than deployed, so that a lost answer, a crash and a dead letter play out in seconds: the submit
  // function has 12 s (its RunInstances waits at most 7 s of it), its queue hides a message for 20 s and moves it
  // to the dead-letter queue after 2 receives; the poll function has no reserved concurrency, so runs overlap
  // (its timeout stays: a run keeps 20 s of it for the notifier).
  const file = serverlessVariant((sls) => {
    (sls.functions.submit as { timeout: number }).timeout = 12;
    (sls.functions.deadLetter as { timeout: number }).timeout = 15;
    delete (sls.functions.poll as { reservedConcurrency?: number }).reservedConcurrency;
    const queue = sls.resources.Resources.SubmitQueue?.Properties as Record<string, unknown>;
    queue.VisibilityTimeout = 20;
    (queue.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount = 2;
    const dlq = sls.resources.Resources.SubmitDeadLetterQueue?.Properties as Record<string, unknown>;
    dlq.VisibilityTimeout = 20;
  });
  const stack: LocalStack = await startLocalStack({
    serverlessYml: file,
    port: 0,
    simulatorPort: 0,
    dataDir: null,
    env: {
      API_TOKENS: `alice:${sha(TOKEN)}`,
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_ALLOWED_USERS: '*',
      DEFAULT_WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      WEBHOOK_RETRY_SCHEDULE: '1s,2s,3s,5s,5s,5s,5s,5s,10s,10s,10s',
      POLL_INTERVAL_MS: '500',
      JOB_TIMEOUT_SECONDS: '180',
      SIM_BOOT_MS: '1000',
      SIM_SETTLE_MS: '500',
      SIM_LAUNCH_FAIL_RATE: '0.08',
      SIM_CLIENT_TOKEN_TTL_MS: '4000',
      // An account whose quota the run does not exhaust (2000 jobs hold about 4000 instances at the end).
      SIM_QUOTA: '50000',
      LOG_LEVEL: options.logLevel ?? 'info',
    },
    logSink: options.logSink ?? (() => {}),
  });
  const simulator = stack.simulator;
  if (!simulator) throw new Error('the local stack started no simulator');
  const started = performance.now();
  const asked: Asked[] = [];
  let crashes = 0;
  let duplicateMessages = 0;
  let extraPollInvocations = 0;
  let maxConcurrentPolls = 0;
  const background: Array<Promise<unknown>> = [];
  const deadLettered = new Set<string>();
  /** Every interval the run starts, cleared however it ends. */
  const timers: NodeJS.Timeout[] = [];
  let running = true;
  try {
    for (const fault of RATE_FAULTS) simulator.faults.add(fault as never);
    // The jobs whose messages reached the dead-letter queue: its function consumes them as they come, so they are
    // read off the batches it is handed.
    const deadLetter = stack.runtime.functions.get('deadLetter');
    if (!deadLetter) throw new Error('serverless.yml has no deadLetter function');
    const invokeDeadLetter = deadLetter.invoke.bind(deadLetter);
    deadLetter.invoke = (event: unknown) => {
      for (const record of (event as { Records?: Array<{ body: string }> }).Records ?? [])
        deadLettered.add(parseSubmitMessage(record.body)?.jobId ?? `(not a submit message: ${record.body})`);
      return invokeDeadLetter(event);
    };

    // The ClientToken mode changes every TOKEN_MODE_MS; RunInstances calls are counted under each.
    const byMode: Record<ClientTokenMode, number> = { honoured: 0, expiring: 0, ignored: 0 };
    let modeIndex = 0;
    let runCalls = 0;
    const closeMode = () => {
      const now = simulator.calls.get('RunInstances') ?? 0;
      byMode[simulator.state.settings.clientTokens] += now - runCalls;
      runCalls = now;
    };
    simulator.state.settings.clientTokens = 'honoured';
    const modeTimer = setInterval(() => {
      closeMode();
      modeIndex = (modeIndex + 1) % TOKEN_MODES.length;
      simulator.state.settings.clientTokens = TOKEN_MODES[modeIndex] ?? 'honoured';
    }, TOKEN_MODE_MS);
    timers.push(modeTimer);

    // Poll runs: two more at once every 2 s besides the schedule; how many run at once is sampled.
    const poll = stack.runtime.functions.get('poll');
    if (!poll) throw new Error('serverless.yml has no poll function');
    const sampler = setInterval(() => {
      maxConcurrentPolls = Math.max(maxConcurrentPolls, poll.inFlight);
    }, 25);
    timers.push(sampler);
    background.push(
      (async () => {
        while (running) {
          await sleep(2000);
          if (!running) break;
          for (let i = 0; i < 2; i++) {
            extraPollInvocations++;
            background.push(poll.invoke(scheduledEvent('chaos-extra-poll')).catch(() => undefined));
          }
        }
      })(),
    );

    // The receiver: down, then 503, then up.
    await receiver.set('down');
    const phases = (async () => {
      await sleep(RECEIVER_DOWN_MS);
      await receiver.set('5xx');
      await sleep(RECEIVER_5XX_MS);
      await receiver.set('up');
    })();
    background.push(phases);

    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${stack.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) },
      });

    /** Sends until the answer is not a documented "retry later" (409 with Retry-After), a few times at most. */
    const send = async (entry: Asked, make: () => Promise<Response>): Promise<string | undefined> => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const response = await make();
        const text = await response.text();
        if (response.status === 202 || response.status === 200) {
          const id = JOB_ID.exec(text)?.[0];
          if (id) {
            entry.jobIds.add(id);
            return id;
          }
        }
        if (response.status === 409 && response.headers.get('retry-after')) {
          await sleep(500);
          continue;
        }
        entry.unexpected.push(`${response.status} ${text.slice(0, 200)}`);
        return undefined;
      }
      entry.unexpected.push('still 409 after 20 tries');
      return undefined;
    };

    const jsonPost =
      (body: unknown, headers: Record<string, string> = {}) =>
      () =>
        api('/v1/run-instances', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        });

    const requestFor = (entry: Asked, i: number) => ({
      Placement: { Zone: BASE.zone },
      ImageId: BASE.image,
      InstanceType: BASE.type,
      InstanceCount: entry.count,
      InstanceName: entry.kind === 'launch-fail' ? `chaos-${i}-sim:launch-fail` : `chaos-${i}`,
      ...(entry.minCount === null ? {} : { minCount: entry.minCount }),
      // Some callers bring a ClientToken of their own.
      ...(entry.ownClientToken ? { ClientToken: `chaos-${seed}-${i}` } : {}),
    });

    const slack = (text: string, triggerId: string, retry: number) => {
      const body = formBody({
        ...commandFields(text, { response_url: stack.chatResponseUrl }),
        trigger_id: triggerId,
      });
      const timestamp = Math.floor(Date.now() / 1000);
      return fetch(`${stack.url}/v1/chatops/slack`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': slackSignature(SLACK_SECRET, timestamp, body),
          ...(retry ? { 'x-slack-retry-num': String(retry), 'x-slack-retry-reason': 'http_timeout' } : {}),
        },
        body,
      });
    };

    const client = async (entry: Asked, i: number): Promise<void> => {
      const request = requestFor(entry, i);
      switch (entry.kind) {
        case 'json':
        case 'launch-fail':
        case 'min-count':
          await send(entry, jsonPost(request));
          return;
        case 'form': {
          const form = new URLSearchParams({ Action: 'RunInstances', Version: '2017-03-12' });
          for (const [key, value] of Object.entries(request)) {
            if (key === 'Placement') form.set('Placement.Zone', BASE.zone);
            else form.set(key, String(value));
          }
          await send(entry, () =>
            api('/v1/run-instances', {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body: form.toString(),
            }),
          );
          return;
        }
        case 'idempotency-key': {
          // Two at once (the second may be told 409, retry later), then a third a little later.
          const key = `chaos-${seed}-${i}-${randomUUID()}`;
          const post = jsonPost(request, { 'idempotency-key': key });
          await Promise.all([send(entry, post), send(entry, post)]);
          await sleep(200 + entry.pauseMs);
          await send(entry, post);
          return;
        }
        case 'chat': {
          const text = `run zone=${BASE.zone} image=${BASE.image} type=${BASE.type} count=${entry.count} name=chat-${i}`;
          const triggerId = `${Date.now()}.${i}.${randomUUID().replace(/-/g, '')}`;
          await send(entry, () => slack(text, triggerId, 0));
          // Slack retries a command it thinks timed out, same body: the same job.
          if (entry.slackRetry) await send(entry, () => slack(text, triggerId, 1));
          return;
        }
        case 'cancel': {
          const jobId = await send(entry, jsonPost(request));
          if (!jobId) return;
          await sleep(entry.pauseMs / 10);
          const response = await api(`/v1/jobs/${jobId}/cancel`, { method: 'POST' });
          const text = await response.text();
          if (response.status === 200) entry.cancelled = true;
          else if (response.status === 409) entry.cancelled = false;
          else entry.unexpected.push(`cancel: ${response.status} ${text.slice(0, 200)}`);
          return;
        }
        case 'duplicate-message': {
          const jobId = await send(entry, jsonPost(request));
          if (!jobId) return;
          await enqueueSubmit(stack.deps, jobId);
          duplicateMessages++;
          await sleep(500 + entry.pauseMs * 2.5);
          await enqueueSubmit(stack.deps, jobId);
          duplicateMessages++;
          return;
        }
      }
    };

    const pick = (): JobKind => {
      const total = KIND_WEIGHTS.reduce((sum, [, w]) => sum + w, 0);
      let r = random() * total;
      for (const [kind, weight] of KIND_WEIGHTS) {
        r -= weight;
        if (r < 0) return kind;
      }
      return 'json';
    };

    // The moments of the crashes and of the one-of-each faults, spread over the clients' time.
    const arrivalMs = 60;
    const window = options.jobs * arrivalMs;
    const crashCount = Math.max(2, Math.floor(options.jobs / 200));
    background.push(
      (async () => {
        for (const fault of ONE_OF_EACH) {
          await sleep(Math.min(1500, window / (ONE_OF_EACH.length + 1)));
          if (!running) return;
          simulator.faults.add(fault as never);
        }
      })(),
    );
    background.push(
      (async () => {
        for (let n = 0; n < crashCount && running; n++) {
          // At 2 s, then evenly over the clients' time, whatever the earlier crashes waited for.
          await sleep(Math.max(0, started + 2000 + (n * window) / crashCount - performance.now()));
          if (!running) return;
          if (await crashAfterCommit(stack, () => running)) crashes++;
        }
      })(),
    );

    const gate = limit(16);
    const clients: Array<Promise<void>> = [];
    for (let i = 0; i < options.jobs; i++) {
      const kind = pick();
      const count = kind === 'min-count' ? 2 + Math.floor(random() * 3) : 1 + Math.floor(random() * 3);
      const entry: Asked = {
        kind,
        count,
        minCount: kind === 'min-count' ? (random() < 0.6 ? count : count - 1) : null,
        ownClientToken: random() < 0.2,
        pauseMs: random() * 1000,
        slackRetry: random() < 0.5,
        jobIds: new Set(),
        unexpected: [],
        cancelled: null,
      };
      asked.push(entry);
      // A client whose request failed outright (a reset connection) is a finding, not a crash of the run.
      clients.push(
        gate(() => client(entry, i)).catch((error: unknown) => {
          entry.unexpected.push(
            `the request failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }),
      );
      await sleep(arrivalMs);
      if (i > 0 && i % 200 === 0) progress(`${i} jobs asked for`);
    }
    await Promise.all(clients);
    progress(
      `all ${options.jobs} jobs asked for after ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );

    // The end: every job terminal, every event delivered or given up, the receiver up.
    const deadline = Date.now() + (options.settleTimeoutMs ?? 180_000);
    await phases;
    for (;;) {
      const [queued, submitting, submitted, due] = await Promise.all([
        listPendingJobs(stack.deps, 'QUEUED', { limit: 1 }),
        listPendingJobs(stack.deps, 'SUBMITTING', { limit: 1 }),
        listPendingJobs(stack.deps, 'SUBMITTED', { limit: 1 }),
        listJobsWithEventsDue(stack.deps, '9999-12-31T00:00:00.000Z', { limit: 1 }),
      ]);
      if (queued.length + submitting.length + submitted.length + due.length === 0) break;
      if (Date.now() > deadline) {
        progress('gave up waiting for the jobs to end');
        break;
      }
      await sleep(1000);
    }
    // Terminated instances are gone two seconds after TerminateInstances.
    await sleep(2500);
    running = false;
    clearInterval(modeTimer);
    clearInterval(sampler);
    closeMode();
    await Promise.allSettled(background);
    // Stop the functions before looking at the queues: nothing consumes them any more.
    await stack.runtime.stop();

    const jobs = await scanJobs(stack);
    const inventory = await simInstances(simulator);
    const leftInDeadLetterQueue = await drain(stack, stack.queueUrls.SubmitDeadLetterQueue ?? '');
    const invariants = checkInvariants({
      asked,
      jobs,
      inventory,
      arrivals: receiver.arrivals,
      deadLettered: [...deadLettered],
      leftInDeadLetterQueue,
    });

    const statuses: Record<string, number> = {};
    for (const job of jobs.values()) statuses[job.status] = (statuses[job.status] ?? 0) + 1;
    const kinds: Record<string, number> = {};
    for (const entry of asked) kinds[entry.kind] = (kinds[entry.kind] ?? 0) + 1;
    const attempts = [...jobs.values()].flatMap((job) =>
      Object.values(job.events).flatMap((event) => event.deliveries.default?.attempts ?? []),
    );
    return {
      seed,
      wallSeconds: (performance.now() - started) / 1000,
      kinds,
      statuses,
      struck: Object.fromEntries(simulator.struck),
      calls: Object.fromEntries(simulator.calls),
      runInstancesByTokenMode: byMode,
      crashes,
      duplicateMessages,
      maxConcurrentPolls,
      extraPollInvocations,
      receiver: {
        refusedWhileDown: attempts.filter((attempt) => attempt.status === undefined).length,
        answered5xx: receiver.arrivals.filter((arrival) => arrival.status >= 500).length,
        answered2xx: receiver.arrivals.filter((arrival) => arrival.status < 300).length,
      },
      deadLettered: deadLettered.size,
      instances: inventory.length,
      invariants,
    };
  } finally {
    running = false;
    for (const timer of timers) clearInterval(timer);
    await Promise.allSettled(background);
    await stack.stop();
    await receiver.close();
  }
}

/**
 * Kills the submit function while one of its RunInstances calls has done its work and its answer is held (a
 * `timeout` fault after the action): the process dies between Tencent's commit and the job's write. False when
 * no RunInstances came within 20 s.
 */
async function crashAfterCommit(stack: LocalStack, running: () => boolean): Promise<boolean> {
  const simulator = stack.simulator;
  const submit = stack.runtime.functions.get('submit');
  if (!simulator || !submit) return false;
  const key = 'RunInstances timeout after';
  const before = simulator.struck.get(key) ?? 0;
  simulator.faults.add({ action: 'RunInstances', mode: 'timeout', when: 'after', count: 1 });
  const until = Date.now() + 20_000;
  while ((simulator.struck.get(key) ?? 0) === before && Date.now() < until && running()) await sleep(20);
  if ((simulator.struck.get(key) ?? 0) === before) {
    // Nothing came: take this fault back (and only it) so that it cannot strike unobserved later.
    const left = simulator.faults.list();
    const mine = left.findIndex((f) => f.mode === 'timeout' && f.when === 'after' && f.count !== undefined);
    simulator.faults.clear();
    for (const [i, fault] of left.entries()) if (i !== mine) simulator.faults.add(fault);
    return false;
  }
  await sleep(200);
  await submit.crash();
  return true;
}

/** Every job item in the table (a Scan: jobs carry byCaller, the other items do not). */
async function scanJobs(stack: LocalStack): Promise<Map<string, Job>> {
  const jobs = new Map<string, Job>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await stack.deps.ddb.send(
      new ScanCommand({
        TableName: stack.tableName,
        FilterExpression: 'attribute_exists(byCaller)',
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const job = fromItem(item);
      jobs.set(job.jobId, job);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return jobs;
}

/** Every message left on a queue (nothing consumes it any more), by the job id it names. */
async function drain(stack: LocalStack, queueUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 600,
      }),
    );
    if (Messages.length === 0) return ids;
    for (const message of Messages) {
      try {
        ids.push(String((JSON.parse(message.Body ?? '{}') as { jobId?: unknown }).jobId));
      } catch {
        ids.push(`(not JSON: ${message.Body?.slice(0, 40)})`);
      }
    }
  }
}

const TERMINAL_EVENT: Record<string, JobStatus> = {
  'job.succeeded': 'SUCCEEDED',
  'job.partially_failed': 'PARTIALLY_FAILED',
  'job.failed': 'FAILED',
  'job.timed_out': 'TIMED_OUT',
  'job.cancelled': 'CANCELLED',
};
/** A failed launch the simulator has reclaimed: gone, its RunInstances operation FAILED. */
const reclaimedFailure = (instance: AdminInstance) =>
  instance.InstanceState === 'GONE' && instance.LatestOperationState === 'FAILED';

/** States in which an instance still runs (or will): anything but failed, terminating or gone. */
const ENDED_STATES = new Set(['LAUNCH_FAILED', 'TERMINATING', 'GONE']);

function checkInvariants(run: {
  asked: readonly Asked[];
  jobs: ReadonlyMap<string, Job>;
  inventory: readonly AdminInstance[];
  arrivals: readonly Arrival[];
  deadLettered: readonly string[];
  leftInDeadLetterQueue: readonly string[];
}): Invariant[] {
  const { asked, jobs, inventory, arrivals } = run;
  const invariant = (name: string, checked: number, violations: string[]): Invariant => ({
    name,
    checked,
    violations,
  });
  const accepted = new Set(asked.flatMap((entry) => [...entry.jobIds]));
  const tagOf = (instance: AdminInstance) => instance.Tags.find((tag) => tag.Key === JOB_TAG_KEY)?.Value;
  const byTag = new Map<string, AdminInstance[]>();
  const byToken = new Map<string, AdminInstance[]>();
  // A failed launch Tencent reclaimed is no server: a job whose lost answer hid one may launch again.
  for (const instance of inventory.filter((i) => !reclaimedFailure(i))) {
    const tag = tagOf(instance);
    if (tag) byTag.set(tag, [...(byTag.get(tag) ?? []), instance]);
    const token = instance.ClientToken ?? '(none)';
    byToken.set(token, [...(byToken.get(token) ?? []), instance]);
  }
  const jobByToken = new Map([...jobs.values()].map((job) => [job.clientToken, job]));
  const countOf = (job: Job) => Number(job.request.InstanceCount ?? 1);

  const answered = invariant(
    'every request answered as documented (202/200, or 409 with Retry-After and then that)',
    asked.length,
    asked.flatMap((entry) => entry.unexpected.map((answer) => `${entry.kind}: ${answer}`)),
  );
  const onePerRequest = invariant(
    'one job per request: Idempotency-Key retries and Slack retries name the same job',
    asked.length,
    asked
      .filter((entry) => entry.jobIds.size > 1)
      .map((entry) => `${entry.kind}: answered ${[...entry.jobIds].join(', ')}`),
  );
  const lost = invariant(
    'no job lost: every accepted job is in the table, and the table holds no other',
    accepted.size,
    [
      ...[...accepted]
        .filter((id) => !jobs.has(id))
        .map((id) => `${id} was accepted and is not in the table`),
      ...[...jobs.keys()]
        .filter((id) => !accepted.has(id))
        .map((id) => `${id} is in the table, never accepted`),
    ],
  );
  const terminal = invariant(
    'every job terminal',
    jobs.size,
    [...jobs.values()]
      .filter((job) => !TERMINAL_STATUSES.has(job.status))
      .map((job) => `${job.jobId} is ${job.status} (attempts ${job.attempts})`),
  );
  const notMore = invariant(
    'no job has more instances than it asked for (the simulator’s inventory by tag; reclaimed failed launches aside)',
    jobs.size,
    [...jobs.values()]
      .filter((job) => (byTag.get(job.jobId)?.length ?? 0) > countOf(job))
      .map(
        (job) =>
          `${job.jobId} asked for ${countOf(job)}, has ${byTag.get(job.jobId)?.length}: ${(byTag.get(job.jobId) ?? []).map((i) => `${i.InstanceId} created ${i.CreatedTime} ${i.InstanceState}`).join(', ')}`,
      ),
  );
  const byClientToken = invariant(
    'no ClientToken has more instances than its job asked for, and every token is a job’s',
    byToken.size,
    [...byToken].flatMap(([token, instances]) => {
      const job = jobByToken.get(token);
      if (!job) return [`${instances.length} instances with ClientToken ${token}, which no job has`];
      return instances.length > countOf(job)
        ? [`ClientToken ${token} (job ${job.jobId}) has ${instances.length}, asked ${countOf(job)}`]
        : [];
    }),
  );
  const owned = invariant(
    'every instance is tagged with a job, and the job recorded it (created = recorded)',
    inventory.length,
    [
      ...inventory
        .filter((instance) => !jobs.has(tagOf(instance) ?? ''))
        .map((instance) => `${instance.InstanceId} (tag ${tagOf(instance) ?? 'none'}) belongs to no job`),
      ...[...jobs.values()].flatMap((job) => {
        const created = inventory.filter((i) => tagOf(i) === job.jobId);
        const recorded = new Set(job.instances.map((i) => i.instanceId));
        const unknown = [...recorded].filter((id) => !created.some((i) => i.InstanceId === id));
        // Failed launches the simulator reclaimed before the job's lookup by tag could see them (a lost answer,
        // then a late retry) are the only instances a job may not have recorded; they then count as failed.
        const unrecorded = created.filter((i) => !recorded.has(i.InstanceId));
        const unexplained = unrecorded.filter((i) => !reclaimedFailure(i));
        const problems: string[] = [];
        if (unknown.length) problems.push(`${job.jobId} recorded [${unknown}], which were never created`);
        if (unexplained.length)
          problems.push(
            `${job.jobId} (${job.status}) did not record ${unexplained.map((i) => `${i.InstanceId} ${i.InstanceState}`)}`,
          );
        const running = job.instances.filter((i) => i.state === 'RUNNING').length;
        if (job.status === 'SUCCEEDED' && running !== countOf(job))
          problems.push(`${job.jobId} SUCCEEDED with ${running} RUNNING of ${countOf(job)} asked for`);
        return problems;
      }),
    ],
  );
  const mustBeGone = [...jobs.values()].filter(
    (job) => job.status === 'CANCELLED' || job.error?.code === 'MinCountNotMet',
  );
  const nothingLeft = invariant(
    'nothing left running for a cancelled job or a job whose minCount was not met',
    mustBeGone.length,
    mustBeGone.flatMap((job) =>
      (byTag.get(job.jobId) ?? [])
        .filter((instance) => !ENDED_STATES.has(instance.InstanceState))
        .map(
          (instance) => `${job.jobId} (${job.status}): ${instance.InstanceId} is ${instance.InstanceState}`,
        ),
    ),
  );
  const minCountMet = invariant(
    'a job with minCount that succeeded has at least minCount instances RUNNING',
    [...jobs.values()].filter((job) => job.minCount !== null).length,
    [...jobs.values()]
      .filter(
        (job) => job.minCount !== null && (job.status === 'SUCCEEDED' || job.status === 'PARTIALLY_FAILED'),
      )
      .filter((job) => job.instances.filter((i) => i.state === 'RUNNING').length < (job.minCount ?? 0))
      .map((job) => `${job.jobId} ${job.status} with minCount ${job.minCount}`),
  );
  const cancelAnswered = invariant(
    'a cancel answered 200 ends CANCELLED; one answered 409 does not',
    asked.filter((entry) => entry.cancelled !== null).length,
    asked
      .filter((entry) => entry.cancelled !== null)
      .flatMap((entry) =>
        [...entry.jobIds].flatMap((id) => {
          const status = jobs.get(id)?.status;
          return (status === 'CANCELLED') === entry.cancelled
            ? []
            : [`${id}: cancel answered ${entry.cancelled ? 200 : 409}, the job is ${status}`];
        }),
      ),
  );

  const arrivalsByEvent = new Map<string, Arrival[]>();
  for (const arrival of arrivals)
    arrivalsByEvent.set(arrival.webhookId, [...(arrivalsByEvent.get(arrival.webhookId) ?? []), arrival]);
  const delivered = invariant(
    'every terminal event reached the receiver, signed, and every event under one webhook-id',
    jobs.size,
    [...jobs.values()].flatMap((job) => {
      const events = Object.values(job.events);
      const terminalEvents = events.filter((event) => TERMINAL_EVENT[event.type]);
      const problems: string[] = [];
      if (terminalEvents.length !== 1 || TERMINAL_EVENT[terminalEvents[0]?.type ?? ''] !== job.status)
        problems.push(
          `${job.jobId} (${job.status}) has terminal events ${terminalEvents.map((e) => e.type)}`,
        );
      for (const event of events) {
        const got = arrivalsByEvent.get(event.id) ?? [];
        const state = event.deliveries.default?.state;
        if (got.some((arrival) => arrival.type !== event.type || arrival.jobId !== job.jobId))
          problems.push(`${event.id} arrived carrying another event`);
        if (TERMINAL_EVENT[event.type] || state === 'DELIVERED') {
          if (!got.some((arrival) => arrival.verified && arrival.status < 300))
            problems.push(`${event.id} (${event.type}) never reached the receiver (delivery ${state})`);
        }
        if (state !== 'DELIVERED') problems.push(`${event.id} (${event.type}): delivery ${state}`);
      }
      const ids = new Map<string, Set<string>>();
      for (const arrival of arrivals.filter((a) => a.jobId === job.jobId)) {
        const key = arrival.type ?? '?';
        ids.set(key, new Set([...(ids.get(key) ?? []), arrival.webhookId]));
      }
      for (const [type, set] of ids)
        if (set.size > 1) problems.push(`${job.jobId}: ${type} arrived under ${set.size} webhook-ids`);
      return problems;
    }),
  );
  const unknownArrivals = invariant(
    'every arrival is an event of a job (no webhook-id the outbox does not hold), signed',
    arrivals.length,
    arrivals
      .filter((arrival) => {
        const job = jobs.get(arrival.jobId ?? '');
        return !arrival.verified || !job?.events[arrival.webhookId];
      })
      .map((arrival) => `${arrival.webhookId} (${arrival.type}, verified ${arrival.verified})`),
  );
  const dlq = invariant(
    'nothing left in the dead-letter queue that is not a FAILED job',
    run.leftInDeadLetterQueue.length,
    run.leftInDeadLetterQueue
      .filter((id) => jobs.get(id)?.status !== 'FAILED')
      .map((id) => `${id} is in the DLQ and ${jobs.get(id)?.status ?? 'not a job'}`),
  );
  // The dead-letter function records the instances it finds (the poller then ends the job), else FAILS it.
  const settled = invariant(
    'every dead-lettered job ended FAILED with nothing running, or recorded the instances it created',
    run.deadLettered.length,
    run.deadLettered.flatMap((id) => {
      const job = jobs.get(id);
      if (!job) return [`${id} reached the DLQ and is not a job`];
      const live = byTag.get(id) ?? [];
      if (job.instances.length > 0 || (job.status === 'FAILED' && live.length === 0)) return [];
      return [
        `${id} reached the DLQ and ended ${job.status}, recording none of its ${live.length} instances`,
      ];
    }),
  );
  return [
    answered,
    onePerRequest,
    lost,
    terminal,
    notMore,
    byClientToken,
    owned,
    nothingLeft,
    minCountMet,
    cancelAnswered,
    delivered,
    unknownArrivals,
    settled,
    dlq,
  ];
}

/** The report as the CLI prints it: the invariants as a table, then what was done to the stack. */
export function formatReport(report: ChaosReport): string {
  const rows = report.invariants.map((inv) => [
    inv.violations.length === 0 ? 'ok' : 'FAILED',
    String(inv.checked),
    String(inv.violations.length),
    inv.name,
  ]);
  const header = ['', 'checked', 'violations', 'invariant'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 3 ? cell : cell.padStart(widths[i] ?? 0))).join('  ');
  const out = [line(header), ...rows.map(line)];
  for (const inv of report.invariants.filter((i) => i.violations.length)) {
    out.push('', `${inv.name}:`, ...inv.violations.slice(0, 20).map((v) => `  - ${v}`));
    if (inv.violations.length > 20) out.push(`  … and ${inv.violations.length - 20} more`);
  }
  const list = (record: Record<string, number>) =>
    Object.entries(record)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  out.push(
    '',
    `seed ${report.seed}; ${Object.values(report.kinds).reduce((a, b) => a + b, 0)} jobs in ${report.wallSeconds.toFixed(0)} s`,
    `asked: ${list(report.kinds)}`,
    `ended: ${list(report.statuses)}`,
    `Tencent calls: ${list(report.calls)}`,
    `faults struck: ${list(report.struck)}`,
    `RunInstances by ClientToken mode: ${list(report.runInstancesByTokenMode)}`,
    `submit killed after a commit: ${report.crashes}; duplicate submit messages: ${report.duplicateMessages}; jobs dead-lettered: ${report.deadLettered}`,
    `poll: ${report.extraPollInvocations} extra invocations, at most ${report.maxConcurrentPolls} at once`,
    `receiver: ${report.receiver.refusedWhileDown} attempts refused while down, ${report.receiver.answered5xx} answered 503, ${report.receiver.answered2xx} accepted`,
    `instances created: ${report.instances}`,
  );
  return out.join('\n');
}
