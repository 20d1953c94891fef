/**
 * API benchmark (issues 5 and 13), printing figures only:
 *   - AWS calls per request, by route and kind, against the emulators (goal: an accepted submission costs at
 *     most one job write, one ClientToken reservation and one SQS send, plus one idempotency write with an
 *     Idempotency-Key; a listing page one Query);
 *   - warm handler invocations per second, in-process: against the emulators (dynalite + fauxqs over loopback)
 *     and with mocked AWS clients (aws-sdk-client-mock);
 *   - the API function's bundle (esbuild, minified ESM, as serverless-esbuild builds it) and its cold
 *     import-and-init time next to importing @aws-sdk/client-sqs and @aws-sdk/client-dynamodb alone.
 * Goals: >= 5,000 warm invocations/s with mocked clients; cold init <= 1.3x the two SDK clients' own.
 *   npm run bench:api
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { build } from 'esbuild';
import type { ApiDeps } from '../lib/api/deps.ts';
import { createApiHandler } from '../lib/api/handler.ts';
import { ROUTES } from '../lib/api/router.ts';
import type { HttpEvent } from '../lib/http/types.ts';
import { CALLER_INDEX } from '../lib/jobs/table.ts';
import { silentLogger } from '../lib/log.ts';
import { startLocalStack } from '../local/stack.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const TOKEN = 'bench-token-0123456789abcdef';
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const event: HttpEvent = JSON.parse(
  readFileSync(new URL('../events/api/post-run-instances-json.json', import.meta.url), 'utf8'),
);
event.headers = { ...event.headers, authorization: `Bearer ${TOKEN}` };
const context = {} as Context;

async function invocationsPerSecond(
  handler: ReturnType<typeof createApiHandler>,
  ms: number,
  inFlight = 1,
): Promise<number> {
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() - start < ms) {
        const response = await handler(event, context);
        if (response.statusCode !== 202)
          throw new Error(`unexpected ${response.statusCode}: ${response.body}`);
        done++;
      }
    }),
  );
  return (done / (performance.now() - start)) * 1000;
}

console.log(`node ${process.version}; seed example 2 as JSON, token auth; warm figures after 1 s of warm-up`);

// 1. Against the emulators.
const stack = await startLocalStack({
  port: 0,
  simulatorPort: 0,
  dataDir: null,
  env: { API_TOKENS: `bench:${createHash('sha256').update(TOKEN).digest('hex')}` },
  logSink: () => {},
});
const benchDeps: ApiDeps = {
  ...stack.deps,
  logger: silentLogger,
  newId: randomUUID,
  profile: 'seed-2017',
  policy: {},
  auth: {
    mode: 'token',
    tokens: [{ name: 'bench', sha256: createHash('sha256').update(TOKEN).digest('hex') }],
  },
};

// 1a. AWS calls per request, by route and kind: every DynamoDB and SQS command the handler sends, counted.
const calls: string[] = [];
function kindOf(command: { constructor: { name: string }; input?: Record<string, unknown> }): string {
  const input = command.input ?? {};
  const name = command.constructor.name.replace(/Command$/, '');
  if (input.IndexName) return `${name} ${input.IndexName}`;
  const key = (input.Item ?? input.Key) as Record<string, unknown> | undefined;
  const pk = typeof key?.pk === 'string' ? key.pk.split('#')[0] : undefined;
  return pk ? `${name} ${pk}` : name;
}
const counted = <T extends { send: (...args: never[]) => unknown }>(client: T): T =>
  ({
    send: ((command: Parameters<T['send']>[0]) => {
      calls.push(kindOf(command as never));
      return (client.send as (c: unknown) => unknown)(command);
    }) as T['send'],
  }) as T;
const countingHandler = createApiHandler({
  ...benchDeps,
  ddb: counted(benchDeps.ddb),
  sqs: counted(benchDeps.sqs),
});
const authorized = (init: {
  method: string;
  path: string;
  routeKey: string;
  body?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  params?: Record<string, string>;
}): HttpEvent => {
  const { body: _body, pathParameters: _params, queryStringParameters: _query, ...base } = event;
  return {
    ...base,
    routeKey: init.routeKey,
    rawPath: init.path,
    rawQueryString: new URLSearchParams(init.query ?? {}).toString(),
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    ...(init.query ? { queryStringParameters: init.query } : {}),
    ...(init.params ? { pathParameters: init.params } : {}),
    requestContext: {
      ...event.requestContext,
      routeKey: init.routeKey,
      http: { ...event.requestContext.http, method: init.method, path: init.path },
    },
    ...(init.body === undefined ? {} : { body: init.body }),
    isBase64Encoded: false,
  };
};
async function callsOf(
  label: string,
  request: HttpEvent,
  expected: number,
): Promise<Record<string, unknown>> {
  calls.length = 0;
  const response = await countingHandler(request, context);
  if (response.statusCode !== expected)
    throw new Error(`${label}: unexpected ${response.statusCode}: ${response.body}`);
  const byKind = new Map<string, number>();
  for (const kind of calls) byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  const kinds = [...byKind].map(([kind, n]) => `${n} ${kind}`).join(', ') || 'none';
  console.log(`  ${label.padEnd(52)} ${String(calls.length).padStart(2)} calls: ${kinds}`);
  callsByLabel.set(label, byKind);
  return JSON.parse(response.body ?? '{}');
}
/** Each request's calls by kind, for the goal lines. */
const callsByLabel = new Map<string, Map<string, number>>();
const callsOfKind = (label: string, kind: string) => callsByLabel.get(label)?.get(kind) ?? 0;
const seedBody = event.body ?? '';
const withToken = JSON.stringify({ ...JSON.parse(seedBody), ClientToken: `bench-${randomUUID()}` });
console.log('AWS calls per request, by route and kind (against the emulators):');
const first = await callsOf(
  'POST /v1/run-instances (seed example 2, a webhookUrl)',
  authorized({
    method: 'POST',
    path: '/v1/run-instances',
    routeKey: ROUTES.runInstances,
    body: JSON.stringify({ ...JSON.parse(seedBody), webhookUrl: 'https://hooks.example.com/cvm' }),
  }),
  202,
);
await callsOf(
  'POST /v1/run-instances with a ClientToken',
  authorized({ method: 'POST', path: '/v1/run-instances', routeKey: ROUTES.runInstances, body: withToken }),
  202,
);
const key = { 'idempotency-key': `"bench-${randomUUID()}"` };
await callsOf(
  'POST /v1/run-instances with an Idempotency-Key',
  authorized({
    method: 'POST',
    path: '/v1/run-instances',
    routeKey: ROUTES.runInstances,
    body: seedBody,
    headers: key,
  }),
  202,
);
await callsOf(
  '  the same again (a replay)',
  authorized({
    method: 'POST',
    path: '/v1/run-instances',
    routeKey: ROUTES.runInstances,
    body: seedBody,
    headers: key,
  }),
  202,
);
await callsOf(
  'POST /v1/run-instances/validate',
  authorized({
    method: 'POST',
    path: '/v1/run-instances/validate',
    routeKey: ROUTES.validate,
    body: seedBody,
  }),
  200,
);
const jobId = String(first.jobId);
await callsOf(
  'GET /v1/jobs/{jobId}',
  authorized({ method: 'GET', path: `/v1/jobs/${jobId}`, routeKey: ROUTES.getJob, params: { jobId } }),
  200,
);
const page = await callsOf(
  'GET /v1/jobs?limit=2 (a page)',
  authorized({ method: 'GET', path: '/v1/jobs', routeKey: ROUTES.listJobs, query: { limit: '2' } }),
  200,
);
await callsOf(
  'GET /v1/jobs?limit=2&cursor=… (the next page)',
  authorized({
    method: 'GET',
    path: '/v1/jobs',
    routeKey: ROUTES.listJobs,
    query: { limit: '2', cursor: String(page.next) },
  }),
  200,
);
await callsOf(
  'POST /v1/jobs/{jobId}/cancel',
  authorized({
    method: 'POST',
    path: `/v1/jobs/${jobId}/cancel`,
    routeKey: ROUTES.cancelJob,
    params: { jobId },
  }),
  200,
);
await callsOf(
  'GET /v1/jobs/{jobId}/events',
  authorized({
    method: 'GET',
    path: `/v1/jobs/${jobId}/events`,
    routeKey: ROUTES.jobEvents,
    params: { jobId },
  }),
  200,
);
const eventId = `evt_${jobId}_cancelled`;
await callsOf(
  'POST /v1/jobs/{jobId}/events/{eventId}/redeliver (already due: no write)',
  authorized({
    method: 'POST',
    path: `/v1/jobs/${jobId}/events/${eventId}/redeliver`,
    routeKey: ROUTES.redeliverEvent,
    params: { jobId, eventId },
  }),
  202,
);
await callsOf(
  'GET /v1/openapi.json',
  authorized({ method: 'GET', path: '/v1/openapi.json', routeKey: ROUTES.openApi }),
  200,
);
{
  const keyed = 'POST /v1/run-instances with an Idempotency-Key';
  const token = 'POST /v1/run-instances with a ClientToken';
  const jobWrites = Math.max(callsOfKind(keyed, 'Put job'), callsOfKind(token, 'Put job'));
  const idemWrites = callsOfKind(keyed, 'Put idem') + callsOfKind(keyed, 'Update idem');
  console.log(
    `  accepted submission: ${jobWrites} job write, ${callsOfKind(token, 'Put ctok')} ClientToken reservation, ` +
      `${Math.max(callsOfKind(keyed, 'SendMessage'), callsOfKind(token, 'SendMessage'))} SQS send, ` +
      `${idemWrites} idempotency write with a key (goal <= 1 each)`,
  );
  const pages = ['GET /v1/jobs?limit=2 (a page)', 'GET /v1/jobs?limit=2&cursor=… (the next page)'];
  console.log(
    `  a listing page: ${pages.map((label) => callsOfKind(label, `Query ${CALLER_INDEX}`)).join(' and ')} Query, ` +
      `${pages.map((label) => callsByLabel.get(label)?.size ?? 0).join(' and ')} kinds of call (goal 1 Query, nothing else)`,
  );
}

const emulated = createApiHandler(benchDeps);
await invocationsPerSecond(emulated, 1000);
console.log(
  `warm, emulators (dynalite + fauxqs):  ${fmt(await invocationsPerSecond(emulated, 3000))} invocations/s sequential`,
);
await stack.stop();

// 2. With mocked AWS clients: our code's own cost.
const ddbMock = mockClient(DynamoDBDocumentClient);
ddbMock.on(PutCommand).resolves({});
const sqsMock = mockClient(SQSClient);
sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
const mocked = createApiHandler({
  ...benchDeps,
  ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  sqs: new SQSClient({ region: 'us-east-1' }),
  logger: silentLogger,
});
await invocationsPerSecond(mocked, 1000);
console.log(
  `warm, mocked AWS clients:             ${fmt(await invocationsPerSecond(mocked, 3000))} invocations/s (goal >= 5,000/s)`,
);
ddbMock.restore();
sqsMock.restore();

// 3. Bundle size and cold start.
const dir = mkdtempSync(join(tmpdir(), 'cvmp-bench-'));
const common = {
  bundle: true,
  minify: true,
  format: 'esm' as const,
  platform: 'node' as const,
  target: 'node24',
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  logLevel: 'error' as const,
};
await build({ ...common, entryPoints: [join(ROOT, 'handlers/api.ts')], outfile: join(dir, 'api.mjs') });
writeFileSync(
  join(dir, 'sdk-entry.mjs'),
  "import { SQSClient } from '@aws-sdk/client-sqs';\nimport { DynamoDBClient } from '@aws-sdk/client-dynamodb';\n" +
    'export const clients = [new SQSClient({}), new DynamoDBClient({})];\n',
);
await build({
  ...common,
  entryPoints: [join(dir, 'sdk-entry.mjs')],
  outfile: join(dir, 'sdk.mjs'),
  nodePaths: [join(ROOT, 'node_modules')],
});
const size = (file: string) => statSync(join(dir, file)).size;
const gz = (file: string) => gzipSync(readFileSync(join(dir, file))).length;
console.log(
  `bundle (esbuild, minified ESM):       api ${fmt(size('api.mjs') / 1024)} KiB (${fmt(gz('api.mjs') / 1024)} KiB gzip); ` +
    `SQS + DynamoDB clients alone ${fmt(size('sdk.mjs') / 1024)} KiB`,
);

/** Import time of a bundle in a fresh Node process, module evaluation and handler construction included. */
function coldImportMs(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(join(dir, file))}); console.log(performance.now() - t);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      JOBS_TABLE: 'jobs',
      SUBMIT_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/submit',
      AUTH_MODE: 'iam',
    },
  });
  return Number(out.toString().trim());
}
const runs = 15;
coldImportMs('api.mjs');
coldImportMs('sdk.mjs');
const apiCold = median(Array.from({ length: runs }, () => coldImportMs('api.mjs')));
const sdkCold = median(Array.from({ length: runs }, () => coldImportMs('sdk.mjs')));
console.log(
  `cold import + init (median of ${runs}):   api ${apiCold.toFixed(1)} ms; SQS + DynamoDB clients alone ${sdkCold.toFixed(1)} ms; ` +
    `ratio ${(apiCold / sdkCold).toFixed(2)}x (goal <= 1.3x)`,
);
rmSync(dir, { recursive: true, force: true });
