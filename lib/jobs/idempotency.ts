import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { IdempotencyInProgressError, IdempotencyMismatchError, InvalidRequestError } from '../errors.ts';
import type { StoreDeps } from './store.ts';
import { idempotencyKey } from './table.ts';

/**
 * Idempotency-Key (IETF draft, reference §4.1): same caller + key + payload replays the first response; same key
 * with another payload → 422; while the first is still running → 409. Records live 24 hours, checked at read time
 * because DynamoDB TTL deletes days late (reference §3).
 */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** A request that crashed mid-way frees its key after this; API Gateway gives up on a request after 30 s. */
export const IN_PROGRESS_LEASE_SECONDS = 60;

export interface StoredResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type IdempotencyStart =
  | { kind: 'new'; recordKey: string }
  | { kind: 'replay'; response: StoredResponse };

const KEY_TEXT = /^[\x21-\x7e]{1,255}$/;

/** The key of an `Idempotency-Key` header: a structured-field string (`"…"`) or a bare token. */
export function parseIdempotencyKey(header: string): string {
  const trimmed = header.trim();
  const unquoted =
    trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
  if (!KEY_TEXT.test(unquoted) || unquoted.includes('"')) {
    throw new InvalidRequestError(
      [
        {
          param: 'Idempotency-Key',
          code: 'InvalidParameterValue',
          message: 'must be 1-255 visible ASCII characters',
        },
      ],
      'The Idempotency-Key header is malformed',
    );
  }
  return unquoted;
}

/** The record key: scoped to the caller, hashed so neither the caller nor the key is stored in clear. */
export function idempotencyRecordKey(caller: string, key: string): string {
  return createHash('sha256').update(caller).update('\u0000').update(key).digest('hex');
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * Claims the key for a new request, or tells the caller to replay the first response. Throws the 409 and 422
 * errors of the draft.
 */
export async function beginIdempotentRequest(
  deps: StoreDeps,
  recordKey: string,
  fingerprint: string,
): Promise<IdempotencyStart> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const now = seconds(deps.now());
    try {
      await deps.ddb.send(
        new PutCommand({
          TableName: deps.tableName,
          Item: {
            ...idempotencyKey(recordKey),
            kind: 'idempotency',
            status: 'IN_PROGRESS',
            fingerprint,
            createdAt: deps.now().toISOString(),
            expiresAt: now + IDEMPOTENCY_TTL_SECONDS,
            ttl: now + IDEMPOTENCY_TTL_SECONDS,
            leaseExpiresAt: now + IN_PROGRESS_LEASE_SECONDS,
          },
          // New key, an expired record, or an abandoned in-progress one.
          ConditionExpression:
            'attribute_not_exists(pk) OR expiresAt <= :now OR (#status = :inProgress AND leaseExpiresAt <= :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':now': now, ':inProgress': 'IN_PROGRESS' },
        }),
      );
      return { kind: 'new', recordKey };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const { Item } = await deps.ddb.send(
      new GetCommand({ TableName: deps.tableName, Key: idempotencyKey(recordKey), ConsistentRead: true }),
    );
    if (!Item) continue; // abandoned between our put and our read: claim it again
    if (Item.fingerprint !== fingerprint) throw new IdempotencyMismatchError();
    if (Item.status !== 'COMPLETED') throw new IdempotencyInProgressError();
    return { kind: 'replay', response: Item.response as StoredResponse };
  }
  throw new IdempotencyInProgressError();
}

/** Stores the response to replay for this key. */
export async function completeIdempotentRequest(
  deps: StoreDeps,
  recordKey: string,
  response: StoredResponse,
): Promise<void> {
  await deps.ddb.send(
    new UpdateCommand({
      TableName: deps.tableName,
      Key: idempotencyKey(recordKey),
      UpdateExpression: 'SET #status = :completed, #response = :response REMOVE leaseExpiresAt',
      ConditionExpression: '#status = :inProgress',
      ExpressionAttributeNames: { '#status': 'status', '#response': 'response' },
      ExpressionAttributeValues: {
        ':completed': 'COMPLETED',
        ':inProgress': 'IN_PROGRESS',
        ':response': response,
      },
    }),
  );
}

/** Frees the key after a request that accepted nothing (so the caller may retry with the same key). */
export async function abandonIdempotentRequest(deps: StoreDeps, recordKey: string): Promise<void> {
  try {
    await deps.ddb.send(
      new DeleteCommand({
        TableName: deps.tableName,
        Key: idempotencyKey(recordKey),
        ConditionExpression: '#status = :inProgress',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':inProgress': 'IN_PROGRESS' },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
