import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { applied } from './conditional.ts';
import { canTransition, type Job, type JobStatus, TERMINAL_STATUSES } from './model.ts';
import { jobKey, PENDING_INDEX } from './table.ts';

export interface StoreDeps {
  ddb: Pick<DynamoDBDocumentClient, 'send'>;
  tableName: string;
  now: () => Date;
}

/** Attributes that are the store's bookkeeping, not the job's. */
const INTERNAL = ['pk', 'kind', 'pendingStatus', 'pendingSince', 'notifyPending', 'notifyAt'] as const;

function toItem(job: Job): Record<string, unknown> {
  const item: Record<string, unknown> = { ...jobKey(job.jobId), kind: 'job', ...job };
  if (!TERMINAL_STATUSES.has(job.status)) {
    item.pendingStatus = job.status;
    item.pendingSince = job.updatedAt;
  }
  return item;
}

function fromItem(item: Record<string, unknown>): Job {
  const job = { ...item };
  for (const key of INTERNAL) delete job[key];
  return job as unknown as Job;
}

export class JobExistsError extends Error {
  constructor(jobId: string) {
    super(`a different job ${jobId} already exists`);
    this.name = 'JobExistsError';
  }
}

/**
 * Stores a new job; never overwrites one with the same id. If the SDK retried a Put whose first attempt did
 * land (a timeout after the write), the condition fails on our own item: that is success, not a conflict.
 */
export async function createJob(deps: StoreDeps, job: Job): Promise<void> {
  const put = new PutCommand({
    TableName: deps.tableName,
    Item: toItem(job),
    ConditionExpression: 'attribute_not_exists(pk)',
  });
  if (await applied(deps.ddb.send(put))) return;
  const existing = await getJob(deps, job.jobId);
  if (existing?.createdAt !== job.createdAt || existing.requestedBy !== job.requestedBy) {
    throw new JobExistsError(job.jobId);
  }
}

/**
 * Whether a failed AWS call certainly did not take effect: the service answered 4xx (validation, throttling,
 * missing table, denied). Timeouts, dropped connections and 5xx may have been applied.
 */
export function isDefiniteFailure(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500;
}

/**
 * Decides a job write whose outcome is unknown (a timeout after sending): puts a tombstone at the job's key,
 * conditioned on nothing being there. If the tombstone lands, the job was not stored and can never be (its
 * own conditional Put would now fail): 'absent'. If the key is taken by this job, 'stored'. A failure of this
 * call itself propagates, and the outcome stays unknown.
 */
export async function settleJobWrite(
  deps: StoreDeps,
  job: Pick<Job, 'jobId' | 'createdAt'>,
): Promise<'stored' | 'absent'> {
  const tombstone = new PutCommand({
    TableName: deps.tableName,
    Item: { ...jobKey(job.jobId), kind: 'void', jobId: job.jobId, createdAt: deps.now().toISOString() },
    ConditionExpression: 'attribute_not_exists(pk)',
  });
  if (await applied(deps.ddb.send(tombstone))) return 'absent';
  const existing = await getJob(deps, job.jobId);
  if (existing?.createdAt === job.createdAt) return 'stored';
  // Someone else's tombstone (an earlier settle) or no job: either way this job is not stored.
  return 'absent';
}

/** Reads a job (strongly consistent), or undefined. */
export async function getJob(deps: StoreDeps, jobId: string): Promise<Job | undefined> {
  const { Item } = await deps.ddb.send(
    new GetCommand({ TableName: deps.tableName, Key: jobKey(jobId), ConsistentRead: true }),
  );
  return Item && Item.kind === 'job' ? fromItem(Item) : undefined;
}

export class IllegalTransitionError extends Error {
  constructor(from: readonly JobStatus[], to: JobStatus) {
    super(`no transition from ${from.join('|')} to ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

type JobChanges = Partial<Omit<Job, 'jobId' | 'status' | 'version' | 'createdAt' | 'updatedAt'>>;

/**
 * Moves a job from one of `from` to `to`, applying `changes`, as one UpdateItem conditioned on the current
 * status. Returns the updated job, or undefined when the condition failed: another writer got there first,
 * which the caller treats as "someone else did it" (DESIGN §3). `remove` drops attributes (e.g. the password).
 */
export async function transitionJob(
  deps: StoreDeps,
  jobId: string,
  from: readonly JobStatus[],
  to: JobStatus,
  changes: JobChanges = {},
  remove: readonly string[] = [],
): Promise<Job | undefined> {
  // Condition only on the statuses that may make this move: a mixed list must not let SUBMITTED → SUBMITTING.
  const sources = from.filter((status) => canTransition(status, to));
  if (sources.length === 0) throw new IllegalTransitionError(from, to);
  const names: Record<string, string> = {
    '#status': 'status',
    '#updatedAt': 'updatedAt',
    '#version': 'version',
  };
  const values: Record<string, unknown> = { ':to': to, ':now': deps.now().toISOString(), ':one': 1 };
  const sets = ['#status = :to', '#updatedAt = :now', '#version = #version + :one'];
  const removes: string[] = [];
  Object.entries(changes).forEach(([key, value], i) => {
    if (value === undefined) return;
    names[`#c${i}`] = key;
    values[`:c${i}`] = value;
    sets.push(`#c${i} = :c${i}`);
  });
  if (TERMINAL_STATUSES.has(to)) {
    names['#pendingStatus'] = 'pendingStatus';
    names['#pendingSince'] = 'pendingSince';
    removes.push('#pendingStatus', '#pendingSince');
  } else {
    names['#pendingStatus'] = 'pendingStatus';
    names['#pendingSince'] = 'pendingSince';
    sets.push('#pendingStatus = :to', '#pendingSince = :now');
  }
  remove.forEach((path, i) => {
    const parts = path.split('.').map((part, j) => {
      names[`#r${i}_${j}`] = part;
      return `#r${i}_${j}`;
    });
    removes.push(parts.join('.'));
  });
  const fromValues = sources.map((status, i) => {
    values[`:from${i}`] = status;
    return `:from${i}`;
  });
  try {
    const { Attributes } = await deps.ddb.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: jobKey(jobId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: `#status IN (${fromValues.join(', ')})`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes ? fromItem(Attributes) : undefined;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

/**
 * QUEUED jobs whose last write is older than `olderThan`, from the sparse pending index (a Query, never a
 * Scan), oldest first, following LastEvaluatedKey up to `limit` jobs.
 */
export async function listStaleQueuedJobs(
  deps: StoreDeps,
  olderThan: Date,
  limit = 100,
): Promise<Array<Pick<Job, 'jobId'> & { pendingSince: string }>> {
  const found: Array<Pick<Job, 'jobId'> & { pendingSince: string }> = [];
  if (limit <= 0) return found;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.ddb.send(
      new QueryCommand({
        TableName: deps.tableName,
        IndexName: PENDING_INDEX,
        KeyConditionExpression: 'pendingStatus = :queued AND pendingSince < :cutoff',
        ExpressionAttributeValues: { ':queued': 'QUEUED', ':cutoff': olderThan.toISOString() },
        ProjectionExpression: 'jobId, pendingSince',
        Limit: Math.min(100, limit - found.length),
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of page.Items ?? [])
      found.push({ jobId: String(item.jobId), pendingSince: String(item.pendingSince) });
    startKey = page.LastEvaluatedKey;
  } while (startKey && found.length < limit);
  return found;
}

/**
 * Marks a QUEUED job as freshly enqueued (so the sweep does not resend it every run); conditioned on the job
 * still being QUEUED with the `pendingSince` the sweep saw. Returns false when another writer moved it.
 */
export async function touchQueuedJob(
  deps: StoreDeps,
  jobId: string,
  seenPendingSince: string,
): Promise<boolean> {
  return applied(
    deps.ddb.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: jobKey(jobId),
        UpdateExpression: 'SET pendingSince = :now',
        ConditionExpression: '#status = :queued AND pendingSince = :seen',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':now': deps.now().toISOString(),
          ':queued': 'QUEUED',
          ':seen': seenPendingSince,
        },
      }),
    ),
  );
}
