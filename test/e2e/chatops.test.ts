import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatArrival } from '../../local/chat-sink.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { commandFields, formBody, slackSignature } from '../helpers/chat.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * A slash command on the local stack, as Slack sends it: signed, through the gateway (which hands the form body
 * over base64-encoded, as API Gateway does), answered at once, and followed up in the "thread" (the stack's
 * response_url sink) when the job is submitted and when it succeeds.
 */
const SECRET = 'e2e-slack-signing-secret-0123456789';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    simulatorPort: 0,
    dataDir: null,
    env: {
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_ALLOWED_USERS: 'U0ALICE01',
      POLL_INTERVAL_MS: '500',
      SIM_BOOT_MS: '1000',
    },
    logSink: () => {},
  });
});
afterAll(() => stack.stop());

async function command(text: string, options: { secret?: string; skew?: number } = {}) {
  const body = formBody(commandFields(text, { response_url: stack.chatResponseUrl }));
  const timestamp = Math.floor(Date.now() / 1000) + (options.skew ?? 0);
  return fetch(`${stack.url}/v1/chatops/slack`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(options.secret ?? SECRET, timestamp, body),
    },
    body,
  });
}

describe('a Slack command on the local stack', () => {
  it('acknowledges a signed run at once, then posts job.submitted and job.succeeded to the response_url', async () => {
    const response = await command(
      'run zone=ap-guangzhou-3 image=img-pmqg1cw7 type=S5.MEDIUM4 count=1 name=chat-web',
    );
    expect(response.status).toBe(200);
    const ack = (await response.json()) as { response_type: string; text: string };
    expect(ack.response_type).toBe('ephemeral');
    const jobId = /[0-9a-f]{8}-[0-9a-f-]{27}/.exec(ack.text)?.[0];
    expect(jobId).toBeDefined();
    const posts = await waitFor(
      'two follow-ups',
      async () => {
        const { messages } = (await (await fetch(`${stack.url}/_local/chat`)).json()) as {
          messages: ChatArrival[];
        };
        const ours = messages.filter((m) => JSON.stringify(m.body).includes(jobId ?? '-'));
        return ours.length >= 2 ? ours : undefined;
      },
      30_000,
      200,
    );
    expect(posts.map((post) => post.via)).toEqual(['response_url', 'response_url']);
    const [submitted, succeeded] = posts.map((post) => JSON.stringify(post.body));
    expect(submitted).toMatch(/submitted/i);
    expect(succeeded).toMatch(/succeeded|running|ready/i);
  });

  it('refuses a forged signature with 401 through the whole stack', async () => {
    const response = await command('help', { secret: 'not-the-secret' });
    expect(response.status).toBe(401);
  });
});
