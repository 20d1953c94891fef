import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ApiDeps } from '../lib/api/deps.ts';
import { createApiHandler } from '../lib/api/handler.ts';
import { ROUTES } from '../lib/api/router.ts';
import { loadConfig } from '../lib/config.ts';
import { createApiDeps, documentClient } from '../lib/deps.ts';
import { requeueStaleJobs } from '../lib/jobs/sweep.ts';
import { createLogger } from '../lib/log.ts';
import { type Emulators, localClients, provisionResources, startEmulators } from './emulators.ts';
import { createGateway } from './gateway.ts';
import { readStackResources } from './resources.ts';

export interface LocalStackOptions {
  /** API port; 0 picks a free one. */
  port?: number;
  /** Where DynamoDB keeps its data; null keeps everything in memory (tests). */
  dataDir?: string | null;
  /** The environment to configure from (process.env by default); the stack adds its own resources to it. */
  env?: Record<string, string | undefined>;
  /** Where log lines go (stdout by default). */
  logSink?: (line: string) => void;
}

export interface LocalStack {
  url: string;
  /** The bearer token to use, when the stack made one (API_TOKENS not set). */
  devToken: string | undefined;
  tableName: string;
  queueUrls: Record<string, string>;
  emulators: Emulators;
  clients: ReturnType<typeof localClients>;
  apiDeps: ApiDeps;
  /** QUEUED jobs from an earlier run whose messages were sent again at start. */
  requeued: number;
  stop(): Promise<void>;
}

const STAGE = 'local';
/** The API function's timeout in serverless.yml. */
const API_TIMEOUT_MS = 10_000;

/** A dev token kept under the data directory, so it survives restarts (or a fresh one in memory). */
function devToken(dataDir: string | null): string {
  const file = dataDir ? join(dataDir, 'dev-token') : undefined;
  if (file && existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = `dev_${randomBytes(24).toString('base64url')}`;
  if (file) writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/**
 * The whole service on one machine (DESIGN §4 "Local stack"): DynamoDB (dynalite) and SQS (fauxqs) in-process,
 * the table and queues created from serverless.yml, and the API served on loopback through an API Gateway
 * stand-in that calls the real handler.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const dataDir = options.dataDir === undefined ? '.data' : options.dataDir;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const emulators = await startEmulators(dataDir ? { dataDir: join(dataDir, 'dynamodb') } : {});
  const clients = localClients(emulators);
  const resources = readStackResources(STAGE);
  const { tableName, queueUrls } = await provisionResources(clients, resources);
  const submitQueueUrl = queueUrls.SubmitQueue;
  if (!submitQueueUrl) throw new Error('serverless.yml defines no SubmitQueue');

  const env = { ...(options.env ?? process.env) };
  const token = env.API_TOKENS ? undefined : devToken(dataDir);
  const config = loadConfig({
    ...env,
    JOBS_TABLE: tableName,
    SUBMIT_QUEUE_URL: submitQueueUrl,
    AUTH_MODE: env.AUTH_MODE ?? 'token',
    API_TOKENS:
      env.API_TOKENS ??
      `dev:${createHash('sha256')
        .update(token ?? '')
        .digest('hex')}`,
  });
  const logger = createLogger({
    level: config.LOG_LEVEL,
    base: { service: 'api' },
    ...(options.logSink ? { sink: options.logSink } : {}),
  });
  const apiDeps = createApiDeps(config, { ddb: documentClient(clients.dynamodb), sqs: clients.sqs, logger });
  // SQS lives in memory here while DynamoDB keeps its data: jobs left QUEUED by an earlier run have lost their
  // messages. Send them again now (the poller's sweep does this every minute once it exists).
  const requeued = await requeueStaleJobs({ ...apiDeps, logger }, { olderThanMs: 0, limit: 1000 });
  const api = createApiHandler(apiDeps);
  const gateway = createGateway(
    [
      { routeKey: ROUTES.runInstances, handler: api, timeoutMs: API_TIMEOUT_MS },
      { routeKey: ROUTES.getJob, handler: api, timeoutMs: API_TIMEOUT_MS },
    ],
    `${resources.service}-${STAGE}`,
  );
  const server = createServer((req, res) => {
    void gateway(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    devToken: token,
    tableName,
    queueUrls,
    emulators,
    clients,
    apiDeps,
    requeued,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      clients.dynamodb.destroy();
      clients.sqs.destroy();
      await emulators.stop();
    },
  };
}
