import type { Job } from '../jobs/model.ts';
import { callBudget, type Delivery, type SubmitDeps } from './deps.ts';
import { DESCRIBE_PAGE, jobInstancesQuery } from './request.ts';

/** A DescribeInstances is short; it never needs RunInstances' minute. */
export const DESCRIBE_TIMEOUT_MS = 10_000;

export interface Reconciliation {
  /** The ids of the instances tagged with the job id, as DescribeInstances sees them now. */
  found: string[];
  /** Whether "not found" can be trusted: the tag-visibility window after the last uncertain call has passed. */
  trusted: boolean;
  /** When it can be, in ms since the epoch. */
  trustedAt: number;
  /** Whether what was found is all there can be: as many as asked, or the window has passed. */
  complete: boolean;
  /** How many instances the job asked for. */
  wanted: number;
}

/**
 * Looks a job's instances up by its tag (docs/job-lifecycle.md, "Submitting exactly once"): the one lookup
 * that does not depend on how Tencent treats a reused ClientToken. Tags attach to new instances late, so an
 * empty answer means "none" only once `reconcileAfter` plus the tag-visibility window has passed; before that
 * the caller waits. Throws what the Tencent client throws.
 */
export async function reconcile(
  deps: SubmitDeps,
  job: Job,
  reconcileAfter: string,
  delivery: Pick<Delivery, 'remainingMs'>,
): Promise<Reconciliation> {
  const timeoutMs = callBudget(delivery, deps.timeouts?.describeMs ?? DESCRIBE_TIMEOUT_MS);
  const found: string[] = [];
  // Page by page: a job may have more instances than one page holds.
  for (let offset = 0; ; offset += DESCRIBE_PAGE) {
    const response = await deps.tencent.call('DescribeInstances', jobInstancesQuery(job.jobId, offset), {
      region: job.region,
      timeoutMs,
    });
    const set = Array.isArray(response.InstanceSet) ? response.InstanceSet : [];
    for (const instance of set) {
      const id = (instance as { InstanceId?: unknown }).InstanceId;
      if (typeof id === 'string' && !found.includes(id)) found.push(id);
    }
    const total = typeof response.TotalCount === 'number' ? response.TotalCount : 0;
    if (set.length < DESCRIBE_PAGE || offset + DESCRIBE_PAGE >= total) break;
  }
  const trustedAt = Date.parse(reconcileAfter) + deps.tagVisibilityWindowMs;
  const trusted = deps.now() >= trustedAt;
  const wanted = job.request.InstanceCount ?? 1;
  if (trusted && found.length > 0 && found.length !== wanted) {
    // Tencent made fewer (or more) than asked, or tags showed later than the window allows: what exists is
    // recorded, and an operator should know.
    deps.logger.error('the job has another number of instances than it asked for', {
      jobId: job.jobId,
      wanted,
      found: found.length,
    });
  }
  return { found, trusted, trustedAt, complete: found.length >= wanted || trusted, wanted };
}
