/**
 * ChatOps benchmark (issue 12), printing figures only:
 *   - the chatops function's bundle (as serverless-esbuild builds it: ESM, minified, the AWS SDK bundled) against
 *     a bundle of the AWS SDK clients it uses alone (DynamoDB document client, SQS);
 *   - cold import-and-init of each bundle in a fresh Node process (median of 7), the ratio (goal <= 1.3x) and
 *     the absolute figure, which must leave most of Slack's 3 s;
 *   - warm acknowledgements per second against the emulators: `help` (no AWS call) and `run` (an idempotency
 *     record, a ClientToken-free job write, an SQS send), signed as Slack signs.
 *   npm run bench:chatops
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { type ChatDeps, handleSlashCommand } from '../lib/chatops/command.ts';
import { documentClient } from '../lib/deps.ts';
import { silentLogger } from '../lib/log.ts';
import { localClients, provisionResources, startEmulators } from '../local/emulators.ts';
import { readStackResources } from '../local/resources.ts';
import { commandFields, formBody, slackRequest } from '../test/helpers/chat.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'cvmp-bench-chat-'));

/** Bundles an entry as serverless.yml's esbuild settings do. */
async function bundle(entry: string | { contents: string }, name: string): Promise<string> {
  const outfile = join(out, `${name}.mjs`);
  await build({
    ...(typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.contents, resolveDir: ROOT, loader: 'ts' as const } }),
    outfile,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  return outfile;
}

// The baseline: the SDK clients the chat function builds, and nothing else.
const baselineEntry = {
  contents: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
export const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const sqs = new SQSClient({});
`,
};
const chatBundle = await bundle(join(ROOT, 'handlers/chatops.ts'), 'chatops');
const sdkBundle = await bundle(baselineEntry, 'sdk-only');

/** Import-and-init of a bundle in a fresh process, in ms (the child measures around its own dynamic import). */
function coldStart(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(`file://${file}`)}); console.log(performance.now() - t);`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      JOBS_TABLE: 'bench-jobs',
      SUBMIT_QUEUE_URL: 'http://127.0.0.1:1/000000000000/bench-submit',
      SLACK_SIGNING_SECRET: 'bench-secret',
      SLACK_ALLOWED_USERS: '*',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    },
  });
  return Number(output.toString().trim());
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const runs = 7;
const chatMs: number[] = [];
const sdkMs: number[] = [];
for (let i = 0; i < runs; i++) {
  chatMs.push(coldStart(chatBundle));
  sdkMs.push(coldStart(sdkBundle));
}

console.log(
  `node ${process.version}; ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; ${new Date().toISOString()}`,
);
const kib = (file: string) => (statSync(file).size / 1024).toFixed(0);
console.log('\nbundle (ESM, minified, AWS SDK bundled)');
console.log(`  chatops function:        ${kib(chatBundle)} KiB`);
console.log(`  the SDK clients alone:   ${kib(sdkBundle)} KiB`);
console.log(`\ncold import and init, median of ${runs} fresh processes`);
console.log(`  chatops function:        ${median(chatMs).toFixed(0)} ms`);
console.log(`  the SDK clients alone:   ${median(sdkMs).toFixed(0)} ms`);
console.log(
  `  ratio ${(median(chatMs) / median(sdkMs)).toFixed(2)}x (goal <= 1.3x); ${median(chatMs).toFixed(0)} ms of Slack's 3000 ms`,
);

// Warm acknowledgements against the emulators, in this process.
const emulators = await startEmulators();
const clients = localClients(emulators);
const { tableName, queueUrls } = await provisionResources(clients, readStackResources('bench'));
const deps: ChatDeps = {
  ddb: documentClient(clients.dynamodb),
  sqs: clients.sqs,
  tableName,
  queueUrl: queueUrls.SubmitQueue ?? '',
  logger: silentLogger,
  now: Date.now,
  newId: randomUUID,
  profile: 'seed-2017',
  policy: {},
  chat: { slackSigningSecret: 'bench-secret', allowedUsers: ['*'], allowPrivate: false },
};

async function acks(text: string, total: number, width: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next++ < total) {
        const body = formBody(commandFields(text));
        const response = await handleSlashCommand(
          deps,
          slackRequest(body, { secret: 'bench-secret', timestamp: Math.floor(Date.now() / 1000) }),
        );
        if (response.statusCode !== 200) throw new Error(`answered ${response.statusCode}`);
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

await acks('help', 200, 4); // warm-up
await acks('run zone=ap-guangzhou-3 image=img-pmqg1cw7 type=S5.MEDIUM4 count=1', 50, 4);
const help = await acks('help', 2000, 4);
const run = await acks('run zone=ap-guangzhou-3 image=img-pmqg1cw7 type=S5.MEDIUM4 count=1', 500, 4);
console.log('\nwarm acknowledgements, 4 at once, against the emulators in this process');
console.log(`  help (no AWS call):      ${help.toFixed(0)}/s`);
console.log(`  run (job stored, queued): ${run.toFixed(0)}/s`);

clients.dynamodb.destroy();
clients.sqs.destroy();
await emulators.stop();
