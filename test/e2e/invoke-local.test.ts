import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { documentClient } from '../../lib/deps/aws.ts';
import { createJob, getJob, type StoreDeps } from '../../lib/jobs/store.ts';
import { signedEvent } from '../../local/chat-events.ts';
import { localClients } from '../../local/emulators.ts';
import { readFunctions } from '../../local/functions.ts';
import type { LocalStackSettings } from '../../local/main.ts';
import { jobIn } from '../helpers/jobs.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * `npm run invoke` (bin/invoke.ts): every function of serverless.yml run once by `serverless invoke local`
 * (osls, bundled by serverless-esbuild) with an event of events/, against a running `npm start`. The stack's
 * own poll never ticks here (POLL_INTERVAL_MS of an hour), and the API's messages go to a queue no function
 * consumes: what happens to the job is the invoked functions' doing. One invoke takes 3–8 s here, bundling
 * included, so all five are run.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The assumed role of events/api's IAM authorizer context. */
const CALLER = 'arn:aws:iam::123456789012:role/platform-ci';
/** One invoke's bound: osls starting, bundling and the function itself. */
const INVOKE_TIMEOUT_MS = 90_000;

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
const dataDir = tempDir('cvmp-invoke-data-');
/** HOME for the child processes: osls keeps its cache there. */
const home = tempDir('cvmp-invoke-home-');
const eventsDir = tempDir('cvmp-invoke-events-');

let stack: ChildProcess;
let settings: LocalStackSettings;
let clients: ReturnType<typeof localClients>;
let store: StoreDeps;
/** A queue nothing consumes, given to the API as SUBMIT_QUEUE_URL: its messages wait for the test. */
let heldQueue: { url: string; arn: string };

const readEvent = <T>(path: string): T => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as T;

interface Invoked {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run invoke -- <fn> <event> …` (through npm, as a user types it, or the script itself). */
function invoke(fn: string, event: string | object, extra: string[] = [], via: 'npm' | 'node' = 'node') {
  let file = event;
  if (typeof event !== 'string') {
    file = join(eventsDir, `${randomUUID()}.json`);
    writeFileSync(file, JSON.stringify(event));
  }
  const args = [fn, String(file), ...extra];
  const [command, argv] =
    via === 'npm'
      ? ['npm', ['run', '--silent', 'invoke', '--', ...args]]
      : [process.execPath, ['bin/invoke.ts', ...args]];
  return new Promise<Invoked>((resolve) => {
    execFile(
      command as string,
      argv as string[],
      {
        cwd: ROOT,
        // Nothing of the developer's shell (a WEBHOOK_SECRET, say) between the stack and the invoke.
        env: { PATH: process.env.PATH ?? '', HOME: home, DATA_DIR: dataDir },
        timeout: INVOKE_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The function's answer: osls prints it last, indented, after the handler's one-line log records. */
function answerOf<T>(run: Invoked): T {
  const lines = run.stdout.split('\n');
  const start = lines.lastIndexOf('{');
  if (start === -1) throw new Error(`no answer in the output:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(lines.slice(start).join('\n')) as T;
}

/** The deadLetter function, whatever serverless.yml calls it (it was `dead-letter`). */
const deadLetterName = () => {
  const spec = readFunctions(join(ROOT, 'serverless.yml')).functions.find(
    (fn) => fn.file === 'handlers/dead-letter.ts',
  );
  if (!spec) throw new Error('serverless.yml has no function for handlers/dead-letter.ts');
  return spec.name;
};

/** An SQS event of events/sqs with its one record replaced by `record`'s fields. */
function sqsEvent(file: string, record: Partial<SQSEvent['Records'][number]>): SQSEvent {
  const template = readEvent<SQSEvent>(file);
  const [first] = template.Records;
  if (!first) throw new Error(`${file} has no record`);
  return { Records: [{ ...first, ...record }] };
}

beforeAll(async () => {
  stack = spawn(process.execPath, ['local/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      SIMULATOR_PORT: '0',
      DATA_DIR: dataDir,
      POLL_INTERVAL_MS: '3600000',
      // Instances boot at once and show at once, so one poll run sees the job's instance RUNNING.
      SIM_BOOT_MS: '0',
      SIM_VISIBILITY_DELAY_MS: '0',
      SIM_TAG_DELAY_MS: '0',
      SIM_VISIBILITY_JITTER_MS: '0',
    },
    stdio: 'ignore',
  });
  const file = join(dataDir, 'stack.json');
  await waitFor('the stack', () => existsSync(file), 30_000);
  settings = JSON.parse(readFileSync(file, 'utf8')) as LocalStackSettings;
  clients = localClients(settings);
  store = { ddb: documentClient(clients.dynamodb), tableName: settings.tableName, now: systemClock };
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: 'invoke-local-held' }));
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  heldQueue = { url: QueueUrl ?? '', arn: Attributes?.QueueArn ?? '' };
}, 40_000);

afterAll(async () => {
  clients?.dynamodb.destroy();
  clients?.sqs.destroy();
  if (stack.exitCode === null) {
    const exited = new Promise((resolve) => stack.once('exit', resolve));
    stack.kill('SIGTERM');
    await exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('serverless invoke local against the local stack (npm run invoke)', () => {
  let jobId = '';

  it(
    'runs the api function with events/api/post-run-instances-json.json: 202, the job stored',
    async () => {
      const run = await invoke(
        'api',
        'events/api/post-run-instances-json.json',
        ['-e', `SUBMIT_QUEUE_URL=${heldQueue.url}`],
        'npm',
      );
      expect(run.code, run.stderr).toBe(0);
      const answer = answerOf<Extract<APIGatewayProxyResultV2, object>>(run);
      expect(answer.statusCode).toBe(202);
      jobId = (JSON.parse(answer.body ?? '{}') as { jobId: string }).jobId;
      expect(await getJob(store, jobId)).toMatchObject({ status: 'QUEUED', requestedBy: CALLER });
    },
    INVOKE_TIMEOUT_MS,
  );

  it(
    'runs the submit function with an SQS event of that job’s message: submitted to the simulator',
    async () => {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: heldQueue.url,
          MessageSystemAttributeNames: ['All'],
          WaitTimeSeconds: 1,
        }),
      );
      const [message] = Messages;
      expect(JSON.parse(message?.Body ?? '{}')).toEqual({ jobId });
      const event = sqsEvent('events/sqs/submit.json', {
        messageId: message?.MessageId ?? '',
        receiptHandle: message?.ReceiptHandle ?? '',
        body: message?.Body ?? '',
        md5OfBody: message?.MD5OfBody ?? '',
        eventSourceARN: heldQueue.arn,
      });
      const run = await invoke('submit', event, ['-e', `SUBMIT_QUEUE_URL=${heldQueue.url}`]);
      expect(run.code, run.stderr).toBe(0);
      expect(answerOf<SQSBatchResponse>(run)).toEqual({ batchItemFailures: [] });
      const job = await getJob(store, jobId);
      expect(job?.status).toBe('SUBMITTED');
      const simulated = (await (await fetch(`${settings.tencentEndpoint}/_sim/instances`)).json()) as {
        Instances: Array<{ InstanceId: string }>;
      };
      const ids = job?.instances.map((instance) => instance.instanceId) ?? [];
      expect(ids).toHaveLength(1);
      expect(simulated.Instances.map((instance) => instance.InstanceId)).toEqual(expect.arrayContaining(ids));
    },
    INVOKE_TIMEOUT_MS,
  );

  it(
    'runs the poll function with events/schedule/poll.json: the job SUCCEEDED, its events at the sink',
    async () => {
      const run = await invoke('poll', 'events/schedule/poll.json');
      expect(run.code, run.stderr).toBe(0);
      expect(answerOf<{ ran: boolean }>(run)).toMatchObject({ ran: true });
      expect((await getJob(store, jobId))?.status).toBe('SUCCEEDED');
      const sink = (await (await fetch(`${settings.url}/_local/webhooks?jobId=${jobId}`)).json()) as {
        webhooks: Array<{ type: string; verified: boolean }>;
      };
      // Verified: the function signed with the stack's WEBHOOK_SECRET, which the script passed through.
      expect(sink.webhooks.map(({ type, verified }) => ({ type, verified }))).toEqual([
        { type: 'job.submitted', verified: true },
        { type: 'job.succeeded', verified: true },
      ]);
    },
    INVOKE_TIMEOUT_MS,
  );

  it(
    'runs the dead-letter function with events/sqs/dead-letter.json: a QUEUED job FAILED',
    async () => {
      const queued = jobIn('QUEUED', { jobId: randomUUID(), createdAt: new Date().toISOString() });
      await createJob(store, queued);
      const event = sqsEvent('events/sqs/dead-letter.json', {
        body: JSON.stringify({ jobId: queued.jobId }),
      });
      const run = await invoke(deadLetterName(), event);
      expect(run.code, run.stderr).toBe(0);
      expect(answerOf<SQSBatchResponse>(run)).toEqual({ batchItemFailures: [] });
      expect(await getJob(store, queued.jobId)).toMatchObject({
        status: 'FAILED',
        error: { code: 'SubmitRetriesExhausted' },
      });
    },
    INVOKE_TIMEOUT_MS,
  );

  it(
    'runs the chatops function with a Slack run command signed with the stack’s secret: 200',
    async () => {
      const template = readEvent<{ body: string }>('events/chat/slack-run.json');
      const fields = Object.fromEntries(new URLSearchParams(Buffer.from(template.body, 'base64').toString()));
      // Follow-ups to the stack's chat sink, not to Slack.
      fields.response_url = `${settings.url}/_local/chat/invoke-local`;
      const secret = readFileSync(join(dataDir, 'slack-signing-secret'), 'utf8').trim();
      const event = signedEvent('slack', fields, Math.floor(Date.now() / 1000), {
        slack: secret,
        mattermost: '',
      });
      const run = await invoke('chatops', event, ['-e', `SUBMIT_QUEUE_URL=${heldQueue.url}`]);
      expect(run.code, run.stderr).toBe(0);
      const answer = answerOf<Extract<APIGatewayProxyResultV2, object>>(run);
      expect(answer.statusCode).toBe(200);
      expect(JSON.parse(answer.body ?? '{}')).toMatchObject({
        response_type: 'ephemeral',
        text: expect.stringMatching(/[0-9a-f]{8}-[0-9a-f]{4}-/),
      });
    },
    INVOKE_TIMEOUT_MS,
  );

  it('says in one line that no stack is running when the data directory has none', async () => {
    const run = await new Promise<Invoked>((resolve) =>
      execFile(
        process.execPath,
        ['bin/invoke.ts', 'api', 'events/api/get-job.json'],
        { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATA_DIR: tempDir('cvmp-invoke-none-') } },
        (error, stdout, stderr) =>
          resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr }),
      ),
    );
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(
      /^npm run invoke: no local stack is running with its data in .*: start one/,
    );
  });
});
