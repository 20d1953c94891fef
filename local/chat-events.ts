/**
 * Signed slash-command events for the chatops function (events/chat/README.md), as API Gateway HTTP API
 * (payload 2.0) passes them: made by `npm run chat-event` (bin/chat-event.ts).
 */
import { createHmac } from 'node:crypto';

/** The secrets the committed events are signed with: for tests and local use only. */
export const EVENTS_SLACK_SECRET = 'events-slack-signing-secret-not-a-real-one';
export const EVENTS_MATTERMOST_TOKEN = 'events-mattermost-token-not-a-real-one';
/** When the committed events were signed (2026-12-02T12:00:00Z). */
export const EVENTS_TIMESTAMP = 1_796_212_800;

const FIELDS = {
  token: 'deprecated-verification-token',
  team_id: 'T0LOCAL01',
  team_domain: 'local',
  channel_id: 'C0LOCAL01',
  channel_name: 'ops',
  user_id: 'U0LOCAL01',
  user_name: 'dev',
  command: '/cvm',
  response_url: 'https://hooks.slack.com/commands/T0LOCAL01/0000000001/localtestresponseurl0001',
};

const COMMANDS: Record<string, Record<string, string>> = {
  run: { text: 'run zone=ap-guangzhou-3 image=img-pmqg1cw7 type=S5.MEDIUM4 count=1 name=web' },
  check: { text: 'check zone=ap-guangzhou-3 image=img-pmqg1cw7 type=S5.MEDIUM4 count=2' },
  status: { text: 'status 00000000-0000-4000-8000-000000000001' },
  list: { text: 'list' },
  help: { text: 'help' },
};

/** Slack's signature of a body at a time (seconds): `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`. */
export function slackSignature(secret: string, timestamp: number, rawBody: Buffer): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

/** A slash command's event, signed for Slack with `secrets.slack`, or carrying Mattermost's `secrets.mattermost`. */
export function signedEvent(
  platform: 'slack' | 'mattermost',
  fields: Record<string, string>,
  timestamp: number,
  secrets: { slack: string; mattermost: string } = {
    slack: EVENTS_SLACK_SECRET,
    mattermost: EVENTS_MATTERMOST_TOKEN,
  },
) {
  // Mattermost sends its token in the form too, the same as in the Authorization header.
  const form =
    platform === 'mattermost' && 'token' in fields ? { ...fields, token: secrets.mattermost } : fields;
  const raw = Buffer.from(new URLSearchParams(form).toString());
  const secret = secrets.slack;
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': platform === 'slack' ? 'Slackbot 1.0 (+https://api.slack.com/robots)' : 'mattermost-server',
  };
  if (platform === 'slack') {
    headers['x-slack-request-timestamp'] = String(timestamp);
    headers['x-slack-signature'] = slackSignature(secret, timestamp, raw);
  } else {
    headers.authorization = `Token ${secrets.mattermost}`;
  }
  // API Gateway HTTP API (payload 2.0) hands a form body over base64-encoded.
  return {
    version: '2.0',
    routeKey: 'POST /v1/chatops/slack',
    rawPath: '/v1/chatops/slack',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: 'cvm.example.com',
      domainPrefix: 'cvm',
      http: {
        method: 'POST',
        path: '/v1/chatops/slack',
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.10',
        userAgent: headers['user-agent'],
      },
      requestId: `chat-${platform}-${fields.text?.split(' ')[0] ?? 'ssl'}`,
      routeKey: 'POST /v1/chatops/slack',
      stage: '$default',
      time: new Date(timestamp * 1000).toUTCString(),
      timeEpoch: timestamp * 1000,
    },
    body: raw.toString('base64'),
    isBase64Encoded: true,
  };
}

/** Every committed event, by file name. */
export const EVENTS: Record<string, () => ReturnType<typeof signedEvent>> = {};
for (const [name, fields] of Object.entries(COMMANDS)) {
  EVENTS[`slack-${name}.json`] = () =>
    signedEvent(
      'slack',
      { ...FIELDS, ...fields, trigger_id: `1796212800.0000000001.${name}000000000000000000000` },
      EVENTS_TIMESTAMP,
    );
  EVENTS[`mattermost-${name}.json`] = () =>
    signedEvent(
      'mattermost',
      { ...FIELDS, ...fields, trigger_id: `mm-trigger-${name}-0001` },
      EVENTS_TIMESTAMP,
    );
}
EVENTS['slack-ssl-check.json'] = () =>
  signedEvent('slack', { ssl_check: '1', token: FIELDS.token }, EVENTS_TIMESTAMP);
