import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiDeps } from './api/deps.ts';
import { systemClock } from './clock.ts';
import { type Config, loadConfig, requireSettings } from './config.ts';
import { ConfigError } from './errors.ts';
import { policyFromConfig } from './jobs/policy.ts';
import { createLogger } from './log.ts';
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
