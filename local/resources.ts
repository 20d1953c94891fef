import { readFileSync } from 'node:fs';
import type { AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { parse } from 'yaml';

/** The resources of serverless.yml the local stack recreates on the emulators. */
export interface JobsTableDefinition {
  logicalId: string;
  TableName: string;
  BillingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  AttributeDefinitions: AttributeDefinition[];
  KeySchema: KeySchemaElement[];
  GlobalSecondaryIndexes: GlobalSecondaryIndex[];
}

export interface QueueDefinition {
  logicalId: string;
  QueueName: string;
  VisibilityTimeout?: number;
  MessageRetentionPeriod?: number;
  RedrivePolicy?: { deadLetterTarget: string; maxReceiveCount: number };
}

export interface StackResources {
  service: string;
  table: JobsTableDefinition;
  queues: QueueDefinition[];
}

export const SERVERLESS_YML = new URL('../serverless.yml', import.meta.url);

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}

/** Reads serverless.yml and resolves the variables its resource names use (`${self:service}`, `${sls:stage}`). */
export function readStackResources(stage: string, file: URL | string = SERVERLESS_YML): StackResources {
  const document = parse(readFileSync(file, 'utf8')) as {
    service: string;
    resources: { Resources: Record<string, CfnResource> };
  };
  const resolve = (text: string) =>
    text.replace(/\$\{self:service\}/g, document.service).replace(/\$\{sls:stage\}/g, stage);
  const entries = Object.entries(document.resources.Resources);
  const tables = entries.filter(([, r]) => r.Type === 'AWS::DynamoDB::Table');
  if (tables.length !== 1)
    throw new Error(`serverless.yml must define one DynamoDB table, found ${tables.length}`);
  const [tableId, table] = tables[0] as [string, CfnResource];
  const props = table.Properties as Omit<JobsTableDefinition, 'logicalId'>;
  const queues = entries
    .filter(([, r]) => r.Type === 'AWS::SQS::Queue')
    .map(([logicalId, r]): QueueDefinition => {
      const p = r.Properties as Record<string, unknown> & {
        RedrivePolicy?: { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] }; maxReceiveCount: number };
      };
      const queue: QueueDefinition = { logicalId, QueueName: resolve(String(p.QueueName)) };
      if (typeof p.VisibilityTimeout === 'number') queue.VisibilityTimeout = p.VisibilityTimeout;
      if (typeof p.MessageRetentionPeriod === 'number')
        queue.MessageRetentionPeriod = p.MessageRetentionPeriod;
      if (p.RedrivePolicy) {
        queue.RedrivePolicy = {
          deadLetterTarget: p.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0],
          maxReceiveCount: p.RedrivePolicy.maxReceiveCount,
        };
      }
      return queue;
    });
  return {
    service: document.service,
    table: {
      logicalId: tableId,
      TableName: resolve(props.TableName),
      BillingMode: props.BillingMode,
      AttributeDefinitions: props.AttributeDefinitions,
      KeySchema: props.KeySchema,
      GlobalSecondaryIndexes: props.GlobalSecondaryIndexes,
    },
    queues,
  };
}
