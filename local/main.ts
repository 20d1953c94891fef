/**
 * `npm start`: the local stack on http://127.0.0.1:${PORT:-3000}, data under ${DATA_DIR:-.data}/
 * (docs/local-stack.md). Ctrl-C (or SIGTERM) stops it.
 */

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHAT_SINK_PATH } from './chat-sink.ts';
import { simulatorOptionsFromEnv } from './cvm-simulator/index.ts';
import { type LocalStack, LocalStackStartError, startLocalStack } from './stack.ts';
import { SINK_PATH } from './webhook-sink.ts';

const port = Number(process.env.PORT || 3000);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`npm start: PORT must be a port number (got "${process.env.PORT}")`);
  process.exit(1);
}
const dataDir = process.env.DATA_DIR || '.data';
let stack: LocalStack;
try {
  stack = await startLocalStack({ port, dataDir });
} catch (error) {
  // A mistake the user can fix gets one line; anything else its stack too, for a bug report.
  if (error instanceof LocalStackStartError || (error as Error).name === 'ConfigError')
    console.error(`npm start: ${(error as Error).message}`);
  else console.error('npm start failed:', error);
  process.exit(1);
}

/** `<DATA_DIR>/stack.json`: where this stack listens, for `npm run invoke` (bin/invoke.ts); gone when it stops. */
export interface LocalStackSettings {
  pid: number;
  url: string;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tableName: string;
  /** Logical id in serverless.yml → the queue's URL. */
  queueUrls: Record<string, string>;
  tencentEndpoint: string;
  /** The simulator's key (absent when TENCENTCLOUD_ENDPOINT points elsewhere: its keys stay in the shell). */
  simulatorKey?: { secretId: string; secretKey: string; sessionToken?: string };
}
const settingsFile = join(dataDir, 'stack.json');
const { secretId, secretKey } = simulatorOptionsFromEnv(process.env);
const settings: LocalStackSettings = {
  pid: process.pid,
  url: stack.url,
  dynamodbEndpoint: stack.emulators.dynamodbEndpoint,
  sqsEndpoint: stack.emulators.sqsEndpoint,
  tableName: stack.tableName,
  queueUrls: stack.queueUrls,
  tencentEndpoint: stack.tencentEndpoint,
  ...(stack.simulator
    ? {
        simulatorKey: {
          secretId,
          secretKey,
          ...(process.env.SIM_SESSION_TOKEN ? { sessionToken: process.env.SIM_SESSION_TOKEN } : {}),
        },
      }
    : {}),
};
// Mode 0600 like the data directory's secrets: it holds the simulator's key.
writeFileSync(settingsFile, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });

const nameWidth = Math.max(...stack.functions.map((fn) => fn.name.length)) + 2;
const functions = stack.functions
  .map((fn) => {
    const events = fn.events.map((event) =>
      event.kind === 'httpApi'
        ? event.routeKey === '$default'
          ? 'any other route (404/405)'
          : event.routeKey
        : event.kind === 'sqs'
          ? `SQS ${event.queue}`
          : 'schedule',
    );
    return `  ${fn.name.padEnd(nameWidth)}${events.join(' · ')}`;
  })
  .join('\n');
const idle = stack.unconsumedQueues.length
  ? `\n  No function consumes ${stack.unconsumedQueues.join(', ')}: messages sent there stay there.\n`
  : '';
const auth = stack.devToken
  ? `token      ${stack.devToken}   (caller "dev"; kept in ${dataDir}/dev-token)`
  : stack.callers.length
    ? `callers    ${stack.callers.join(', ')}   (from API_TOKENS: send the token whose SHA-256 is listed)`
    : 'auth       AUTH_MODE=iam: requests carry API Gateway IAM authorizer context (see docs/local-stack.md)';
const bearer = stack.devToken ?? '$TOKEN';
const setToken =
  stack.devToken || !stack.callers.length
    ? ''
    : '\n  TOKEN=<the token of one of those callers>   # the one whose SHA-256 is in API_TOKENS\n';

const watch = stack.defaultWebhookUrl.endsWith(SINK_PATH)
  ? `watch a job's webhooks arrive (job.submitted, then job.succeeded), each marked verified or not:

  curl -sS '${stack.url}${SINK_PATH}?jobId=<jobId>'`
  : `events go to DEFAULT_WEBHOOK_URL (at ${new URL(stack.defaultWebhookUrl).origin}; its path may hold a token, so it is not shown).`;

const secretFrom = stack.slackSigningSecretFile
  ? `$(cat ${stack.slackSigningSecretFile})`
  : '"$SLACK_SIGNING_SECRET"';
const chatBody = `command=%2Fcvm&team_id=T0LOCAL&channel_id=C0LOCAL&user_id=U0LOCAL&response_url=${encodeURIComponent(stack.chatResponseUrl)}`;
const chat = `Or ask in "chat": a Slack slash command, signed with the stack's Slack secret (openssl and curl):

  SECRET=${secretFrom}
  BODY="${chatBody}&trigger_id=local.$RANDOM$RANDOM&text=run+zone=ap-guangzhou-3+image=img-pmqg1cw7+type=S5.MEDIUM4+count=1"
  TS=$(date +%s); SIG="v0=$(printf 'v0:%s:%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)"
  curl -sS -X POST ${stack.url}/v1/chatops/slack -H "X-Slack-Request-Timestamp: $TS" -H "X-Slack-Signature: $SIG" --data "$BODY"

The answer comes back at once; the follow-ups (submitted, then succeeded) land in the chat sink:

  curl -sS ${stack.url}${CHAT_SINK_PATH}`;

console.log(`
cvm-provisioner local stack
  API        ${stack.url}
  ${auth}
  DynamoDB   ${stack.emulators.dynamodbEndpoint}   table ${stack.tableName} (data in ${dataDir}/)
  SQS        ${stack.emulators.sqsEndpoint}
  Tencent    ${stack.tencentEndpoint}${stack.simulator ? '   (the local CVM simulator)' : ''}

Functions (serverless.yml):
${functions}
${idle}
Create the seed's example 2 (a prepaid S1.SMALL1 in ap-guangzhou-2), from the project directory:
${setToken}
  curl -sS -i -X POST ${stack.url}/v1/run-instances \\
    -H "Authorization: Bearer ${bearer}" \\
    -H 'Content-Type: application/json' \\
    --data @events/seed/example-2.json

Then GET the Location it answers with (same Authorization header). The poller runs every
${stack.pollIntervalMs} ms and signs each event with WEBHOOK_SECRET${process.env.WEBHOOK_SECRET ? '' : ` (kept in ${dataDir}/webhook-secret)`}; ${watch}

${chat}

Ctrl-C stops the stack.
`);
if (stack.requeued > 0) console.log(`Re-enqueued ${stack.requeued} job(s) left QUEUED by an earlier run.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    rmSync(settingsFile, { force: true });
    void stack.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
