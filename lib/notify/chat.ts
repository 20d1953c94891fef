import { type Dispatcher, request } from 'undici';
import { followUpMessage } from '../chatops/messages.ts';
import { WebhookTargetRefusedError } from '../errors.ts';
import type { EventType, Job, JobEvent } from '../jobs/model.ts';
import { toJobView } from '../jobs/model.ts';
import { CHAT_TARGET } from '../jobs/outbox.ts';
import { type AttemptOutcome, attemptDelivery } from './deliver.ts';
import { parseRetryAfter } from './schedule.ts';

/**
 * Chat follow-ups (docs/chatops.md, "Follow-ups"): an event of a job asked for in chat goes back to where the
 * command came from, through the same outbox, schedule and recording as a webhook. Slack lets a command's
 * `response_url` take 5 posts within 30 minutes; after that, `chat.postMessage` to the channel when a bot token
 * is configured, else the follow-up is recorded as expired.
 */

/** Slack's response_url window: 5 uses within 30 minutes of the command (Slack, "Handling slash commands"). */
export const RESPONSE_URL_WINDOW_MS = 30 * 60 * 1000;
export const RESPONSE_URL_MAX_POSTS = 5;
const MAX_ANSWER_BYTES = 64 * 1024;

export interface ChatFollowUpSettings {
  /** SLACK_BOT_TOKEN: chat.postMessage once a response_url has run out. */
  slackBotToken?: string;
  /** SLACK_API_URL: Slack's Web API. */
  slackApiUrl: string;
}

export type ChatRoute =
  | { via: 'response_url'; url: string }
  | { via: 'chat.postMessage'; url: string; token: string; channel: string }
  | { via: 'expired'; reason: string };

/** How many times the job's follow-ups have used its response_url (every attempt counts: Slack counts posts). */
export function responseUrlUses(job: Job): number {
  let uses = 0;
  for (const event of Object.values(job.events))
    for (const attempt of event.deliveries[CHAT_TARGET]?.attempts ?? [])
      if (attempt.via === 'response_url') uses++;
  return uses;
}

/** Where the job's next chat follow-up goes, given the uses so far (those of this run included). */
export function chatRoute(job: Job, now: number, uses: number, settings: ChatFollowUpSettings): ChatRoute {
  const chat = job.chat;
  if (!chat) return { via: 'expired', reason: 'the job did not come from chat' };
  const windowOpen = now < Date.parse(chat.receivedAt) + RESPONSE_URL_WINDOW_MS;
  if (chat.responseUrl && windowOpen && uses < RESPONSE_URL_MAX_POSTS)
    return { via: 'response_url', url: chat.responseUrl };
  if (chat.platform === 'slack' && settings.slackBotToken)
    return {
      via: 'chat.postMessage',
      url: `${settings.slackApiUrl.replace(/\/+$/, '')}/chat.postMessage`,
      token: settings.slackBotToken,
      channel: chat.channelId,
    };
  const why = !chat.responseUrl
    ? 'the command gave no response_url this service may post to'
    : windowOpen
      ? `its response_url took ${RESPONSE_URL_MAX_POSTS} posts already`
      : 'its response_url window of 30 minutes is over';
  return {
    via: 'expired',
    reason: `chat follow-up expired: ${why}${chat.platform === 'slack' ? ', and no SLACK_BOT_TOKEN is configured' : ''}`,
  };
}

/** The follow-up of an event as the route takes it. */
function followUpBody(job: Job, event: JobEvent, route: Exclude<ChatRoute, { via: 'expired' }>): Buffer {
  const platform = job.chat?.platform ?? 'slack';
  const message = followUpMessage(platform, event.type as EventType, toJobView(job, event.snapshot));
  if (route.via === 'response_url') return Buffer.from(JSON.stringify(message), 'utf8');
  const { text, blocks } = message;
  return Buffer.from(JSON.stringify({ channel: route.channel, text, ...(blocks ? { blocks } : {}) }), 'utf8');
}

/** Sends one chat follow-up. Never throws. */
export async function attemptChatFollowUp(
  deps: { dispatcher: Dispatcher; now: () => number },
  job: Job,
  event: JobEvent,
  route: Exclude<ChatRoute, { via: 'expired' }>,
  options: { timeoutMs: number; allowPrivate: boolean },
): Promise<AttemptOutcome> {
  const body = followUpBody(job, event, route);
  if (route.via === 'response_url')
    return attemptDelivery(deps, {
      url: route.url,
      headers: { 'content-type': 'application/json' },
      body,
      timeoutMs: options.timeoutMs,
      allowPrivate: options.allowPrivate,
    });
  // chat.postMessage answers 200 with `ok` and an `error` code (https://api.slack.com/methods/chat.postMessage).
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const response = await request(route.url, {
      method: 'POST',
      dispatcher: deps.dispatcher,
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${route.token}` },
      body,
      signal,
    });
    const status = response.statusCode;
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], deps.now());
    const text = await readCapped(response.body);
    if (status === 429)
      return {
        kind: 'failed',
        status,
        retryable: true,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    if (status < 200 || status >= 300) return { kind: 'failed', status, retryable: true };
    let answer: { ok?: unknown; error?: unknown } = {};
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      return { kind: 'failed', status, error: 'chat.postMessage: the answer is not JSON', retryable: true };
    }
    if (answer.ok === true) return { kind: 'delivered', status };
    const code = typeof answer.error === 'string' ? answer.error.slice(0, 64) : 'unknown_error';
    // Throttled or Slack's own trouble: later. Anything else (channel_not_found, invalid_auth…) stays so.
    const retryable = ['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable'].includes(code);
    return { kind: 'failed', status, error: `chat.postMessage: ${code}`, retryable };
  } catch (error) {
    if (error instanceof WebhookTargetRefusedError)
      return { kind: 'failed', error: error.message, retryable: false };
    if (signal.aborted)
      return { kind: 'failed', error: `no answer within ${options.timeoutMs} ms`, retryable: true };
    return { kind: 'failed', error: `chat.postMessage: ${(error as Error).name}`, retryable: true };
  }
}

async function readCapped(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
