import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type Clock, isoTime } from '../clock.ts';
import { JobConflictError, JobExistsError, ProvisionerError } from '../errors.ts';
import { applied } from './conditional.ts';
import { FIXED_FIELDS, type Job, type JobStatus, NO_SUBMISSION_YET, TERMINAL_STATUSES } from './model.ts';
import { CALLER_INDEX, jobKey, NOTIFY_INDEX, NOTIFY_PENDING, PENDING_INDEX } from './table.ts';

export interface StoreDeps {
  ddb: Pick<DynamoDBDocumentClient, 'send'>;
  tableName: string;
  now: Clock;
}

/**
 * Attributes that are the store's bookkeeping, not the job's: the key, the item kind, and the keys of the two
 * sparse indexes (pending work by status; jobs with an event due).
 */
const INTERNAL = [
  'pk',
  'kind',
  'pendingStatus',
  'pendingSince',
  'notifyPending',
  'notifyAt',
  'byCaller',
] as const;

function toItem(job: Job): Record<string, unknown> {
  const item: Record<string, unknown> = {
    ...jobKey(job.jobId),
    kind: 'job',
    byCaller: job.requestedBy,
    ...job,
  };
  if (!TERMINAL_STATUSES.has(job.status)) {
    item.pendingStatus = job.status;
    item.pendingSince = job.updatedAt;
  }
  return item;
}

/** A job from its item; attributes a transition removed (the claim, the password) read as absent or null. */
export function fromItem(item: Record<string, unknown>): Job {
  const job: Record<string, unknown> = {
    ...NO_SUBMISSION_YET,
    events: {},
    chat: null,
    minCount: null,
    rollback: null,
    ...item,
  };
  for (const key of INTERNAL) delete job[key];
  return job as unknown as Job;
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
    Item: { ...jobKey(job.jobId), kind: 'void', jobId: job.jobId, createdAt: isoTime(deps.now) },
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

/** A document path inside the job item (`['request', 'LoginSettings', 'Password']`). */
export type ItemPath = readonly string[];

/** The one path under a fixed field a write may touch: the password, overwritten by its redaction. */
const PASSWORD_PATH = 'request.LoginSettings.Password';

/** Refuses a write to a field fixed at creation (FIXED_FIELDS): no operation may change one. */
function assertChangeable(path: ItemPath): void {
  if ((FIXED_FIELDS as readonly string[]).includes(path[0] ?? '') && path.join('.') !== PASSWORD_PATH)
    throw new ProvisionerError('FixedField', `${path.join('.')} is fixed at creation and cannot be written`);
}

/** One conditional write to a job item: what to set, what to remove, and any condition beyond its version. */
export interface JobWrite {
  set: ReadonlyArray<readonly [ItemPath, unknown]>;
  remove?: readonly ItemPath[];
  /** The job stays in its status but its wait there starts again (`pendingSince` = this write's time). */
  restartWait?: boolean;
  /** Extra condition, ANDed with "the job is still in the status and version it was read at". */
  condition?: { expression: string; values: Record<string, unknown> };
}

/**
 * Applies one write to the job as it was read: a single UpdateItem conditioned on the job's status and
 * version, which it increments. Returns the job as written. A write that lost a race throws JobConflictError
 * naming the job's state now; it is never reported as success and never overwrites the winner.
 * The store's own index keys follow the status written (lib/jobs/table.ts).
 */
export async function writeJob(deps: StoreDeps, job: Job, write: JobWrite): Promise<Job> {
  for (const [path] of write.set) assertChangeable(path);
  for (const path of write.remove ?? []) assertChangeable(path);
  const names: Record<string, string> = { '#status': 'status', '#version': 'version' };
  const values: Record<string, unknown> = {
    ':expectedStatus': job.status,
    ':expectedVersion': job.version,
    ':nextVersion': job.version + 1,
  };
  const nameOf = new Map<string, string>();
  const pathOf = (path: ItemPath) =>
    path
      .map((part) => {
        let alias = nameOf.get(part);
        if (!alias) {
          alias = `#n${nameOf.size}`;
          nameOf.set(part, alias);
          names[alias] = part;
        }
        return alias;
      })
      .join('.');
  const sets = ['#version = :nextVersion'];
  write.set.forEach(([path, value], i) => {
    values[`:v${i}`] = value;
    sets.push(`${pathOf(path)} = :v${i}`);
  });
  const removes = (write.remove ?? []).map(pathOf);
  // The pending index holds only non-terminal jobs, keyed by their status and when they entered it.
  const status = write.set.find(([path]) => path.length === 1 && path[0] === 'status')?.[1] as
    | JobStatus
    | undefined;
  if (status !== undefined && TERMINAL_STATUSES.has(status)) {
    removes.push(pathOf(['pendingStatus']), pathOf(['pendingSince']));
  } else if (status !== undefined && (status !== job.status || write.restartWait)) {
    values[':pendingStatus'] = status;
    values[':pendingSince'] =
      write.set.find(([path]) => path.length === 1 && path[0] === 'updatedAt')?.[1] ?? isoTime(deps.now);
    sets.push(`${pathOf(['pendingStatus'])} = :pendingStatus`, `${pathOf(['pendingSince'])} = :pendingSince`);
  }
  let condition = '#status = :expectedStatus AND #version = :expectedVersion';
  if (write.condition) {
    condition += ` AND (${write.condition.expression})`;
    Object.assign(values, write.condition.values);
  }
  try {
    const { Attributes } = await deps.ddb.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: jobKey(job.jobId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    if (!Attributes)
      throw new ProvisionerError('NoAttributes', `UpdateItem on job ${job.jobId} returned no attributes`);
    return fromItem(Attributes);
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    // dynalite does not return the item on a failed condition (ReturnValuesOnConditionCheckFailure): read it.
    let current: { status: JobStatus; version: number } | null | undefined;
    let readError: unknown;
    try {
      const found = await getJob(deps, job.jobId);
      current = found ? { status: found.status, version: found.version } : null;
    } catch (cause) {
      readError = cause; // the state now is unknown; the conflict itself is certain
    }
    throw new JobConflictError(job.jobId, { status: job.status, version: job.version }, current, readError);
  }
}

/** Reads jobs from a sparse index with one key condition, following LastEvaluatedKey up to `limit` jobs. */
async function queryJobs(
  deps: StoreDeps,
  query: { index: string; condition: string; values: Record<string, unknown> },
  limit: number,
): Promise<Job[]> {
  const found: Job[] = [];
  let startKey: Record<string, unknown> | undefined;
  while (found.length < limit) {
    const page = await deps.ddb.send(
      new QueryCommand({
        TableName: deps.tableName,
        IndexName: query.index,
        KeyConditionExpression: query.condition,
        ExpressionAttributeValues: query.values,
        Limit: Math.min(100, limit - found.length),
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of page.Items ?? []) found.push(fromItem(item));
    startKey = page.LastEvaluatedKey;
    if (!startKey) break;
  }
  return found;
}

/**
 * Jobs in `status` that entered it before `before`, from the sparse pending index (a Query, never a Scan),
 * oldest first, up to `limit` jobs. Index reads are eventually consistent: a job may already have moved on,
 * which its next conditional write finds out.
 */
export function listPendingJobs(
  deps: StoreDeps,
  status: Exclude<JobStatus, 'SUCCEEDED' | 'PARTIALLY_FAILED' | 'FAILED' | 'TIMED_OUT' | 'CANCELLED'>,
  options: { before?: string; limit?: number } = {},
): Promise<Job[]> {
  const before = options.before;
  return queryJobs(
    deps,
    {
      index: PENDING_INDEX,
      condition:
        before === undefined
          ? 'pendingStatus = :status'
          : 'pendingStatus = :status AND pendingSince < :before',
      values: { ':status': status, ...(before === undefined ? {} : { ':before': before }) },
    },
    options.limit ?? 100,
  );
}

/**
 * Jobs with an event whose next delivery attempt is due by `dueBy`, earliest first, from the sparse
 * due-events index (docs/job-lifecycle.md, "Outbox"), up to `limit` jobs.
 */
export function listJobsWithEventsDue(
  deps: StoreDeps,
  dueBy: string,
  options: { limit?: number } = {},
): Promise<Job[]> {
  return queryJobs(
    deps,
    {
      index: NOTIFY_INDEX,
      condition: 'notifyPending = :pending AND notifyAt <= :dueBy',
      values: { ':pending': NOTIFY_PENDING, ':dueBy': dueBy },
    },
    options.limit ?? 100,
  );
}

/** A page of a caller's jobs and where the next page starts (undefined: this was the last). */
export interface CallerJobsPage {
  jobs: Job[];
  next: Record<string, unknown> | undefined;
}

/**
 * The caller's jobs, newest first, from the caller index (a Query, never a Scan): created within
 * [`from`, `to`] when given, in one of `statuses` when given (a filter, so a page may take several Queries),
 * up to `limit`, from `startKey` on.
 */
export async function listJobsForCaller(
  deps: StoreDeps,
  caller: string,
  options: {
    limit: number;
    startKey?: Record<string, unknown>;
    from?: string;
    to?: string;
    statuses?: readonly JobStatus[];
  },
): Promise<CallerJobsPage> {
  const values: Record<string, unknown> = { ':caller': caller };
  let condition = 'byCaller = :caller';
  if (options.from !== undefined && options.to !== undefined) {
    condition += ' AND createdAt BETWEEN :from AND :to';
    Object.assign(values, { ':from': options.from, ':to': options.to });
  } else if (options.from !== undefined) {
    condition += ' AND createdAt >= :from';
    values[':from'] = options.from;
  } else if (options.to !== undefined) {
    condition += ' AND createdAt <= :to';
    values[':to'] = options.to;
  }
  const statuses = options.statuses ?? [];
  statuses.forEach((status, i) => {
    values[`:s${i}`] = status;
  });
  const jobs: Job[] = [];
  let startKey = options.startKey;
  // A filtered listing reads on until its page is full; a bound on the Queries keeps one request short.
  for (let queries = 0; queries < 10 && jobs.length < options.limit; queries++) {
    const page = await deps.ddb.send(
      new QueryCommand({
        TableName: deps.tableName,
        IndexName: CALLER_INDEX,
        KeyConditionExpression: condition,
        ...(statuses.length
          ? {
              FilterExpression: `#status IN (${statuses.map((_, i) => `:s${i}`).join(', ')})`,
              ExpressionAttributeNames: { '#status': 'status' },
            }
          : {}),
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        Limit: options.limit - jobs.length,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of page.Items ?? []) jobs.push(fromItem(item));
    startKey = page.LastEvaluatedKey;
    if (!startKey) break;
  }
  return { jobs, next: startKey };
}
