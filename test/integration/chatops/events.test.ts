import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatDeps, handleSlashCommand } from '../../../lib/chatops/command.ts';
import type { HttpEvent } from '../../../lib/http/types.ts';
import { getJob } from '../../../lib/jobs/store.ts';
import {
  EVENTS_MATTERMOST_TOKEN,
  EVENTS_SLACK_SECRET,
  EVENTS_TIMESTAMP,
} from '../../../local/chat-events.ts';
import { type ApiEmulators, emulatorApi, startApiEmulators } from '../../helpers/emulators.ts';

const DIR = new URL('../../../events/chat/', import.meta.url);
const event = (name: string) => JSON.parse(readFileSync(new URL(name, DIR), 'utf8')) as HttpEvent;

let env: ApiEmulators;
let deps: ChatDeps;
beforeAll(async () => {
  env = await startApiEmulators('chat-events');
  const api = emulatorApi(env, { profile: 'current' });
  // The clock at the time the events were signed: their signatures are good for five minutes around it.
  api.clock.set(EVENTS_TIMESTAMP * 1000 + 30_000);
  deps = {
    ...api.deps,
    chat: {
      slackSigningSecret: EVENTS_SLACK_SECRET,
      mattermostToken: EVENTS_MATTERMOST_TOKEN,
      allowedUsers: ['U0LOCAL01'],
      allowPrivate: false,
    },
  };
});
afterAll(() => env.stop());

/** The event through the chatops handler as Lambda would pass it (the body base64-decoded). */
async function invoke(name: string) {
  const { headers, body = '', isBase64Encoded } = event(name);
  const rawBody = Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8');
  return handleSlashCommand(deps, { headers, rawBody });
}

const textOf = async (name: string) => {
  const response = await invoke(name);
  expect(response.statusCode).toBe(200);
  return (JSON.parse(response.body) as { text: string }).text;
};

describe('the sample events in events/chat', () => {
  it('holds the events its README lists, every one a base64-encoded form body', () => {
    const names = readdirSync(DIR).filter((name) => name.endsWith('.json'));
    expect(names.sort()).toEqual(
      [
        'mattermost-check.json',
        'mattermost-help.json',
        'mattermost-list.json',
        'mattermost-run.json',
        'mattermost-status.json',
        'slack-check.json',
        'slack-help.json',
        'slack-list.json',
        'slack-run.json',
        'slack-ssl-check.json',
        'slack-status.json',
      ].sort(),
    );
    for (const name of names)
      expect(event(name)).toMatchObject({ isBase64Encoded: true, routeKey: 'POST /v1/chatops/slack' });
  });

  it.each(['slack-run.json', 'mattermost-run.json'])(
    '%s is accepted as a job of its chat user',
    async (name) => {
      const text = await textOf(name);
      const jobId = /[0-9a-f]{8}-[0-9a-f-]{27}/.exec(text)?.[0] ?? '';
      const job = await getJob(deps, jobId);
      expect(job?.requestedBy).toMatch(/^(slack|mattermost):T0LOCAL01\/U0LOCAL01$/);
    },
  );

  it.each(['slack-check.json', 'mattermost-check.json'])('%s is valid in ap-guangzhou', async (name) => {
    expect(await textOf(name)).toMatch(/valid[\s\S]*ap-guangzhou/i);
  });

  it.each(['slack-status.json', 'mattermost-status.json'])('%s finds no such job', async (name) => {
    expect(await textOf(name)).toMatch(/not found|no job/i);
  });

  it.each(['slack-list.json', 'mattermost-list.json'])('%s lists the chat user’s jobs', async (name) => {
    expect(await textOf(name)).toMatch(/Your jobs|no jobs yet/);
  });

  it.each(['slack-help.json', 'mattermost-help.json'])('%s shows usage', async (name) => {
    expect(await textOf(name)).toMatch(/run[\s\S]*status/);
  });

  it('slack-ssl-check.json gets a bare 200', async () => {
    expect(await invoke('slack-ssl-check.json')).toEqual({ statusCode: 200, headers: {}, body: '' });
  });

  it('a Slack event five minutes past its time is refused', async () => {
    const api = deps.now;
    deps.now = () => EVENTS_TIMESTAMP * 1000 + 301_000;
    expect((await invoke('slack-help.json')).statusCode).toBe(401);
    deps.now = api;
  });
});
