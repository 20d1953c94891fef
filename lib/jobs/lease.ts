import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isoTime } from '../clock.ts';
import { applied } from './conditional.ts';
import type { StoreDeps } from './store.ts';
import { leaseKey } from './table.ts';

/**
 * A lease on a piece of scheduled work (docs/job-lifecycle.md, "The poller"): one item, taken with a
 * conditional Put when it is free or its holder's time ran out. EventBridge may start a scheduled run twice or
 * let two overlap; the lease keeps the second from doing the same work. It is an optimisation, not the
 * guarantee: every job write is still conditioned on the job's version, so a run that lost its lease without
 * knowing changes nothing another run changed first.
 */

export interface Lease {
  name: string;
  holder: string;
  expiresAt: string;
}

/** Takes the lease until `expiresAt` (ms), or returns undefined while someone else holds it. */
export async function acquireLease(
  deps: StoreDeps,
  name: string,
  holder: string,
  expiresAt: number,
): Promise<Lease | undefined> {
  const lease = { name, holder, expiresAt: new Date(expiresAt).toISOString() };
  const taken = await applied(
    deps.ddb.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: { ...leaseKey(name), kind: 'lease', ...lease },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
        ExpressionAttributeValues: { ':now': isoTime(deps.now) },
      }),
    ),
  );
  return taken ? lease : undefined;
}

/**
 * Gives the lease back (its time set to now), if this holder still has it: a Put, not a Delete, so the poller
 * needs no right to delete items.
 */
export async function releaseLease(deps: StoreDeps, lease: Lease): Promise<boolean> {
  return applied(
    deps.ddb.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: { ...leaseKey(lease.name), kind: 'lease', ...lease, expiresAt: isoTime(deps.now) },
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeValues: { ':holder': lease.holder },
      }),
    ),
  );
}

/** The lease as stored, or undefined (tests and tools). */
export async function readLease(deps: StoreDeps, name: string): Promise<Lease | undefined> {
  const { Item } = await deps.ddb.send(
    new GetCommand({ TableName: deps.tableName, Key: leaseKey(name), ConsistentRead: true }),
  );
  return Item ? { name, holder: String(Item.holder), expiresAt: String(Item.expiresAt) } : undefined;
}
