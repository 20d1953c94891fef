import { describe, expect, it } from 'vitest';
import { unescapeSlack } from '../../../lib/chatops/command.ts';
import { finishJob } from '../../../lib/jobs/lifecycle.ts';
import type { ChatOrigin, Job } from '../../../lib/jobs/model.ts';
import { eventId } from '../../../lib/jobs/outbox.ts';
import { RESPONSE_URL_MAX_POSTS, RESPONSE_URL_WINDOW_MS } from '../../../lib/notify/chat.ts';
import { deliverDueEvents } from '../../../lib/notify/notifier.ts';
import type { ReceivedRequest, Reply } from '../../helpers/loopback-server.ts';
import { type PollRig, pollRigsFor, remaining } from '../../helpers/poll.ts';

const start = pollRigsFor('chat-follow-ups');

/** A receiver playing Slack: the response_url at /response, the Web API at /slack-api/chat.postMessage. */
const slackLike =
  (responseStatus = 200): Reply =>
  (request, res) => {
    if (request.url === '/slack-api/chat.postMessage')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    res.writeHead(request.url === '/response' ? responseStatus : 204).end('ok');
  };

function origin(r: PollRig, platform: ChatOrigin['platform'] = 'slack'): ChatOrigin {
  return {
    platform,
    teamId: 'T0TEAM001',
    channelId: 'C0OPS0001',
    userId: 'U0ALICE01',
    responseUrl: `${r.receiver.url}/response`,
    receivedAt: new Date(r.h.clock.now()).toISOString(),
  };
}

const chatDelivery = (job: Job, type: Parameters<typeof eventId>[1]) =>
  job.events[eventId(job.jobId, type)]?.deliveries.chat;
const at = (r: PollRig, path: string): ReceivedRequest[] =>
  r.receiver.received.filter((request) => request.url === path);
const bodyOf = (request: ReceivedRequest | undefined) =>
  JSON.parse(request?.body.toString() ?? '{}') as Record<string, unknown>;

describe('chat follow-ups', () => {
  it('posts job.submitted and the terminal event to the command’s response_url, as Block Kit with a text fallback', async () => {
    const r = await start({ reply: slackLike(), sim: { bootMs: 0 } });
    const job = await r.submitted(undefined, undefined, origin(r));
    await deliverDueEvents(r.run, remaining());
    const submitted = await r.job(job.jobId);
    await finishJob(r.run, submitted, 'succeed', { instances: submitted.instances });
    await deliverDueEvents(r.run, remaining());
    const posts = at(r, '/response');
    expect(posts).toHaveLength(2);
    for (const post of posts) {
      expect(post.headers['content-type']).toBe('application/json');
      expect(post.headers['webhook-signature']).toBeUndefined();
      const body = bodyOf(post);
      expect(body).toMatchObject({
        text: expect.any(String),
        blocks: expect.any(Array),
        replace_original: false,
      });
      expect(JSON.stringify(body)).toContain(job.jobId);
    }
    const done = await r.job(job.jobId);
    expect(chatDelivery(done, 'job.succeeded')).toMatchObject({
      state: 'DELIVERED',
      attempts: [{ via: 'response_url', status: 200 }],
    });
  });

  it('posts chat follow-ups even without WEBHOOK_SECRET (they are not signed), while webhooks wait', async () => {
    const r = await start({ reply: slackLike(), run: { signers: [] } });
    const job = await r.submitted(undefined, undefined, origin(r));
    await deliverDueEvents(r.run, remaining());
    expect(at(r, '/response')).toHaveLength(1);
    expect(at(r, '/hooks')).toHaveLength(0);
    const stored = await r.job(job.jobId);
    expect(chatDelivery(stored, 'job.submitted')?.state).toBe('DELIVERED');
    expect(stored.events[eventId(job.jobId, 'job.submitted')]?.deliveries.default).toMatchObject({
      state: 'PENDING',
      attempts: [],
    });
  });

  it('sends Mattermost markdown text only, no blocks', async () => {
    const r = await start({ reply: slackLike() });
    await r.submitted(undefined, undefined, origin(r, 'mattermost'));
    await deliverDueEvents(r.run, remaining());
    const body = bodyOf(at(r, '/response')[0]);
    expect(body.text).toEqual(expect.any(String));
    expect(body.blocks).toBeUndefined();
  });

  it('after the 30-minute window, posts through chat.postMessage to the channel when a bot token is configured', async () => {
    const r = await start({ reply: slackLike(), sim: { bootMs: 0 } });
    r.run.chatFollowUps = { slackApiUrl: `${r.receiver.url}/slack-api`, slackBotToken: 'xoxb-test-token' };
    const job = await r.submitted(undefined, undefined, origin(r));
    r.h.clock.advance(RESPONSE_URL_WINDOW_MS);
    await deliverDueEvents(r.run, remaining());
    expect(at(r, '/response')).toHaveLength(0);
    const [post] = at(r, '/slack-api/chat.postMessage');
    expect(post?.headers.authorization).toBe('Bearer xoxb-test-token');
    expect(bodyOf(post)).toMatchObject({
      channel: 'C0OPS0001',
      text: expect.any(String),
      blocks: expect.any(Array),
    });
    expect(chatDelivery(await r.job(job.jobId), 'job.submitted')).toMatchObject({
      state: 'DELIVERED',
      attempts: [{ via: 'chat.postMessage' }],
    });
  });

  it('records on the job that the follow-up expired when there is no bot token', async () => {
    const r = await start({ reply: slackLike() });
    const job = await r.submitted(undefined, undefined, origin(r));
    r.h.clock.advance(RESPONSE_URL_WINDOW_MS);
    await deliverDueEvents(r.run, remaining());
    expect(r.receiver.received.filter((request) => request.url !== '/hooks')).toHaveLength(0);
    expect(chatDelivery(await r.job(job.jobId), 'job.submitted')).toMatchObject({
      state: 'STOPPED',
      attempts: [{ error: expect.stringMatching(/^chat follow-up expired: .*30 minutes.*SLACK_BOT_TOKEN/) }],
    });
    expect(r.logs.records()).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringContaining('chat follow-up expired') }),
    );
  });

  it('uses a response_url at most five times, retries included, then turns to chat.postMessage', async () => {
    const r = await start({ reply: slackLike(500), run: { retrySchedule: Array(10).fill(1000) } });
    r.run.chatFollowUps = { slackApiUrl: `${r.receiver.url}/slack-api`, slackBotToken: 'xoxb-test-token' };
    const job = await r.submitted(undefined, undefined, origin(r));
    for (let run = 0; run < RESPONSE_URL_MAX_POSTS + 1; run++) {
      await deliverDueEvents(r.run, remaining());
      r.h.clock.advance(1000);
    }
    expect(at(r, '/response')).toHaveLength(RESPONSE_URL_MAX_POSTS);
    expect(at(r, '/slack-api/chat.postMessage')).toHaveLength(1);
    const delivery = chatDelivery(await r.job(job.jobId), 'job.submitted');
    expect(delivery?.state).toBe('DELIVERED');
    expect(delivery?.attempts.map((attempt) => attempt.via)).toEqual([
      ...Array(RESPONSE_URL_MAX_POSTS).fill('response_url'),
      'chat.postMessage',
    ]);
  });

  it('stops, recorded, when chat.postMessage refuses for good (channel_not_found)', async () => {
    const r = await start({
      reply: (request, res) => {
        if (request.url === '/slack-api/chat.postMessage')
          return void res.writeHead(200).end('{"ok":false,"error":"channel_not_found"}');
        res.writeHead(204).end();
      },
    });
    r.run.chatFollowUps = { slackApiUrl: `${r.receiver.url}/slack-api`, slackBotToken: 'xoxb-test-token' };
    const job = await r.submitted(undefined, undefined, { ...origin(r), responseUrl: null });
    await deliverDueEvents(r.run, remaining());
    expect(chatDelivery(await r.job(job.jobId), 'job.submitted')).toMatchObject({
      state: 'FAILED',
      attempts: [{ via: 'chat.postMessage', status: 200, error: 'chat.postMessage: channel_not_found' }],
    });
  });
});

describe('a Slack command’s text', () => {
  it.each([
    ['name=a&amp;b', 'name=a&b'],
    ['webhook=<https://example.com/x?a=1&amp;b=2>', 'webhook=https://example.com/x?a=1&b=2'],
    ['hostname=<http://web.example.com|web.example.com>', 'hostname=web.example.com'],
    ['name=&lt;web&gt;', 'name=<web>'],
  ])('reads %j as typed: %j', (text, typed) => {
    expect(unescapeSlack(text)).toBe(typed);
  });
});
