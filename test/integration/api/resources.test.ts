import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER_INDEX, NOTIFY_INDEX, PENDING_INDEX } from '../../../lib/jobs/table.ts';
import { provisionResources } from '../../../local/emulators.ts';
import { readStackResources } from '../../../local/resources.ts';
import { type ApiEmulators, startApiEmulators } from '../../helpers/emulators.ts';

const STAGE = 'resources';

describe('readStackResources', () => {
  const resources = readStackResources('test');

  it('names the table after service and stage', () => {
    expect(resources.table.TableName).toBe('cvm-provisioner-test-jobs');
  });

  it('keys the table by pk alone', () => {
    expect(resources.table.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
  });

  it('defines the pending-by-status, pending-notifications and jobs-by-caller GSIs with their keys', () => {
    const keys = Object.fromEntries(
      resources.table.GlobalSecondaryIndexes.map((index) => [
        index.IndexName,
        index.KeySchema?.map((key) => `${key.AttributeName}:${key.KeyType}`),
      ]),
    );
    expect(keys).toEqual({
      [PENDING_INDEX]: ['pendingStatus:HASH', 'pendingSince:RANGE'],
      [NOTIFY_INDEX]: ['notifyPending:HASH', 'notifyAt:RANGE'],
      [CALLER_INDEX]: ['byCaller:HASH', 'createdAt:RANGE'],
    });
  });

  it('defines the submit queue with a redrive policy of 5 receives to the dead-letter queue', () => {
    const submit = resources.queues.find((queue) => queue.logicalId === 'SubmitQueue');
    expect(submit).toMatchObject({
      QueueName: 'cvm-provisioner-test-submit',
      VisibilityTimeout: 540,
      RedrivePolicy: { deadLetterTarget: 'SubmitDeadLetterQueue', maxReceiveCount: 5 },
    });
  });

  it('defines the dead-letter queue without a redrive policy of its own', () => {
    const dlq = resources.queues.find((queue) => queue.logicalId === 'SubmitDeadLetterQueue');
    expect(dlq?.QueueName).toBe('cvm-provisioner-test-submit-dlq');
    expect(dlq?.RedrivePolicy).toBeUndefined();
  });
});

describe('provisionResources on the emulators', () => {
  let env: ApiEmulators;
  beforeAll(async () => {
    env = await startApiEmulators(STAGE);
  });
  afterAll(() => env.stop());

  it('creates the table with its three GSIs', async () => {
    const { Table } = await env.clients.dynamodb.send(new DescribeTableCommand({ TableName: env.tableName }));
    expect(Table?.TableName).toBe(`cvm-provisioner-${STAGE}-jobs`);
    expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual(
      [CALLER_INDEX, NOTIFY_INDEX, PENDING_INDEX].sort(),
    );
  });

  it('gives the submit queue a RedrivePolicy naming the dead-letter queue ARN with maxReceiveCount 5', async () => {
    const dlqUrl = env.queueUrls.SubmitDeadLetterQueue ?? '';
    const { Attributes: dlq } = await env.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
    );
    const { Attributes } = await env.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: env.submitQueueUrl, AttributeNames: ['RedrivePolicy'] }),
    );
    const redrive = JSON.parse(Attributes?.RedrivePolicy ?? '{}') as Record<string, unknown>;
    expect(dlq?.QueueArn).toMatch(/submit-dlq$/);
    expect(redrive.deadLetterTargetArn).toBe(dlq?.QueueArn);
    expect(Number(redrive.maxReceiveCount)).toBe(5);
  });

  it("gives the submit queue a VisibilityTimeout of 540 seconds (6x the submit function's 90 s)", async () => {
    const { Attributes } = await env.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: env.submitQueueUrl, AttributeNames: ['VisibilityTimeout'] }),
    );
    expect(Attributes?.VisibilityTimeout).toBe('540');
  });

  it('gives both queues the 14-day retention of serverless.yml', async () => {
    for (const url of Object.values(env.queueUrls)) {
      const { Attributes } = await env.clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['MessageRetentionPeriod'] }),
      );
      expect(Attributes?.MessageRetentionPeriod).toBe('1209600');
    }
  });

  it('can provision the same resources twice (a restart on kept data)', async () => {
    await expect(provisionResources(env.clients, readStackResources(STAGE))).resolves.toMatchObject({
      tableName: env.tableName,
    });
  });
});
