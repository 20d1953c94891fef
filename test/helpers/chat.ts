/**
 * Slash commands as Slack and Mattermost send them: the form fields of a command, signed the way Slack signs
 * (`v0:{timestamp}:{raw body}`, hex HMAC-SHA256) or carrying Mattermost's token.
 */
import { randomUUID } from 'node:crypto';
import { slackSignature } from '../../local/chat-events.ts';

export { slackSignature };

export const SLACK_SECRET = 'test-slack-signing-secret-0123456789abcdef';
export const MATTERMOST_TOKEN = 'test-mattermost-token-0123456789';
export const TEAM = 'T0TEAM001';
export const USER = 'U0ALICE01';
export const CHANNEL = 'C0OPS0001';
export const RESPONSE_URL = 'https://hooks.slack.com/commands/T0TEAM001/1234567890/abcdefABCDEF0123';

/** The fields of a slash command (Slack's names; Mattermost sends the same). */
export function commandFields(text: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    token: 'deprecated-verification-token',
    team_id: TEAM,
    team_domain: 'ops',
    channel_id: CHANNEL,
    channel_name: 'incidents',
    user_id: USER,
    user_name: 'alice',
    command: '/cvm',
    text,
    response_url: RESPONSE_URL,
    trigger_id: `${Date.now()}.${randomUUID().slice(0, 8)}.${randomUUID().replace(/-/g, '')}`,
    ...overrides,
  };
}

export const formBody = (fields: Record<string, string>) =>
  Buffer.from(new URLSearchParams(fields).toString());

/** A signed Slack request: lower-cased headers and the raw body. */
export function slackRequest(
  rawBody: Buffer,
  options: { secret?: string; timestamp: number; extraHeaders?: Record<string, string> },
) {
  const signature = slackSignature(options.secret ?? SLACK_SECRET, options.timestamp, rawBody);
  return {
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(options.timestamp),
      'x-slack-signature': signature,
      ...options.extraHeaders,
    },
    rawBody,
  };
}

/** A Mattermost request with its token in the Authorization header. */
export function mattermostRequest(rawBody: Buffer, token = MATTERMOST_TOKEN) {
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Token ${token}` },
    rawBody,
  };
}
