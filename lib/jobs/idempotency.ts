import { createHash } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { epochSeconds, isoTime } from '../clock.ts';
import { IdempotencyInProgressError, IdempotencyMismatchError, InvalidRequestError } from '../errors.ts';
import { applied } from './conditional.ts';
import type { Job } from './model.ts';
import { getJob, type StoreDeps, settleJobWrite } from './store.ts';
import { idempotencyKey } from './table.ts';

/**
 * Idempotency-Key (docs/http-api.md; the IETF httpapi draft): same caller + key + payload answers for the job
 * the first request created; same key with another payload → 422; while the first is still running → 409.
 * A record keeps the job id, not a response, so every channel (HTTP, chat) renders the answer its own way.
 * Records live 24 hours, checked at read time because DynamoDB TTL deletes items days late.
 */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/**
 * How long a claim protects a request in progress: longer than the API function may run (serverless.yml:
 * 25 s), so only a request that is certainly over (crashed, timed out) can be taken over.
 */
export const IN_PROGRESS_LEASE_SECONDS = 30;

/**
 * new: this request owns the key and creates its job. replay: the first request stored its job (the job is
 * accepted once stored); answer for it. recover: an earlier request with this key stored job `jobId` and its
 * lease ran out (it may have crashed before sending the job's message); answer for that job, making sure it is
 * queued, instead of creating another.
 */
export type IdempotencyStart =
  | { kind: 'new'; recordKey: string }
  | { kind: 'replay'; jobId: string; job?: Job }
  | { kind: 'recover'; jobId: string };

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

/**
 * Claims the key for a new request that will create job `jobId`, or tells the caller to replay the first
 * response, or to recover the job an unfinished earlier request stored. Throws the 409 and 422 of the draft.
 * The record names its job from the start, so no crash between storing the job and storing the response can
 * lead a retry to create a second job.
 */
export async function beginIdempotentRequest(
  deps: StoreDeps,
  recordKey: string,
  fingerprint: string,
  jobId: string,
): Promise<IdempotencyStart> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const now = epochSeconds(deps.now);
    const claim = new PutCommand({
      TableName: deps.tableName,
      Item: {
        ...idempotencyKey(recordKey),
        kind: 'idempotency',
        status: 'IN_PROGRESS',
        fingerprint,
        jobId,
        createdAt: isoTime(deps.now),
        expiresAt: now + IDEMPOTENCY_TTL_SECONDS,
        ttl: now + IDEMPOTENCY_TTL_SECONDS,
        leaseExpiresAt: now + IN_PROGRESS_LEASE_SECONDS,
      },
      // A new key, or one whose 24 hours are over (TTL deletes late, so expiry is checked here).
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
      ExpressionAttributeValues: { ':now': now },
    });
    if (await applied(deps.ddb.send(claim))) return { kind: 'new', recordKey };
    const { Item } = await deps.ddb.send(
      new GetCommand({ TableName: deps.tableName, Key: idempotencyKey(recordKey), ConsistentRead: true }),
    );
    if (!Item) continue; // abandoned between our put and our read: claim it again
    if (Item.fingerprint !== fingerprint) throw new IdempotencyMismatchError();
    // Records of an earlier version were marked COMPLETED by a second write once the job was queued.
    if (Item.status === 'COMPLETED') return { kind: 'replay', jobId: String(Item.jobId) };
    const earlier = String(Item.jobId);
    // No lease (never written by this code) counts as held: only a lease seen to run out frees a key.
    if (typeof Item.leaseExpiresAt !== 'number' || Item.leaseExpiresAt > now) {
      // The record names its job from the start, and a stored job is accepted (a lost queue message is sent
      // again by the sweep): the job, once stored, is the answer — no second write marks the record complete.
      // Until then the first request is in flight: 409.
      const job = await getJob(deps, earlier);
      if (job) return { kind: 'replay', jobId: earlier, job };
      throw new IdempotencyInProgressError();
    }
    // The earlier request's lease ran out. If its job was stored, answer for it (and make sure it is queued).
    if ((await settleJobWrite(deps, { jobId: earlier, createdAt: String(Item.createdAt) })) === 'stored') {
      return { kind: 'recover', jobId: earlier };
    }
    const takeOver = new UpdateCommand({
      TableName: deps.tableName,
      Key: idempotencyKey(recordKey),
      UpdateExpression: 'SET jobId = :mine, leaseExpiresAt = :lease, createdAt = :at',
      ConditionExpression: '#status = :inProgress AND jobId = :earlier',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':mine': jobId,
        ':lease': now + IN_PROGRESS_LEASE_SECONDS,
        ':at': isoTime(deps.now),
        ':inProgress': 'IN_PROGRESS',
        ':earlier': earlier,
      },
    });
    if (await applied(deps.ddb.send(takeOver))) return { kind: 'new', recordKey };
  }
  throw new IdempotencyInProgressError();
}

/** Frees the key after a request that accepted nothing (so the caller may retry with the same key). */
export async function abandonIdempotentRequest(deps: StoreDeps, recordKey: string): Promise<void> {
  await applied(
    deps.ddb.send(
      new DeleteCommand({
        TableName: deps.tableName,
        Key: idempotencyKey(recordKey),
        ConditionExpression: '#status = :inProgress',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':inProgress': 'IN_PROGRESS' },
      }),
    ),
  );
}
