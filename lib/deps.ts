import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiDeps } from './api/deps.ts';
import { type Config, loadConfig, requireSettings } from './config.ts';
import { createLogger } from './log.ts';

/**
 * The composition root: AWS clients, logger, clock and id source, built once per Lambda container (module
 * scope of the handler) and passed down. Endpoints come from the SDK's own AWS_ENDPOINT_URL_* variables.
 */
/**
 * Short socket budgets and two attempts per AWS call: a request makes at most six calls in a row (claim,
 * reserve, put, settle, send, complete), which stays near 25 s even when every one times out twice — the API
 * function's timeout (serverless.yml). A request cut short there is safe: its Idempotency-Key record names
 * its job, and an unsettled job write is settled by the retry.
 */
const AWS_REQUEST_HANDLER = { connectionTimeout: 500, requestTimeout: 1500 } as const;
const AWS_MAX_ATTEMPTS = 2;

export function documentClient(
  client = new DynamoDBClient({ requestHandler: AWS_REQUEST_HANDLER, maxAttempts: AWS_MAX_ATTEMPTS }),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** The API's dependencies from configuration; `overrides` replace parts (the local stack's emulator clients). */
export function createApiDeps(config: Config = loadConfig(), overrides: Partial<ApiDeps> = {}): ApiDeps {
  const settings = requireSettings(config, ['JOBS_TABLE', 'SUBMIT_QUEUE_URL']);
  return {
    ddb: overrides.ddb ?? documentClient(),
    sqs:
      overrides.sqs ?? new SQSClient({ requestHandler: AWS_REQUEST_HANDLER, maxAttempts: AWS_MAX_ATTEMPTS }),
    tableName: settings.JOBS_TABLE,
    queueUrl: settings.SUBMIT_QUEUE_URL,
    logger: createLogger({ level: config.LOG_LEVEL, base: { service: 'api' } }),
    now: () => new Date(),
    newId: randomUUID,
    profile: config.VALIDATION_PROFILE,
    policy: {
      ...(config.ALLOWED_ZONES ? { allowedZones: config.ALLOWED_ZONES } : {}),
      ...(config.ALLOWED_INSTANCE_TYPES ? { allowedInstanceTypes: config.ALLOWED_INSTANCE_TYPES } : {}),
      ...(config.MAX_INSTANCES_PER_JOB ? { maxInstancesPerJob: config.MAX_INSTANCES_PER_JOB } : {}),
    },
    auth: config.AUTH_MODE === 'token' ? { mode: 'token', tokens: config.API_TOKENS ?? [] } : { mode: 'iam' },
    ...overrides,
  };
}
