import { JOB_TAG_KEY, type Job } from '../jobs/model.ts';

/**
 * The RunInstances parameters of a job: its stored request (normalized at acceptance, with its fixed
 * ClientToken) plus the instance tag that names the job. A pure function of the stored job, so every attempt
 * sends the same business parameters byte for byte. The tag goes on the first `instance` TagSpecification, or
 * in one of its own; the validation profile governs what callers send, not what the submitter adds
 * (docs/job-lifecycle.md, "Submitting exactly once").
 */
export function runInstancesParams(job: Pick<Job, 'jobId' | 'request'>): Record<string, unknown> {
  return canonical(withJobTag(job)) as Record<string, unknown>;
}

/**
 * The same value with every object's members in code-point order: DynamoDB keeps no order for a map's members,
 * so the request read back may list them otherwise than it was written; sorted, the bytes sent are the same.
 */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== 'object' || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort())
    sorted[key] = canonical((value as Record<string, unknown>)[key]);
  return sorted;
}

function withJobTag(job: Pick<Job, 'jobId' | 'request'>): Record<string, unknown> {
  const tag = { Key: JOB_TAG_KEY, Value: job.jobId };
  const specs = job.request.TagSpecification ?? [];
  const first = specs.findIndex((spec) => spec.ResourceType === 'instance');
  const TagSpecification =
    first === -1
      ? [...specs, { ResourceType: 'instance', Tags: [tag] }]
      : specs.map((spec, i) => (i === first ? { ...spec, Tags: [...spec.Tags, tag] } : spec));
  return { ...job.request, TagSpecification };
}

/** DescribeInstances answers at most this many instances a page. */
export const DESCRIBE_PAGE = 100;

/** DescribeInstances parameters that find a job's instances by their tag, one page from `offset`. */
export function jobInstancesQuery(jobId: string, offset = 0): Record<string, unknown> {
  return { Filters: [{ Name: `tag:${JOB_TAG_KEY}`, Values: [jobId] }], Offset: offset, Limit: DESCRIBE_PAGE };
}
