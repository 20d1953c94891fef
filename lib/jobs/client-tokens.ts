import { createHash } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ClientTokenInProgressError, ClientTokenInUseError } from '../errors.ts';
import { applied } from './conditional.ts';
import { IN_PROGRESS_LEASE_SECONDS } from './idempotency.ts';
import { getJob, type StoreDeps, settleJobWrite } from './store.ts';
import { clientTokenKey } from './table.ts';

/**
 * How long a reservation protects the request that made it: as long as an Idempotency-Key claim, longer than
 * the API function may run.
 */
const RESERVATION_LEASE_MS = IN_PROGRESS_LEASE_SECONDS * 1000;

/**
 * The reservation key of a token: trimmed and case-folded, so tokens Tencent might treat as one (it documents
 * neither case nor whitespace handling) are reserved as one.
 */
const hashOf = (token: string) => createHash('sha256').update(token.trim().toLowerCase()).digest('hex');

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
    // The holder is not stored. A young reservation may belong to a request still on its way to storing its
    // job (a slow write, SDK retries): that request must not be undone under its feet. Only one older than
    // any request can live is a leftover of a request that failed.
    const age = deps.now() - Date.parse(String(Item.createdAt));
    if (!(age >= RESERVATION_LEASE_MS))
      throw new ClientTokenInProgressError(Math.ceil((RESERVATION_LEASE_MS - Math.max(0, age)) / 1000));
    // A leftover: make sure its job never will be stored, then take the reservation over.
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
