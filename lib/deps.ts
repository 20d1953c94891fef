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
 * The API answers within API Gateway's 30 s and its own 10 s timeout: each AWS call gets a short socket
 * budget, and the SDK's own retries (3 attempts) stay inside it.
 */
const AWS_REQUEST_HANDLER = { connectionTimeout: 1000, requestTimeout: 2500 } as const;

export function documentClient(
  client = new DynamoDBClient({ requestHandler: AWS_REQUEST_HANDLER }),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** The API's dependencies from configuration; `overrides` replace parts (the local stack's emulator clients). */
export function createApiDeps(config: Config = loadConfig(), overrides: Partial<ApiDeps> = {}): ApiDeps {
  const settings = requireSettings(config, ['JOBS_TABLE', 'SUBMIT_QUEUE_URL']);
  return {
    ddb: overrides.ddb ?? documentClient(),
    sqs: overrides.sqs ?? new SQSClient({ requestHandler: AWS_REQUEST_HANDLER }),
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
