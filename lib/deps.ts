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
export function documentClient(client = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** The API's dependencies from configuration; `overrides` replace parts (the local stack's emulator clients). */
export function createApiDeps(config: Config = loadConfig(), overrides: Partial<ApiDeps> = {}): ApiDeps {
  const settings = requireSettings(config, ['JOBS_TABLE', 'SUBMIT_QUEUE_URL']);
  return {
    ddb: overrides.ddb ?? documentClient(),
    sqs: overrides.sqs ?? new SQSClient({}),
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
