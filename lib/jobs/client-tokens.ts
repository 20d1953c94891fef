import { createHash } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ClientTokenInUseError } from '../errors.ts';
import { applied } from './conditional.ts';
import { getJob, type StoreDeps, settleJobWrite } from './store.ts';
import { clientTokenKey } from './table.ts';

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Reserves a caller-chosen ClientToken for a job. Tencent scopes tokens to the account, and every caller of
 * this service shares that account, so the reservation is global. A reservation whose job was never stored
 * (a request that failed) is taken over; one whose job exists refuses the request with 409.
 */
export async function reserveClientToken(
  deps: StoreDeps,
  token: string,
  jobId: string,
  createdAt: string,
): Promise<void> {
  const key = clientTokenKey(hashOf(token));
  for (let attempt = 0; attempt < 3; attempt++) {
    const reserve = new PutCommand({
      TableName: deps.tableName,
      Item: { ...key, kind: 'client-token', jobId, createdAt },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    if (await applied(deps.ddb.send(reserve))) return;
    const { Item } = await deps.ddb.send(
      new GetCommand({ TableName: deps.tableName, Key: key, ConsistentRead: true }),
    );
    if (!Item) continue;
    const holder = String(Item.jobId);
    if (holder === jobId) return;
    if (await getJob(deps, holder)) throw new ClientTokenInUseError();
    // The holder was never stored: make sure it never will be, then take the reservation over.
    if ((await settleJobWrite(deps, { jobId: holder, createdAt: String(Item.createdAt) })) === 'stored') {
      throw new ClientTokenInUseError();
    }
    const takeOver = new UpdateCommand({
      TableName: deps.tableName,
      Key: key,
      UpdateExpression: 'SET jobId = :mine, createdAt = :at',
      ConditionExpression: 'jobId = :holder',
      ExpressionAttributeValues: { ':mine': jobId, ':at': createdAt, ':holder': holder },
    });
    if (await applied(deps.ddb.send(takeOver))) return;
  }
  throw new ClientTokenInUseError();
}

/** Gives a reservation back after the job was certainly not stored. */
export async function releaseClientToken(deps: StoreDeps, token: string, jobId: string): Promise<void> {
  await applied(
    deps.ddb.send(
      new DeleteCommand({
        TableName: deps.tableName,
        Key: clientTokenKey(hashOf(token)),
        ConditionExpression: 'jobId = :mine',
        ExpressionAttributeValues: { ':mine': jobId },
      }),
    ),
  );
}
