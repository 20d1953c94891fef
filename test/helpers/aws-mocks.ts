import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import type { ApiDeps } from '../../lib/api/deps.ts';
import { documentClient } from '../../lib/deps.ts';
import { createLogger } from '../../lib/log.ts';
import { type TestClock, testClock } from './clock.ts';
import { tokenAuth } from './events.ts';
import { sequentialIds } from './jobs.ts';
import { captureLogs, type LogCapture } from './logs.ts';

/** AWS clients faked with aws-sdk-client-mock, for unit tests (no emulator is loaded here). */

/** Clients aimed at a loopback port nobody listens on: a forgotten mock fails fast instead of leaving. */
const UNUSED_ENDPOINT = 'http://127.0.0.1:9';
const OFFLINE_AWS = {
  region: 'us-east-1',
  endpoint: UNUSED_ENDPOINT,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
} as const;

export const TEST_TABLE = 'cvm-provisioner-test-jobs';
export const TEST_QUEUE_URL = 'http://127.0.0.1:9/000000000000/cvm-provisioner-test-submit';

/** ApiDeps with token auth, seed-2017, no policy, a fixed clock and sequential ids; `overrides` replace parts. */
export function apiDeps(overrides: Partial<ApiDeps> = {}): ApiDeps {
  const clock = testClock();
  return {
    ddb: documentClient(new DynamoDBClient(OFFLINE_AWS)),
    sqs: new SQSClient(OFFLINE_AWS),
    tableName: TEST_TABLE,
    queueUrl: TEST_QUEUE_URL,
    now: clock.now,
    newId: sequentialIds(),
    logger: createLogger({ sink: () => {} }),
    profile: 'seed-2017',
    policy: {},
    auth: tokenAuth(),
    ...overrides,
  };
}

/** ApiDeps on aws-sdk-client-mock stubs, with captured logs, a movable clock and an item map behind Put/Get. */
export interface MockedApi {
  deps: ApiDeps;
  ddb: AwsClientStub<DynamoDBDocumentClient>;
  sqs: AwsClientStub<SQSClient>;
  logs: LogCapture;
  clock: TestClock;
  /** What PutCommand stored, by `pk` (no conditions are evaluated; the emulator tests cover those). */
  items: Map<string, Record<string, unknown>>;
}

/**
 * Mocked AWS clients with plain defaults: Put stores the item, Get reads it back, Update/Delete/Query succeed,
 * SendMessage answers a message id. Tests replace a behaviour with `.on(Command)…`.
 */
export function mockedApi(overrides: Partial<ApiDeps> = {}): MockedApi {
  const ddbClient = documentClient(new DynamoDBClient(OFFLINE_AWS));
  const sqsClient = new SQSClient(OFFLINE_AWS);
  const ddb = mockClient(ddbClient);
  const sqs = mockClient(sqsClient);
  const items = new Map<string, Record<string, unknown>>();
  ddb.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
    items.set(String(input.Item.pk), structuredClone(input.Item));
    return {};
  });
  ddb.on(GetCommand).callsFake((input: { Key: { pk: string } }) => {
    const item = items.get(input.Key.pk);
    return item ? { Item: structuredClone(item) } : {};
  });
  ddb.on(UpdateCommand).resolves({});
  ddb.on(DeleteCommand).resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'msg-1' });
  const logs = captureLogs();
  const clock = testClock();
  const deps = apiDeps({ ddb: ddbClient, sqs: sqsClient, logger: logs.logger, now: clock.now, ...overrides });
  return { deps, ddb, sqs, logs, clock, items };
}

/**
 * Errors as the AWS SDK throws them (each with its `$metadata`, as the real ones carry): what a test makes a
 * mocked or sabotaged call fail with.
 */
export const awsErrors = {
  /** The service is down or overloaded (a 5xx): may have been applied, worth retrying. */
  outage: (message = 'Service Unavailable') =>
    Object.assign(new Error(message), {
      name: 'ServiceUnavailable',
      $fault: 'server',
      $metadata: { httpStatusCode: 503, attempts: 2 },
    }),
  /** No answer in time after sending: may have been applied, worth retrying. */
  timeout: (message = 'socket timeout') =>
    Object.assign(new Error(message), {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
      $metadata: { attempts: 1 },
    }),
  /** A 4xx the caller's retry cannot cure (a missing table). */
  missingTable: (message = 'Requested resource not found') =>
    Object.assign(new Error(message), {
      name: 'ResourceNotFoundException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, attempts: 1 },
    }),
  /** A conditional write whose condition failed. */
  conditionFailed: () =>
    new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: { httpStatusCode: 400 },
    }),
};
