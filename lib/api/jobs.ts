import { NotFoundError } from '../errors.ts';
import { type JobView, toJobView } from '../jobs/model.ts';
import { getJob, type StoreDeps } from '../jobs/store.ts';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The job, if it exists and belongs to the caller; 404 otherwise (another caller's job is not revealed). */
export async function getJobForCaller(deps: StoreDeps, caller: string, jobId: string): Promise<JobView> {
  const job = JOB_ID.test(jobId) ? await getJob(deps, jobId) : undefined;
  if (!job || job.requestedBy !== caller) throw new NotFoundError(`No job ${jobId}`);
  return toJobView(job);
}
