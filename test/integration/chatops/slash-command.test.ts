import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ChatDeps, handleSlashCommand } from '../../../lib/chatops/command.ts';
import type { HttpResponse } from '../../../lib/http/types.ts';
import type { JobStatus } from '../../../lib/jobs/model.ts';
import { createJob, getJob } from '../../../lib/jobs/store.ts';
import {
  CHANNEL,
  commandFields,
  formBody,
  MATTERMOST_TOKEN,
  mattermostRequest,
  RESPONSE_URL,
  SLACK_SECRET,
  slackRequest,
  TEAM,
  USER,
} from '../../helpers/chat.ts';
import { CLOCK_START } from '../../helpers/clock.ts';
import { type ApiEmulators, type ApiStack, emulatorApi, startApiEmulators } from '../../helpers/emulators.ts';
import { jobIdOf, jobIn } from '../../helpers/jobs.ts';

let env: ApiEmulators;
beforeAll(async () => {
  env = await startApiEmulators('chatops');
});
afterAll(() => env.stop());

let stack: ApiStack;
let deps: ChatDeps;
let now: () => number;
beforeEach(async () => {
  stack = await env.provision(`chat-${Math.random().toString(36).slice(2, 8)}`);
  const api = emulatorApi(stack, { profile: 'current' });
  now = api.clock.now;
  deps = {
    ...api.deps,
    chat: {
      slackSigningSecret: SLACK_SECRET,
      mattermostToken: MATTERMOST_TOKEN,
      allowedUsers: [USER],
      allowPrivate: false,
    },
  };
});

const seconds = () => Math.floor(now() / 1000);
const RUN = 'run zone=ap-guangzhou-3 image=img-pmqg1cw7 type=S5.MEDIUM4 count=2 name="web {R:1}"';

/** Sends a signed Slack command, `skew` seconds off the clock. */
function slack(
  text: string,
  options: { fields?: Record<string, string>; skew?: number; headers?: Record<string, string> } = {},
) {
  const body = formBody(commandFields(text, options.fields));
  return handleSlashCommand(
    deps,
    slackRequest(body, {
      timestamp: seconds() + (options.skew ?? 0),
      ...(options.headers ? { extraHeaders: options.headers } : {}),
    }),
  );
}

interface Reply {
  response_type: string;
  text: string;
  blocks?: unknown[];
}
const replyOf = (response: HttpResponse): Reply & { all: string } => {
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toBe('application/json');
  const reply = JSON.parse(response.body) as Reply;
  // The fallback text is a summary; the details are in the blocks.
  return { ...reply, all: `${reply.text}\n${JSON.stringify(reply.blocks ?? [])}` };
};

/** Items in the table and messages in the queue: what a refused command must leave as it was. */
async function footprint() {
  const { Count = 0 } = await env.clients.dynamodb.send(
    new ScanCommand({ TableName: stack.tableName, Select: 'COUNT' }),
  );
  const { Attributes = {} } = await stack.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.submitQueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  return { items: Count, messages: Number(Attributes.ApproximateNumberOfMessages ?? 0) };
}

const JOB_ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const jobIdIn = (reply: Reply) => {
  const id = JOB_ID.exec(reply.text)?.[0];
  if (!id) throw new Error(`no job id in ${reply.text}`);
  return id;
};

describe('who is asking', () => {
  it.each([
    ['a forged signature', { 'x-slack-signature': `v0=${'0'.repeat(64)}` }],
    ['a missing signature', { 'x-slack-signature': '' }],
  ])('refuses %s with 401, creating nothing', async (_case, headers) => {
    const before = await footprint();
    const response = await slack(RUN, { headers });
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(await footprint()).toEqual(before);
  });

  it.each([
    [-299, 200],
    [299, 200],
    [-301, 401],
    [301, 401],
  ])('takes a timestamp %i s off the clock with %i', async (skew, status) => {
    expect((await slack('help', { skew })).statusCode).toBe(status);
  });

  it('says a stale request is stale, and creates nothing', async () => {
    const before = await footprint();
    const response = await slack(RUN, { skew: -600 });
    expect(JSON.parse(response.body)).toMatchObject({ status: 401, code: 'AuthFailure.SignatureExpire' });
    expect(await footprint()).toEqual(before);
  });

  it('answers ssl_check with a bare 200 and does nothing else', async () => {
    const before = await footprint();
    const body = formBody({ ssl_check: '1', token: 'x' });
    const response = await handleSlashCommand(deps, slackRequest(body, { timestamp: seconds() }));
    expect(response).toEqual({ statusCode: 200, headers: {}, body: '' });
    expect(await footprint()).toEqual(before);
  });

  it('refuses someone not on the list politely, and creates nothing', async () => {
    const before = await footprint();
    const reply = replyOf(await slack(RUN, { fields: { user_id: 'U0MALLORY' } }));
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toMatch(/not on the list/i);
    expect(await footprint()).toEqual(before);
  });

  it('also holds a user to the team and channel lists when they are set', async () => {
    deps.chat = { ...deps.chat, allowedUsers: ['*'], allowedTeams: [TEAM], allowedChannels: ['C0OTHER01'] };
    expect(replyOf(await slack('help')).text).toMatch(/not on the list/i);
    deps.chat = { ...deps.chat, allowedChannels: [CHANNEL] };
    expect(replyOf(await slack('help')).text).not.toMatch(/not on the list/i);
  });

  it('holds an entry that names its platform to that platform only', async () => {
    deps.chat = { ...deps.chat, allowedUsers: [`mattermost:${USER}`] };
    expect(replyOf(await slack('help')).text).toMatch(/not on the list/i);
    const body = formBody(commandFields('help', { token: MATTERMOST_TOKEN }));
    expect(replyOf(await handleSlashCommand(deps, mattermostRequest(body))).text).not.toMatch(
      /not on the list/i,
    );
  });

  it('lets nobody act when no allowlist is configured', async () => {
    deps.chat = { ...deps.chat, allowedUsers: [] };
    expect(replyOf(await slack('help')).text).toMatch(/not on the list/i);
  });

  it('verifies Mattermost by its token, and refuses a wrong one', async () => {
    // Mattermost sends its token in the form as well as in the Authorization header.
    const body = formBody(commandFields(RUN, { token: MATTERMOST_TOKEN }));
    const reply = replyOf(await handleSlashCommand(deps, mattermostRequest(body)));
    const job = await getJob(deps, jobIdIn(reply));
    expect(job?.requestedBy).toBe(`mattermost:${TEAM}/${USER}`);
    expect(job?.chat?.platform).toBe('mattermost');
    const wrong = await handleSlashCommand(deps, mattermostRequest(body, 'not-the-token'));
    expect(wrong.statusCode).toBe(401);
  });
});

describe('run', () => {
  it('accepts the job as the chat user, remembers where it came from, and acknowledges with its id', async () => {
    const reply = replyOf(await slack(RUN));
    expect(reply.response_type).toBe('ephemeral');
    const job = await getJob(deps, jobIdIn(reply));
    expect(job).toMatchObject({
      status: 'QUEUED',
      requestedBy: `slack:${TEAM}/${USER}`,
      request: { InstanceCount: 2, InstanceName: 'web {R:1}', Placement: { Zone: 'ap-guangzhou-3' } },
      chat: { platform: 'slack', teamId: TEAM, channelId: CHANNEL, userId: USER, responseUrl: RESPONSE_URL },
    });
    expect((await footprint()).messages).toBe(1);
  });

  it('makes one job of a command Slack retries, and of a replay of the same trigger_id', async () => {
    const fields = commandFields(RUN);
    const body = formBody(fields);
    const first = replyOf(await handleSlashCommand(deps, slackRequest(body, { timestamp: seconds() })));
    const retried = replyOf(
      await handleSlashCommand(
        deps,
        slackRequest(body, { timestamp: seconds() + 1, extraHeaders: { 'x-slack-retry-num': '1' } }),
      ),
    );
    const replayed = replyOf(
      await handleSlashCommand(deps, slackRequest(body, { timestamp: seconds() + 30 })),
    );
    expect(jobIdIn(retried)).toBe(jobIdIn(first));
    expect(jobIdIn(replayed)).toBe(jobIdIn(first));
    expect((await footprint()).messages).toBe(1);
  });

  it('lists every mistake of a run at once, and creates nothing', async () => {
    const before = await footprint();
    const reply = replyOf(
      await slack('run zone=ap-guangzhou-99 image=img-pmqg1cw7 type=S5.MEDIUM4 count=0 disk=lots'),
    );
    expect(reply.text).toMatch(/3 problems/);
    expect(reply.all).toMatch(/Placement\.Zone/);
    expect(reply.all).toMatch(/InstanceCount/);
    expect(reply.all).toMatch(/SystemDisk\.DiskSize/);
    expect(await footprint()).toEqual(before);
  });

  it('lists the text’s mistakes and the request’s together', async () => {
    const reply = replyOf(await slack('run zone=ap-guangzhou-99 imagee=x type=S5.MEDIUM4 count=0'));
    expect(reply.all).toMatch(/imagee/);
    expect(reply.all).toMatch(/Placement\.Zone/);
    expect(reply.all).toMatch(/InstanceCount/);
  });

  it('makes one job of a retried command whose trigger_id is too long to be a key itself', async () => {
    const body = formBody(commandFields(RUN, { trigger_id: `${'9'.repeat(250)}.x` }));
    const first = replyOf(await handleSlashCommand(deps, slackRequest(body, { timestamp: seconds() })));
    const again = replyOf(await handleSlashCommand(deps, slackRequest(body, { timestamp: seconds() + 2 })));
    expect(jobIdIn(again)).toBe(jobIdIn(first));
    expect((await footprint()).messages).toBe(1);
  });

  it('refuses a command it cannot read, naming each problem', async () => {
    const reply = replyOf(await slack('run zone=ap-guangzhou-3 image name="unterminated'));
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.all).toMatch(/image/);
    expect(reply.all).toMatch(/never closed/);
  });

  it('keeps a response_url only when it is Slack’s own', async () => {
    const reply = replyOf(
      await slack(RUN, { fields: { response_url: 'http://169.254.169.254/latest/meta-data' } }),
    );
    expect((await getJob(deps, jobIdIn(reply)))?.chat?.responseUrl).toBeNull();
  });
});

describe('when things go wrong', () => {
  it('refuses a body larger than any slash command with 413, before reading it', async () => {
    const body = formBody(commandFields(`help ${'x'.repeat(70 * 1024)}`));
    const response = await handleSlashCommand(deps, slackRequest(body, { timestamp: seconds() }));
    expect(response.statusCode).toBe(413);
  });

  it('answers in chat, not with a 500, when the job store fails', async () => {
    const ddb = deps.ddb;
    deps.ddb = { send: () => Promise.reject(new Error('the table is unavailable')) } as unknown as typeof ddb;
    const reply = replyOf(await slack('status 00000000-0000-4000-8000-000000000001'));
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.all).toMatch(/went wrong/i);
    expect(reply.all).not.toMatch(/unavailable/);
  });
});

describe('check, status and help', () => {
  it('checks a request without creating anything, and says it is valid with its region', async () => {
    const before = await footprint();
    const reply = replyOf(await slack(RUN.replace(/^run/, 'check')));
    expect(reply.text).toMatch(/valid/i);
    expect(reply.text).toContain('ap-guangzhou');
    expect(await footprint()).toEqual(before);
  });

  it('shows the status of the caller’s own job, and not another’s', async () => {
    const jobId = jobIdIn(replyOf(await slack(RUN)));
    const own = replyOf(await slack(`status ${jobId}`));
    expect(own.all).toContain(jobId);
    expect(own.all).toMatch(/QUEUED/);
    deps.chat = { ...deps.chat, allowedUsers: ['*'] };
    const other = replyOf(await slack(`status ${jobId}`, { fields: { user_id: 'U0BOB0001' } }));
    expect(other.all).toMatch(/not found|no job/i);
    expect(other.all).not.toMatch(/QUEUED/);
  });

  it('cancels the caller’s own job that was not sent yet, and not another’s', async () => {
    const jobId = jobIdIn(replyOf(await slack(RUN)));
    deps.chat = { ...deps.chat, allowedUsers: ['*'] };
    const other = replyOf(await slack(`cancel ${jobId}`, { fields: { user_id: 'U0BOB0001' } }));
    expect(other.all).toMatch(/not found|no job/i);
    expect((await getJob(deps, jobId))?.status).toBe('QUEUED');
    const own = replyOf(await slack(`cancel ${jobId}`));
    expect(own.all).toMatch(/CANCELLED|cancelled/);
    expect((await getJob(deps, jobId))?.status).toBe('CANCELLED');
  });

  it('answers help (and an empty command) with usage and examples', async () => {
    for (const text of ['help', '']) {
      const reply = replyOf(await slack(text));
      expect(reply.text).toMatch(/run/);
      expect(reply.text).toMatch(/status/);
    }
  });
});

describe('list', () => {
  const OWN = `slack:${TEAM}/${USER}`;
  const minute = (n: number) => new Date(CLOCK_START + n * 60_000).toISOString();

  /** Stores a job of `requestedBy`'s in `status`, created `minutes` after the test clock's start. */
  async function seed(n: number, status: JobStatus, requestedBy: string, minutes: number) {
    const jobId = jobIdOf(n);
    await createJob(deps, jobIn(status, { jobId, requestedBy, createdAt: minute(minutes) }));
    return jobId;
  }

  /** The names of the AWS commands sent while `run` runs. */
  async function commandsOf<T>(run: () => Promise<T>): Promise<{ result: T; sent: string[] }> {
    const sent: string[] = [];
    const ddb = deps.ddb;
    deps.ddb = {
      send: ((command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        return ddb.send(command as never);
      }) as typeof ddb.send,
    } as typeof ddb;
    try {
      return { result: await run(), sent };
    } finally {
      deps.ddb = ddb;
    }
  }

  const ids = (text: string) => [...text.matchAll(new RegExp(JOB_ID, 'g'))].map((m) => m[0]);

  it('lists the caller’s own jobs newest first, with one Query, and nobody else’s', async () => {
    const older = await seed(1, 'SUCCEEDED', OWN, 1);
    const newest = await seed(2, 'FAILED', OWN, 3);
    const middle = await seed(3, 'QUEUED', OWN, 2);
    const strangers = [
      await seed(4, 'SUCCEEDED', `slack:${TEAM}/U0BOB0001`, 4),
      await seed(5, 'SUCCEEDED', `slack:T0OTHER01/${USER}`, 5),
      await seed(6, 'SUCCEEDED', `mattermost:${TEAM}/${USER}`, 6),
      await seed(7, 'SUCCEEDED', USER, 7),
    ];
    const { result, sent } = await commandsOf(() => slack('list'));
    const reply = replyOf(result);
    expect(reply.response_type).toBe('ephemeral');
    expect(sent).toEqual(['QueryCommand']);
    expect(ids(reply.all)).toEqual([newest, middle, older]);
    for (const jobId of strangers) expect(reply.all).not.toContain(jobId);
    expect(reply.all).toContain('3 jobs shown');
    expect(reply.all).toContain('ResourceInsufficient.SpecifiedInstanceType');
    expect(reply.all).toContain(minute(3));
  });

  it('lists a job the caller just ran from chat, on that platform only', async () => {
    const jobId = jobIdIn(replyOf(await slack(RUN)));
    expect(replyOf(await slack('list')).all).toContain(jobId);
    const body = formBody(commandFields('list', { token: MATTERMOST_TOKEN }));
    const mattermost = replyOf(await handleSlashCommand(deps, mattermostRequest(body)));
    expect(mattermost.text).not.toContain(jobId);
    expect(mattermost.text).toContain('You have no jobs yet.');
  });

  it('shows only the statuses asked for, with one Query', async () => {
    const failed = await seed(1, 'FAILED', OWN, 1);
    const cancelled = await seed(2, 'CANCELLED', OWN, 2);
    const succeeded = await seed(3, 'SUCCEEDED', OWN, 3);
    const { result, sent } = await commandsOf(() => slack('list failed,Cancelled'));
    const reply = replyOf(result);
    expect(sent).toEqual(['QueryCommand']);
    expect(ids(reply.all)).toEqual([cancelled, failed]);
    expect(reply.all).not.toContain(succeeded);
  });

  it('refuses an unknown status, naming the valid ones, without reading the table', async () => {
    await seed(1, 'FAILED', OWN, 1);
    const { result, sent } = await commandsOf(() => slack('list running'));
    const reply = replyOf(result);
    expect(sent).toEqual([]);
    expect(reply.text).toMatch(/could not be read: 1 problem/);
    expect(reply.all).toContain('is not a status');
    for (const status of ['QUEUED', 'SUBMITTED', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'CANCELLED'])
      expect(reply.all).toContain(status);
  });

  it('answers a caller without jobs with a friendly line', async () => {
    await seed(1, 'SUCCEEDED', `slack:${TEAM}/U0BOB0001`, 1);
    const reply = replyOf(await slack('list'));
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.all).toContain('You have no jobs yet.');
    expect(ids(reply.all)).toEqual([]);
    expect(replyOf(await slack('list timed_out')).all).toContain('None of your jobs is `TIMED_OUT`.');
  });

  it('shows ten, says so, and names the list command that shows the rest', async () => {
    const own: string[] = [];
    for (let n = 1; n <= 13; n++) own.unshift(await seed(n, 'SUCCEEDED', OWN, n));
    const first = replyOf(await slack('list'));
    expect(ids(first.all)).toEqual(own.slice(0, 10));
    expect(first.all).toContain('10 jobs shown');
    const more = /`\/cvm (list before=[^`]+)`/.exec(first.all)?.[1];
    expect(more).toBe(`list before=${minute(4)}`);
    const rest = replyOf(await slack(more ?? ''));
    expect(ids(rest.all)).toEqual(own.slice(10));
    expect(rest.all).toContain('3 jobs shown');
    expect(rest.all).not.toContain('More');
  });

  it('says how far a filtered listing looked, and goes on from there', async () => {
    // The oldest job is the only failed one, behind more than a listing reads at once.
    const failed = await seed(1, 'FAILED', OWN, 1);
    for (let n = 2; n <= 52; n++) await seed(n, 'SUCCEEDED', OWN, n);
    const first = replyOf(await slack('list failed'));
    expect(first.all).toContain('None of your 50 most recent jobs is `FAILED`.');
    const older = /`\/cvm (list failed before=[^`]+)`/.exec(first.all)?.[1];
    expect(older).toBe(`list failed before=${minute(3)}`);
    const { result, sent } = await commandsOf(() => slack(older ?? ''));
    expect(sent).toEqual(['QueryCommand']);
    expect(ids(replyOf(result).all)).toEqual([failed]);
  });
});
