import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiDeps } from '../../lib/api/deps.ts';
import { documentClient } from '../../lib/deps.ts';
import { PENDING_INDEX } from '../../lib/jobs/table.ts';
import { type Emulators, localClients, provisionResources, startEmulators } from '../../local/emulators.ts';
import { readStackResources } from '../../local/resources.ts';
import { apiDeps } from './aws-mocks.ts';
import { testClock } from './clock.ts';
import { captureLogs } from './logs.ts';

/** The embedded DynamoDB (dynalite) and SQS (fauxqs) with serverless.yml's resources, for integration tests. */

/** One stage's resources on the emulators: its table and queues, and clients to reach them. */
export interface ApiStack {
  ddb: DynamoDBDocumentClient;
  sqs: SQSClient;
  tableName: string;
  queueUrls: Record<string, string>;
  submitQueueUrl: string;
}

/** The ids of the QUEUED jobs of a table, read from the sparse pending index. */
export async function queuedJobIds(stack: ApiStack): Promise<string[]> {
  const { Items = [] } = await stack.ddb.send(
    new QueryCommand({
      TableName: stack.tableName,
      IndexName: PENDING_INDEX,
      KeyConditionExpression: 'pendingStatus = :queued',
      ExpressionAttributeValues: { ':queued': 'QUEUED' },
    }),
  );
  return Items.map((item) => String(item.jobId));
}

/** Emulators for one test file: dynalite and fauxqs on loopback port 0, resources from serverless.yml. */
export interface ApiEmulators extends ApiStack {
  emulators: Emulators;
  clients: ReturnType<typeof localClients>;
  /** Creates another stage's table and queues (for tests that need an empty table or queue). */
  provision(stage: string): Promise<ApiStack>;
  stop(): Promise<void>;
}

export async function startApiEmulators(stage: string): Promise<ApiEmulators> {
  const emulators = await startEmulators();
  const clients = localClients(emulators);
  const ddb = documentClient(clients.dynamodb);
  const provision = async (name: string): Promise<ApiStack> => {
    const { tableName, queueUrls } = await provisionResources(clients, readStackResources(name));
    const submitQueueUrl = queueUrls.SubmitQueue;
    if (!submitQueueUrl) throw new Error('serverless.yml defines no SubmitQueue');
    return { ddb, sqs: clients.sqs, tableName, queueUrls, submitQueueUrl };
  };
  return {
    ...(await provision(stage)),
    emulators,
    clients,
    provision,
    stop: async () => {
      clients.dynamodb.destroy();
      clients.sqs.destroy();
      await emulators.stop();
    },
  };
}

/** ApiDeps on the emulators (real table and queue), with captured logs and a movable clock. */
export function emulatorApi(stack: ApiStack, overrides: Partial<ApiDeps> = {}) {
  const logs = captureLogs();
  const clock = testClock();
  const deps = apiDeps({
    ddb: stack.ddb,
    sqs: stack.sqs,
    tableName: stack.tableName,
    queueUrl: stack.submitQueueUrl,
    logger: logs.logger,
    now: clock.now,
    newId: randomUUID,
    ...overrides,
  });
  return { deps, logs, clock };
}

/** Receives (and deletes) every message visible on a queue right now; returns their bodies. */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return bodies;
    for (const message of Messages) {
      bodies.push(message.Body ?? '');
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}
