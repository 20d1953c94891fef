import { JobConflictError, JobNotCancellableError, NotFoundError } from '../errors.ts';
import { cancelJob, nothingSent } from '../jobs/lifecycle.ts';
import { type Job, type JobView, toJobView } from '../jobs/model.ts';
import type { OutboxDeps } from '../jobs/outbox.ts';
import { getJob, type StoreDeps } from '../jobs/store.ts';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The job, if it exists and belongs to the caller; 404 otherwise (another caller's job is not revealed). */
export async function getJobForCaller(deps: StoreDeps, caller: string, jobId: string): Promise<JobView> {
  return toJobView(await callersJob(deps, caller, jobId));
}

async function callersJob(deps: StoreDeps, caller: string, jobId: string): Promise<Job> {
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
