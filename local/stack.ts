import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { systemClock } from '../lib/clock.ts';
import { loadConfig } from '../lib/config.ts';
import { documentClient } from '../lib/deps.ts';
import { ProvisionerError } from '../lib/errors.ts';
import type { StoreDeps } from '../lib/jobs/store.ts';
import { requeueStaleJobs } from '../lib/jobs/sweep.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import type { QueueDeps } from '../lib/queue/producer.ts';
import { CHAT_SINK_PATH, type ChatSink, createChatSink, SLACK_API_PATH } from './chat-sink.ts';
import { type Simulator, simulatorOptionsFromEnv, startSimulator } from './cvm-simulator/index.ts';
import { type Emulators, LOCAL_AWS, localClients, provisionResources, startEmulators } from './emulators.ts';
import { type FunctionSpec, readFunctions } from './functions.ts';
import { createGateway } from './gateway.ts';
import { readStackResources, SERVERLESS_YML } from './resources.ts';
import { type Runtime, startRuntime } from './runtime/index.ts';
import { createWebhookSink, SINK_PATH, type WebhookSink } from './webhook-sink.ts';

export interface LocalStackOptions {
  /** API port; 0 picks a free one. */
  port?: number;
  /** Where DynamoDB keeps its data; null keeps everything in memory (tests). */
  dataDir?: string | null;
  /** The environment to configure from (process.env by default). */
  env?: Record<string, string | undefined>;
  /** Where log lines go, the stack's and the functions' (stdout by default). */
  logSink?: (line: string) => void;
  /** The serverless.yml to run (tests give their own). */
  serverlessYml?: URL | string;
  /** Settings every function gets after the stack's own (a benchmark's counting proxy in front of an emulator). */
  functionEnv?: Readonly<Record<string, string>>;
  /** Simulator port when the stack starts one (SIMULATOR_PORT, 3001 by default; 0 picks a free one). */
  simulatorPort?: number;
}

export interface LocalStack {
  url: string;
  /** The bearer token to use, when the stack made one (API_TOKENS not set). */
  devToken: string | undefined;
  /** The callers token mode knows (`dev`, or the names in API_TOKENS); empty in iam mode. */
  callers: string[];
  tableName: string;
  queueUrls: Record<string, string>;
  emulators: Emulators;
  clients: ReturnType<typeof localClients>;
  /** The simulator the stack started (none when TENCENTCLOUD_ENDPOINT points elsewhere). */
  simulator: Simulator | undefined;
  tencentEndpoint: string;
  runtime: Runtime;
  functions: readonly FunctionSpec[];
  /** The table and submit queue through the stack's own clients (tests and tools reach the jobs with it). */
  deps: StoreDeps & QueueDeps;
  /** The stack's own webhook receiver (`GET /_local/webhooks`); events go there unless DEFAULT_WEBHOOK_URL is set. */
  webhooks: WebhookSink;
  /** Where events go besides each job's own webhookUrl. */
  defaultWebhookUrl: string;
  /** How often the scheduled function runs (POLL_INTERVAL_MS). */
  pollIntervalMs: number;
  /** The stack's stand-in for Slack's response_url and chat.postMessage (`GET /_local/chat`). */
  chat: ChatSink;
  /** The local response_url to put in a test command (the chat sink). */
  chatResponseUrl: string;
  /** Where the Slack signing secret is kept (none when SLACK_SIGNING_SECRET came from the environment). */
  slackSigningSecretFile: string | undefined;
  /** QUEUED jobs from an earlier run whose messages were sent again at start. */
  requeued: number;
  /** Queues serverless.yml defines that no function consumes yet (logical ids). */
  unconsumedQueues: string[];
  stop(): Promise<void>;
}

const STAGE = 'local';
/** The schedule's interval locally (EventBridge's rate is a minute; a laptop wants to see progress). */
const DEFAULT_POLL_INTERVAL_MS = 2000;

/** A random secret kept under the data directory, so it survives restarts (or a fresh one in memory). */
function localSecret(dataDir: string | null, name: string, prefix = ''): string {
  const file = dataDir ? join(dataDir, name) : undefined;
  if (file && existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = `${prefix}${randomBytes(24).toString('base64url')}`;
  if (file) writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** A Standard Webhooks secret (`whsec_` + base64 of 32 random bytes), kept like the other local secrets. */
function localWebhookSecret(dataDir: string | null): string {
  const file = dataDir ? join(dataDir, 'webhook-secret') : undefined;
  if (file && existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  if (file) writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The dev token `npm start` prints when API_TOKENS is not set. */
const devToken = (dataDir: string | null) => localSecret(dataDir, 'dev-token', 'dev_');

/** A failure to start that the user can fix (a port taken, a data directory in use): said in one line. */
export class LocalStackStartError extends ProvisionerError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { expose: true, ...(cause === undefined ? {} : { cause }) });
  }
}

/**
 * Takes the data directory for this process: one DynamoDB store, one writer. A lock left by a process that is
 * gone (killed) is taken over.
 */
function lockDataDir(dataDir: string): () => Promise<void> {
  const file = join(dataDir, 'lock');
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return async () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new LocalStackStartError(
        'DataDirInUse',
        `${dataDir}/ is in use by another local stack (process ${holder}): stop that one first (Ctrl-C in its terminal, or kill ${holder})`,
      );
    }
    rmSync(file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Listens on a loopback port, or says in one line that it is taken and how to choose another. */
async function listen(server: Server, port: number, variable: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new LocalStackStartError(
              'PortInUse',
              `port ${port} is in use (another npm start?): stop it, or choose another port with ${variable}=…`,
              error,
            )
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  return (server.address() as AddressInfo).port;
}

function positiveNumber(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new LocalStackStartError(
      'InvalidSetting',
      `${name} must be a positive whole number (got "${raw}")`,
    );
  return value;
}

/**
 * The whole service on one machine (docs/local-stack.md): DynamoDB (dynalite) and SQS (fauxqs) in-process, the
 * table and queues created from serverless.yml's resources, the CVM simulator, and every function of
 * serverless.yml run by the local runtime with its events — its httpApi routes served on loopback.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const env = { ...(options.env ?? process.env) };
  const dataDir = options.dataDir === undefined ? '.data' : options.dataDir;
  const file = options.serverlessYml ?? SERVERLESS_YML;
  const sink = options.logSink ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logger: Logger = createLogger({ base: { service: 'local-stack' }, sink, level: 'info' });
  const cleanup: Array<() => Promise<void>> = [];
  const undo = async () => {
    for (const step of cleanup.reverse()) {
      // Stop everything that started, even when one part fails to stop.
      await step().catch((error: unknown) =>
        logger.warn('a part of the local stack did not stop cleanly', { error }),
      );
    }
  };
  try {
    const pollIntervalMs = positiveNumber(env, 'POLL_INTERVAL_MS', DEFAULT_POLL_INTERVAL_MS);
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true });
      cleanup.push(lockDataDir(dataDir));
    }
    // The API's port first: a taken port is said before anything else starts (or is re-enqueued).
    let gateway: ReturnType<typeof createGateway> | undefined;
    const webhookSecret = env.WEBHOOK_SECRET || localWebhookSecret(dataDir);
    const webhooks = createWebhookSink(webhookSecret.split(/[\s,]+/).filter(Boolean));
    const chat = createChatSink();
    const server = createServer((req, res) => {
      if (webhooks.handle(req, res) || chat.handle(req, res)) return;
      if (gateway) return void gateway(req, res);
      res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
      res.end(
        JSON.stringify({
          type: 'urn:cvm-provisioner:problem:service-unavailable',
          title: 'Service unavailable',
          status: 503,
          detail: 'The local stack is starting; retry in a moment',
          instance: req.url ?? '/',
          code: 'ServiceUnavailable',
          errors: [],
        }),
      );
    });
    const port = await listen(server, options.port ?? 3000, 'PORT');
    cleanup.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    // Then the simulator's: both ports are said to be taken before anything is created.
    let simulator: Simulator | undefined;
    let tencentEndpoint = env.TENCENTCLOUD_ENDPOINT ?? '';
    const tencentKeys: Record<string, string> = {};
    if (!tencentEndpoint) {
      const { secretId, secretKey, ...simulatorOptions } = simulatorOptionsFromEnv(env);
      const simulatorPort = options.simulatorPort ?? simulatorOptions.port ?? 3001;
      simulator = await startSimulator({ ...simulatorOptions, port: simulatorPort }).catch(
        (error: unknown) => {
          throw (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
            ? new LocalStackStartError(
                'PortInUse',
                `port ${simulatorPort} is in use (another npm start or npm run simulator?): stop it, or choose another port with SIMULATOR_PORT=…`,
                error,
              )
            : error;
        },
      );
      cleanup.push(() => (simulator as Simulator).close());
      tencentEndpoint = simulator.url;
      Object.assign(tencentKeys, {
        TENCENTCLOUD_SECRET_ID: secretId,
        TENCENTCLOUD_SECRET_KEY: secretKey,
        ...(env.SIM_SESSION_TOKEN ? { TENCENTCLOUD_SESSION_TOKEN: env.SIM_SESSION_TOKEN } : {}),
        // Reconciliation waits until the simulator's tags must show: its longest delay, and a second more.
        TAG_VISIBILITY_WINDOW_MS:
          env.TAG_VISIBILITY_WINDOW_MS ||
          String(
            simulator.state.settings.visibilityDelayMs +
              simulator.state.settings.tagDelayMs +
              2 * simulator.state.settings.visibilityJitterMs +
              1000,
          ),
      });
    } else {
      // Another Tencent endpoint: the functions sign with the keys npm start was given.
      if (!env.TENCENTCLOUD_SECRET_ID || !env.TENCENTCLOUD_SECRET_KEY) {
        throw new LocalStackStartError(
          'MissingTencentKeys',
          `TENCENTCLOUD_ENDPOINT is ${tencentEndpoint}, but no keys for it: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (or unset TENCENTCLOUD_ENDPOINT to use the local simulator)`,
        );
      }
      for (const name of [
        'TENCENTCLOUD_SECRET_ID',
        'TENCENTCLOUD_SECRET_KEY',
        'TENCENTCLOUD_SESSION_TOKEN',
      ]) {
        const value = env[name];
        if (value) tencentKeys[name] = value;
      }
    }

    const emulators = await startEmulators(dataDir ? { dataDir: join(dataDir, 'dynamodb') } : {});
    cleanup.push(() => emulators.stop());
    const clients = localClients(emulators);
    cleanup.push(async () => {
      clients.dynamodb.destroy();
      clients.sqs.destroy();
    });
    const resources = readStackResources(STAGE, file);
    const provisioned = await provisionResources(clients, resources);
    const { service, functions } = readFunctions(file);

    const configuredTokens = env.API_TOKENS?.trim() || undefined;
    const token = configuredTokens ? undefined : devToken(dataDir);
    const idempotencySecret = env.IDEMPOTENCY_SECRET || localSecret(dataDir, 'idempotency-secret');
    const apiTokens =
      configuredTokens ??
      `dev:${createHash('sha256')
        .update(token ?? '')
        .digest('hex')}`;
    const defaultWebhookUrl = env.DEFAULT_WEBHOOK_URL || `http://127.0.0.1:${port}${SINK_PATH}`;
    const slackSigningSecret = env.SLACK_SIGNING_SECRET || localSecret(dataDir, 'slack-signing-secret');
    const localEnv: Record<string, string> = {
      AWS_REGION: LOCAL_AWS.region,
      AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodbEndpoint,
      AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint,
      AUTH_MODE: env.AUTH_MODE || 'token',
      API_TOKENS: apiTokens,
      TENCENTCLOUD_ENDPOINT: tencentEndpoint,
      ...tencentKeys,
      IDEMPOTENCY_SECRET: idempotencySecret,
      WEBHOOK_SECRET: webhookSecret,
      DEFAULT_WEBHOOK_URL: defaultWebhookUrl,
      // The sink and any receiver a developer runs are on loopback: the SSRF guard would refuse them.
      WEBHOOK_ALLOW_PRIVATE: env.WEBHOOK_ALLOW_PRIVATE || 'true',
      // Chat: commands signed with the stack's Slack secret, from anyone (a laptop has one user), follow-ups
      // to the chat sink's stand-in for Slack's Web API.
      SLACK_SIGNING_SECRET: slackSigningSecret,
      SLACK_ALLOWED_USERS: env.SLACK_ALLOWED_USERS || '*',
      SLACK_API_URL: env.SLACK_API_URL || `http://127.0.0.1:${port}${SLACK_API_PATH}`,
      ...(env.LOG_LEVEL ? { LOG_LEVEL: env.LOG_LEVEL } : {}),
      ...options.functionEnv,
    };
    const runtime = startRuntime({
      service,
      stage: STAGE,
      functions,
      resolve: { service, stage: STAGE, env, refs: provisioned.refs, arns: provisioned.arns },
      localEnv,
      sqs: clients.sqs,
      queueUrls: provisioned.queueUrls,
      pollIntervalMs,
      logger,
      logSink: sink,
    });
    cleanup.push(() => runtime.stop());

    // SQS lives in memory here while DynamoDB keeps its data: jobs left QUEUED by an earlier run have lost
    // their messages. Send them again now (deployed, the sweep does this every few minutes).
    const deps: StoreDeps & QueueDeps = {
      ddb: documentClient(clients.dynamodb),
      tableName: provisioned.tableName,
      sqs: clients.sqs,
      queueUrl: provisioned.queueUrls.SubmitQueue ?? '',
      now: systemClock,
    };
    const requeued = deps.queueUrl ? await requeueStaleJobs({ ...deps, logger }, { olderThanMs: 0 }) : 0;

    gateway = createGateway(runtime.routes, logger);
    // Dead-letter queues are consumed through their own function; a queue nothing reads is worth saying.
    const unconsumedQueues = resources.queues
      .map((queue) => queue.logicalId)
      .filter((id) => !runtime.consumedQueues.has(id));
    return {
      url: `http://127.0.0.1:${port}`,
      devToken: token,
      callers:
        localEnv.AUTH_MODE === 'token'
          ? [...new Set((loadConfig({ API_TOKENS: apiTokens }).API_TOKENS ?? []).map((entry) => entry.name))]
          : [],
      tableName: provisioned.tableName,
      queueUrls: provisioned.queueUrls,
      emulators,
      clients,
      simulator,
      tencentEndpoint,
      runtime,
      functions,
      deps,
      webhooks,
      defaultWebhookUrl,
      pollIntervalMs,
      chat,
      chatResponseUrl: `http://127.0.0.1:${port}${CHAT_SINK_PATH}/local`,
      slackSigningSecretFile:
        env.SLACK_SIGNING_SECRET || !dataDir ? undefined : join(dataDir, 'slack-signing-secret'),
      requeued,
      unconsumedQueues,
      stop: undo,
    };
  } catch (error) {
    await undo();
    throw error;
  }
}
