import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import type { JobsTableDefinition, QueueDefinition, StackResources } from './resources.ts';

/** The emulators' clients need some credentials and a region; neither emulator checks them. */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

export interface Emulators {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  /** Takes DynamoDB away (an outage: connections are refused) while SQS stays up. */
  stopDynamodb(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts dynalite (DynamoDB; on disk under `dataDir` when given, else in memory) and fauxqs (SQS, in memory),
 * both on 127.0.0.1 and port 0 unless told otherwise.
 */
export async function startEmulators(
  options: { dataDir?: string; dynamodbPort?: number; sqsPort?: number } = {},
): Promise<Emulators> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const dynamo = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.dataDir ? { path: options.dataDir } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    dynamo.once('error', reject);
    dynamo.listen(options.dynamodbPort ?? 0, '127.0.0.1', resolve);
  });
  const sqs = await startFauxqs({ port: options.sqsPort ?? 0, host: '127.0.0.1', logger: false });
  let dynamoOpen = true;
  const stopDynamodb = async () => {
    if (!dynamoOpen) return;
    dynamoOpen = false;
    dynamo.closeAllConnections?.();
    await new Promise<void>((resolve) => dynamo.close(() => resolve()));
  };
  return {
    dynamodbEndpoint: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`,
    // fauxqs's queue URLs name a host that does not resolve here: always address it by this endpoint.
    sqsEndpoint: `http://127.0.0.1:${sqs.port}`,
    stopDynamodb,
    stop: async () => {
      await sqs.stop();
      await stopDynamodb();
    },
  };
}

export function localClients(emulators: Pick<Emulators, 'dynamodbEndpoint' | 'sqsEndpoint'>) {
  return {
    dynamodb: new DynamoDBClient({ ...LOCAL_AWS, endpoint: emulators.dynamodbEndpoint }),
    sqs: new SQSClient({ ...LOCAL_AWS, endpoint: emulators.sqsEndpoint }),
  };
}

async function createTable(dynamodb: DynamoDBClient, table: JobsTableDefinition): Promise<void> {
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table.TableName,
        BillingMode: table.BillingMode,
        AttributeDefinitions: table.AttributeDefinitions,
        KeySchema: table.KeySchema,
        GlobalSecondaryIndexes: table.GlobalSecondaryIndexes,
      }),
    );
  } catch (error) {
    // Kept on disk from an earlier run. (dynalite has no TTL: expired idempotency records are skipped at read time.)
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}

async function createQueue(
  sqs: SQSClient,
  queue: QueueDefinition,
  arns: Map<string, string>,
): Promise<string> {
  const attributes: Record<string, string> = {};
  if (queue.VisibilityTimeout !== undefined) attributes.VisibilityTimeout = String(queue.VisibilityTimeout);
  if (queue.MessageRetentionPeriod !== undefined)
    attributes.MessageRetentionPeriod = String(queue.MessageRetentionPeriod);
  if (queue.RedrivePolicy) {
    const target = arns.get(queue.RedrivePolicy.deadLetterTarget);
    if (!target)
      throw new Error(`the dead-letter queue ${queue.RedrivePolicy.deadLetterTarget} must be created first`);
    attributes.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: target,
      maxReceiveCount: queue.RedrivePolicy.maxReceiveCount,
    });
  }
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: queue.QueueName, Attributes: attributes }),
  );
  if (!QueueUrl) throw new Error(`CreateQueue ${queue.QueueName} returned no URL`);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  arns.set(queue.logicalId, Attributes?.QueueArn ?? '');
  return QueueUrl;
}

/** What serverless.yml's `Ref` and `Fn::GetAtt … Arn` mean on the emulators. */
export interface ProvisionedResources {
  tableName: string;
  queueUrls: Record<string, string>;
  /** Logical id → a table's name or a queue's URL. */
  refs: Record<string, string>;
  /** Logical id → ARN. */
  arns: Record<string, string>;
}

/** Creates the table and queues exactly as serverless.yml describes them; returns their names, URLs and ARNs. */
export async function provisionResources(
  clients: ReturnType<typeof localClients>,
  resources: StackResources,
): Promise<ProvisionedResources> {
  await createTable(clients.dynamodb, resources.table);
  const arns = new Map<string, string>([
    [
      resources.table.logicalId,
      `arn:aws:dynamodb:${LOCAL_AWS.region}:000000000000:table/${resources.table.TableName}`,
    ],
  ]);
  const queueUrls: Record<string, string> = {};
  // Dead-letter queues first, so redrive policies can name their ARNs.
  const ordered = [...resources.queues].sort(
    (a, b) => Number(Boolean(a.RedrivePolicy)) - Number(Boolean(b.RedrivePolicy)),
  );
  for (const queue of ordered) queueUrls[queue.logicalId] = await createQueue(clients.sqs, queue, arns);
  return {
    tableName: resources.table.TableName,
    queueUrls,
    refs: { [resources.table.logicalId]: resources.table.TableName, ...queueUrls },
    arns: Object.fromEntries(arns),
  };
}
