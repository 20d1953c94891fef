import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { commandFields, formBody, slackSignature } from '../helpers/chat.ts';
import { capturedLines, isLogLine, knownSecrets, leaksIn } from '../helpers/log-capture.ts';
import { SEED_PASSWORD } from '../helpers/requests.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * The capture test/e2e/setup.ts puts over the end-to-end suite, on one job's whole life on the local stack
 * (accepted over the API with the seed example's password, a chat command, submitted, polled to SUCCEEDED,
 * its webhooks delivered): it sees every function's lines although this test's own sink drops them, the lines
 * carry what an operator needs, and no secret is among them. Each file of the suite is scanned the same way.
 */
const SLACK_SECRET = 'e2e-log-capture-slack-secret-0123456789';
const SEED_2 = readFileSync(new URL('../../events/seed/example-2.json', import.meta.url), 'utf8');

let stack: LocalStack;
let jobId: string;
let chatJobId: string;

const records = () =>
  capturedLines()
    .filter(({ line }) => isLogLine(line))
    .map(({ line }) => JSON.parse(line) as Record<string, unknown>);
const emf = (metric: string) =>
  records().filter((record) => record._aws !== undefined && record[metric] !== undefined);

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    simulatorPort: 0,
    dataDir: null,
    env: {
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_ALLOWED_USERS: 'U0ALICE01',
      POLL_INTERVAL_MS: '500',
      SIM_BOOT_MS: '1000',
    },
    // Dropped here: the capture sees them anyway.
    logSink: () => {},
  });
  const accepted = await fetch(`${stack.url}/v1/run-instances`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.devToken}`, 'content-type': 'application/json' },
    body: SEED_2,
  });
  expect(accepted.status).toBe(202);
  jobId = ((await accepted.json()) as { jobId: string }).jobId;
  const body = formBody(
    commandFields('run zone=ap-guangzhou-3 image=img-pmqg1cw7 type=S5.MEDIUM4 count=1', {
      response_url: stack.chatResponseUrl,
    }),
  );
  const timestamp = Math.floor(Date.now() / 1000);
  const chat = await fetch(`${stack.url}/v1/chatops/slack`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(SLACK_SECRET, timestamp, body),
    },
    body,
  });
  expect(chat.status).toBe(200);
  chatJobId = /[0-9a-f]{8}-[0-9a-f-]{27}/.exec(((await chat.json()) as { text: string }).text)?.[0] ?? '';
  await waitFor(
    'job.succeeded at the webhook sink and its metrics published',
    async () => {
      const response = await fetch(`${stack.url}/_local/webhooks?jobId=${jobId}`);
      const { webhooks } = (await response.json()) as { webhooks: Array<{ type: string }> };
      return webhooks.some((arrival) => arrival.type === 'job.succeeded') &&
        emf('WebhookDeliveries').length > 0 &&
        emf('TimeToSucceeded').length > 0
        ? true
        : undefined;
    },
    30_000,
    200,
  );
}, 60_000);
afterAll(() => stack.stop());

describe('the log capture over the end-to-end suite', () => {
  it('sees the lines of every function the job went through, though the test’s own sink dropped them', () => {
    const services = new Set(records().map((record) => record.service));
    for (const service of ['api', 'chatops', 'submit', 'poll']) expect(services).toContain(service);
  });

  it('knows the secrets this file handed the stack: the dev token and the Slack signing secret', () => {
    const values = knownSecrets().map((secret) => secret.value);
    expect(values).toContain(stack.devToken);
    expect(values).toContain(SLACK_SECRET);
    expect(values).toContain(SEED_PASSWORD);
  });

  it('finds no secret in any line', () => {
    expect(leaksIn(capturedLines())).toEqual([]);
  });

  it('would find one: a known secret, or a bearer token, in a log line', () => {
    expect(
      leaksIn([{ source: 'probe', line: JSON.stringify({ message: 'x', note: SEED_PASSWORD }) }]),
    ).toEqual([
      expect.objectContaining({
        what: 'the seed examples’ password',
        line: expect.not.stringContaining(SEED_PASSWORD),
      }),
    ]);
    expect(
      leaksIn([
        { source: 'probe', line: JSON.stringify({ headers: { authorization: 'Bearer abcdefgh12345678' } }) },
      ]),
    ).toEqual([expect.objectContaining({ what: 'a bearer token' })]);
    // A banner is not a log line: npm start prints its dev token there on purpose.
    expect(leaksIn([{ source: 'probe', line: `token      ${stack.devToken}` }])).toEqual([]);
  });

  it('finds the job id and the caller on every line about either job', () => {
    const about = records().filter((record) => record.jobId === jobId || record.jobId === chatJobId);
    expect(about.length).toBeGreaterThan(4);
    for (const record of about) expect(record, String(record.message)).toHaveProperty('caller');
    expect(about.find((record) => record.jobId === jobId)).toMatchObject({ caller: 'dev' });
    expect(about.find((record) => record.jobId === chatJobId)).toMatchObject({
      caller: 'slack:T0TEAM001/U0ALICE01',
    });
  });

  it('sees the functions’ metrics published at the end of their invocations (EMF, service per function)', () => {
    const service = (metric: string) => [...new Set(emf(metric).map((record) => record.service))].sort();
    expect(service('JobsAccepted')).toEqual(['api', 'chatops']);
    expect(service('SubmitAttempts')).toEqual(['submit']);
    expect(service('SubmitQueueAge')).toEqual(['submit']);
    expect(service('TimeToSucceeded')).toEqual(['poll']);
    expect(service('WebhookDeliveries')).toEqual(['poll']);
    expect(emf('JobsAccepted')[0]).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'CvmProvisioner', Dimensions: [['service']] }] },
    });
  });

  it('sees what child processes write, spawned or run through promisify(execFile)', async () => {
    const line = (n: number) => JSON.stringify({ level: 'info', message: `from a child ${n}` });
    const child = spawn(process.execPath, ['-e', `console.log(${JSON.stringify(line(1))})`]);
    await new Promise((resolve) => child.on('close', resolve));
    await promisify(execFile)(process.execPath, ['-e', `console.error(${JSON.stringify(line(2))})`]);
    const seen = capturedLines().map((captured) => captured.line);
    expect(seen).toContain(line(1));
    expect(seen).toContain(line(2));
  });
});
