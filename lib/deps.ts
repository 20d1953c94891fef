import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiDeps } from './api/deps.ts';
import type { ChatDeps } from './chatops/command.ts';
import { systemClock } from './clock.ts';
import { type Config, loadConfig, requireSettings } from './config.ts';
import { ConfigError } from './errors.ts';
import { DEFAULT_WEBHOOK_TARGET } from './jobs/outbox.ts';
import { policyFromConfig } from './jobs/policy.ts';
import { createLogger } from './log.ts';
import { createSigners } from './notify/payload.ts';
import { createGuardedDispatcher } from './notify/ssrf.ts';
import type { ScheduledRunDeps } from './poll/run.ts';
import type { ConsumerDeps } from './submit/batch.ts';
import type { SubmitDeps } from './submit/deps.ts';
import { createPacer, type Pacer, pacersByKey } from './submit/pacer.ts';
import { createTencentClient, type TencentClient, type TencentClientOptions } from './tencent/client.ts';
import {
  type CredentialsProvider,
  secretsManagerCredentials,
  staticCredentials,
} from './tencent/credentials.ts';

/**
 * The composition root (docs/architecture.md): the only module that reads configuration and builds clients.
 * AWS clients, the Tencent client, the logger, the clock and the id source are built once per Lambda container
 * (module scope of the handler) and passed down. AWS endpoints come from the SDK's own AWS_ENDPOINT_URL_*
 * variables.
 */

/**
 * Short socket budgets and two attempts per AWS call. `throwOnRequestTimeout`: without it the SDK only warns
 * when a request outlives `requestTimeout` and goes on waiting, so a hung connection would hold the request
 * until the function's own timeout. With it, a call gives up within about 2 s a try; accepting a job makes a
 * handful in a row (claim, reserve, put, settle, send, complete; the idempotency and ClientToken steps may
 * repeat theirs), well inside the API function's 25 s (serverless.yml). A request cut short there is safe: its
 * Idempotency-Key record names its job, and an unsettled job write is settled by the retry.
 */
const AWS_REQUEST_HANDLER = {
  connectionTimeout: 500,
  requestTimeout: 1500,
  throwOnRequestTimeout: true,
} as const;
const AWS_MAX_ATTEMPTS = 2;

export function documentClient(
  client = new DynamoDBClient({ requestHandler: AWS_REQUEST_HANDLER, maxAttempts: AWS_MAX_ATTEMPTS }),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * An SQS client that sends to its configured endpoint (the region's, or AWS_ENDPOINT_URL_SQS), not to the
 * host a queue URL names: deployed the two are the same, and locally fauxqs names hosts that do not resolve.
 */
export function sqsClient(): SQSClient {
  return new SQSClient({
    requestHandler: AWS_REQUEST_HANDLER,
    maxAttempts: AWS_MAX_ATTEMPTS,
    useQueueUrlAsEndpoint: false,
  });
}

/** The API's dependencies from configuration; `overrides` replace parts (tests). */
export function createApiDeps(config: Config = loadConfig(), overrides: Partial<ApiDeps> = {}): ApiDeps {
  const settings = requireSettings(config, ['JOBS_TABLE', 'SUBMIT_QUEUE_URL']);
  return {
    ddb: overrides.ddb ?? documentClient(),
    sqs: overrides.sqs ?? sqsClient(),
    tableName: settings.JOBS_TABLE,
    queueUrl: settings.SUBMIT_QUEUE_URL,
    logger: createLogger({ level: config.LOG_LEVEL, base: { service: 'api' } }),
    now: systemClock,
    newId: randomUUID,
    profile: config.VALIDATION_PROFILE,
    ...(config.EXTRA_ZONES ? { extraZones: config.EXTRA_ZONES } : {}),
    ...(config.IDEMPOTENCY_SECRET ? { fingerprintSecret: config.IDEMPOTENCY_SECRET } : {}),
    policy: policyFromConfig(config),
    auth: config.AUTH_MODE === 'token' ? { mode: 'token', tokens: config.API_TOKENS ?? [] } : { mode: 'iam' },
    ...overrides,
  };
}

/**
 * The chat endpoint's dependencies: what accepting a job needs (no Tencent client: the chat path never calls
 * Tencent) and the platforms' secrets and allowlists.
 */
export function createChatDeps(config: Config = loadConfig(), overrides: Partial<ChatDeps> = {}): ChatDeps {
  const { auth: _auth, ...accept } = createApiDeps(config);
  return {
    ...accept,
    logger: createLogger({ level: config.LOG_LEVEL, base: { service: 'chatops' } }),
    chat: {
      ...(config.SLACK_SIGNING_SECRET ? { slackSigningSecret: config.SLACK_SIGNING_SECRET } : {}),
      ...(config.MATTERMOST_TOKEN ? { mattermostToken: config.MATTERMOST_TOKEN } : {}),
      allowedUsers: config.SLACK_ALLOWED_USERS ?? [],
      ...(config.SLACK_ALLOWED_TEAMS ? { allowedTeams: config.SLACK_ALLOWED_TEAMS } : {}),
      ...(config.SLACK_ALLOWED_CHANNELS ? { allowedChannels: config.SLACK_ALLOWED_CHANNELS } : {}),
      allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    },
    ...overrides,
  };
}

/** Tencent credentials from the environment's keys, else from the named Secrets Manager secret. */
export function tencentCredentials(config: Config): CredentialsProvider {
  if (config.TENCENTCLOUD_SECRET_ID && config.TENCENTCLOUD_SECRET_KEY) {
    return staticCredentials(
      config.TENCENTCLOUD_SECRET_ID,
      config.TENCENTCLOUD_SECRET_KEY,
      config.TENCENTCLOUD_SESSION_TOKEN,
    );
  }
  if (config.TENCENTCLOUD_CREDENTIALS_SECRET) {
    return secretsManagerCredentials({
      client: new SecretsManagerClient({
        requestHandler: AWS_REQUEST_HANDLER,
        maxAttempts: AWS_MAX_ATTEMPTS,
      }),
      secretName: config.TENCENTCLOUD_CREDENTIALS_SECRET,
    });
  }
  throw new ConfigError([
    'Tencent credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or TENCENTCLOUD_CREDENTIALS_SECRET',
  ]);
}

/** The Tencent client the configuration describes. */
export function createTencentClientFromConfig(
  config: Config,
  overrides: Partial<TencentClientOptions> = {},
): TencentClient {
  return createTencentClient({
    ...(config.TENCENTCLOUD_ENDPOINT ? { endpoint: config.TENCENTCLOUD_ENDPOINT } : {}),
    signMethod: config.TENCENTCLOUD_SIGN_METHOD,
    credentials: tencentCredentials(config),
    language: 'en-US',
    ...overrides,
  });
}

/**
 * What the submit queue's consumer, the dead-letter consumer and the sweep need: the store, the Tencent client,
 * a pacer per region, and the queue each works on (`queue`: the setting that names it).
 */
function queueWorkerDeps(
  config: Config,
  service: string,
  queue: 'SUBMIT_QUEUE_URL' | 'SUBMIT_DLQ_URL',
  overrides: Partial<SubmitDeps & ConsumerDeps>,
): SubmitDeps & ConsumerDeps {
  const settings = requireSettings(config, ['JOBS_TABLE', queue]);
  // Every submitter paces its own calls; at most SUBMIT_MAX_CONCURRENCY run at once (serverless.yml), so
  // together they stay under SUBMIT_RATE_PER_SECOND per region.
  const ratePerSecond = config.SUBMIT_RATE_PER_SECOND / config.SUBMIT_MAX_CONCURRENCY;
  return {
    ddb: documentClient(),
    tableName: settings.JOBS_TABLE,
    now: systemClock,
    tencent: createTencentClientFromConfig(config),
    logger: createLogger({ level: config.LOG_LEVEL, base: { service } }),
    pacer: pacerPerLimit(config, ratePerSecond),
    tagVisibilityWindowMs: config.TAG_VISIBILITY_WINDOW_MS,
    sqs: sqsClient(),
    queueUrl: settings[queue],
    eventTargets: configuredTargets(config),
    ...overrides,
  };
}

/** The targets every event goes to besides the job's own webhookUrl. */
function configuredTargets(config: Config): string[] {
  return config.DEFAULT_WEBHOOK_URL ? [DEFAULT_WEBHOOK_TARGET] : [];
}

type WorkerDeps = SubmitDeps & ConsumerDeps;

/**
 * One pacer per rate-limit bucket, by region. Tencent counts an action's calls per front door the request
 * reaches (docs/tencent.md, "Rate limits"): each region's own host is its own bucket, but one
 * TENCENTCLOUD_ENDPOINT (the simulator, a proxy) is one bucket for every region.
 */
function pacerPerLimit(config: Config, ratePerSecond: number): (region: string) => Pacer {
  const pacers = pacersByKey(() => createPacer({ ratePerSecond }));
  return config.TENCENTCLOUD_ENDPOINT ? () => pacers(config.TENCENTCLOUD_ENDPOINT as string) : pacers;
}

/** The submit queue's consumer: jobs from SUBMIT_QUEUE_URL to Tencent. */
export const createSubmitDeps = (config: Config = loadConfig(), overrides: Partial<WorkerDeps> = {}) =>
  queueWorkerDeps(config, 'submit', 'SUBMIT_QUEUE_URL', overrides);

/** The dead-letter queue's consumer: settles jobs whose messages ran out of receives. */
export const createDeadLetterDeps = (config: Config = loadConfig(), overrides: Partial<WorkerDeps> = {}) =>
  queueWorkerDeps(config, 'dead-letter', 'SUBMIT_DLQ_URL', overrides);

/**
 * The scheduled run: the sweep (it sends to the submit queue), the poller and the notifier. Without
 * WEBHOOK_SECRET the sweep and the poller still run; no event goes out unsigned, so events stay due (and the
 * notifier says so in every run) until it is set.
 */
export function createScheduledDeps(
  config: Config = loadConfig(),
  overrides: Partial<ScheduledRunDeps> = {},
): ScheduledRunDeps {
  const describeRate = config.DESCRIBE_RATE_PER_SECOND;
  return {
    ...queueWorkerDeps(config, 'poll', 'SUBMIT_QUEUE_URL', {}),
    newId: randomUUID,
    describePacer: pacerPerLimit(config, describeRate),
    jobTimeoutMs: config.JOB_TIMEOUT_SECONDS * 1000,
    visibilityGraceMs: config.INSTANCE_VISIBILITY_GRACE_MS,
    dispatcher: createGuardedDispatcher({ allowPrivate: config.WEBHOOK_ALLOW_PRIVATE }),
    signers: createSigners(config.WEBHOOK_SECRET ?? []),
    targetUrls: config.DEFAULT_WEBHOOK_URL ? { [DEFAULT_WEBHOOK_TARGET]: config.DEFAULT_WEBHOOK_URL } : {},
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    concurrency: config.WEBHOOK_CONCURRENCY,
    retrySchedule: config.WEBHOOK_RETRY_SCHEDULE,
    chatFollowUps: {
      slackApiUrl: config.SLACK_API_URL,
      ...(config.SLACK_BOT_TOKEN ? { slackBotToken: config.SLACK_BOT_TOKEN } : {}),
    },
    ...overrides,
  };
}
