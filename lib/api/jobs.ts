import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  InvalidRequestError,
  JobConflictError,
  JobNotCancellableError,
  NotFoundError,
  type ParamError,
} from '../errors.ts';
import { cancelJob, nothingSent } from '../jobs/lifecycle.ts';
import { JOB_STATUSES, type Job, type JobStatus, type JobView, toJobView } from '../jobs/model.ts';
import type { OutboxDeps } from '../jobs/outbox.ts';
import { getJob, listJobsForCaller, type StoreDeps } from '../jobs/store.ts';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The job, if it exists and belongs to the caller; 404 otherwise (another caller's job is not revealed). */
export async function getJobForCaller(deps: StoreDeps, caller: string, jobId: string): Promise<JobView> {
  return toJobView(await callersJob(deps, caller, jobId));
}

/** The stored job, if it exists and belongs to the caller; the one 404 for a malformed, unknown or foreign id. */
export async function callersJob(deps: StoreDeps, caller: string, jobId: string): Promise<Job> {
  const job = JOB_ID.test(jobId) ? await getJob(deps, jobId) : undefined;
  if (!job || job.requestedBy !== caller) throw new NotFoundError(`No job ${jobId}`);
  return job;
}

/** How often a cancel that lost a race to another write reads the job again and decides anew. */
const CANCEL_TRIES = 3;

/**
 * Cancels the caller's job if nothing was sent to Tencent for it (idempotent: a cancelled job answers as it
 * is); 409 once it was, or may have been. Of a cancel and the submitter's claim, the one whose conditional
 * write lands first wins; the other reads the job again.
 */
export async function cancelJobForCaller(deps: OutboxDeps, caller: string, jobId: string): Promise<JobView> {
  let job = await callersJob(deps, caller, jobId);
  for (let tries = 1; ; tries++) {
    if (job.status === 'CANCELLED') return toJobView(job);
    if (!nothingSent(job, deps.now())) throw new JobNotCancellableError(job.jobId, job.status);
    try {
      return toJobView(await cancelJob(deps, job));
    } catch (error) {
      if (!(error instanceof JobConflictError) || tries >= CANCEL_TRIES) throw error;
      job = await callersJob(deps, caller, jobId);
    }
  }
}

/** A listing's page size, when the caller names none, and the most it may ask for. */
export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;
/** Signs cursors when no IDEMPOTENCY_SECRET is configured (caller isolation holds either way: see below). */
const CURSOR_CONTEXT = 'cvm-provisioner:jobs-cursor';

function cursorMac(secret: string, caller: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(`${caller}\n${payload}`).digest();
}

/**
 * The opaque cursor of a page's end: the index position, signed for this caller. A cursor altered, or made for
 * another caller, is refused (400); and the Query is by the authenticated caller in any case, so no cursor can
 * reach into another caller's listing.
 */
export function encodeCursor(secret: string, caller: string, key: Record<string, unknown>): string {
  const payload = Buffer.from(JSON.stringify(key)).toString('base64url');
  return `${payload}.${cursorMac(secret, caller, payload).toString('base64url')}`;
}

export function decodeCursor(secret: string, caller: string, cursor: string): Record<string, unknown> {
  const refuse = (): never => {
    throw new InvalidRequestError(
      [{ param: 'cursor', code: 'InvalidParameterValue', message: 'is not a cursor this listing gave out' }],
      'The cursor is invalid',
    );
  };
  const [payload = '', mac = '', ...rest] = cursor.split('.');
  if (rest.length || !/^[A-Za-z0-9_-]+$/.test(payload)) return refuse();
  const given = Buffer.from(mac, 'base64url');
  const expected = cursorMac(secret, caller, payload);
  // Buffer's base64 decoding skips characters outside the alphabet, a trailing `=` and the last character's
  // unused bits: only the signature's canonical text is the signature, or an altered cursor would pass.
  if (given.toString('base64url') !== mac) return refuse();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuse();
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return refuse();
  }
  const fields = key as Record<string, unknown>;
  const valid =
    typeof key === 'object' &&
    key !== null &&
    Object.keys(fields).sort().join(',') === 'byCaller,createdAt,pk' &&
    fields.byCaller === caller &&
    typeof fields.createdAt === 'string' &&
    typeof fields.pk === 'string';
  return valid ? fields : refuse();
}

export interface ListQuery {
  status?: string;
  limit?: string;
  createdAfter?: string;
  createdBefore?: string;
  cursor?: string;
}

/** GET /v1/jobs: the caller's jobs, newest first, filtered and paged; every bad parameter listed at once. */
export async function listJobsOfCaller(
  deps: StoreDeps & { fingerprintSecret?: string },
  caller: string,
  query: ListQuery,
): Promise<{ jobs: JobView[]; next: string | null }> {
  const errors: ParamError[] = [];
  const statuses = (query.status ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const status of statuses)
    if (!(JOB_STATUSES as readonly string[]).includes(status))
      errors.push({
        param: 'status',
        code: 'InvalidParameterValue',
        message: `${status.slice(0, 32)} is not a status: use ${JOB_STATUSES.join(', ')}`,
      });
  let limit = DEFAULT_PAGE;
  if (query.limit !== undefined) {
    limit = /^\d{1,3}$/.test(query.limit) ? Number(query.limit) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_PAGE))
      errors.push({
        param: 'limit',
        code: 'InvalidParameterValue.Range',
        message: `must be 1 to ${MAX_PAGE}`,
      });
  }
  const time = (param: 'createdAfter' | 'createdBefore') => {
    const text = query[param];
    if (text === undefined) return undefined;
    const at = Date.parse(text);
    if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}T/.test(text)) {
      errors.push({
        param,
        code: 'InvalidParameterValue',
        message: 'must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z',
      });
      return undefined;
    }
    return new Date(at).toISOString();
  };
  const from = time('createdAfter');
  const to = time('createdBefore');
  if (errors.length) throw new InvalidRequestError(errors, 'The listing parameters are invalid');
  const secret = deps.fingerprintSecret ?? CURSOR_CONTEXT;
  const startKey = query.cursor ? decodeCursor(secret, caller, query.cursor) : undefined;
  const page = await listJobsForCaller(deps, caller, {
    limit,
    ...(startKey ? { startKey } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(statuses.length ? { statuses: statuses as JobStatus[] } : {}),
  });
  return {
    jobs: page.jobs.map((job) => toJobView(job)),
    next: page.next ? encodeCursor(secret, caller, page.next) : null,
  };
}
