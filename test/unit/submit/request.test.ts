import { describe, expect, it } from 'vitest';
import { JOB_TAG_KEY } from '../../../lib/jobs/model.ts';
import { jobInstancesQuery, runInstancesParams } from '../../../lib/submit/request.ts';
import { jobIn } from '../../helpers/jobs.ts';

describe('runInstancesParams', () => {
  it('is the stored request with its ClientToken and an instance TagSpecification naming the job', () => {
    const job = jobIn('SUBMITTING');
    expect(runInstancesParams(job)).toEqual({
      ...job.request,
      TagSpecification: [{ ResourceType: 'instance', Tags: [{ Key: JOB_TAG_KEY, Value: job.jobId }] }],
    });
    expect(runInstancesParams(job).ClientToken).toBe(job.clientToken);
  });

  it("adds the tag to the caller's first instance spec and leaves the others as they are", () => {
    const job = jobIn('SUBMITTING');
    job.request = {
      ...job.request,
      TagSpecification: [
        { ResourceType: 'keypair', Tags: [{ Key: 'k', Value: '1' }] },
        { ResourceType: 'instance', Tags: [{ Key: 'team', Value: 'web' }] },
        { ResourceType: 'instance', Tags: [{ Key: 'env', Value: 'prod' }] },
      ],
    };
    expect(runInstancesParams(job).TagSpecification).toEqual([
      { ResourceType: 'keypair', Tags: [{ Key: 'k', Value: '1' }] },
      {
        ResourceType: 'instance',
        Tags: [
          { Key: 'team', Value: 'web' },
          { Key: JOB_TAG_KEY, Value: job.jobId },
        ],
      },
      { ResourceType: 'instance', Tags: [{ Key: 'env', Value: 'prod' }] },
    ]);
  });

  it('gives the same bytes on every attempt and leaves the stored request untouched', () => {
    const job = jobIn('SUBMITTING');
    const before = JSON.stringify(job.request);
    const first = JSON.stringify(runInstancesParams(job));
    const again = JSON.stringify(runInstancesParams(structuredClone({ ...job, attempts: 4, version: 9 })));
    expect(again).toBe(first);
    expect(JSON.stringify(job.request)).toBe(before);
  });
});

describe('jobInstancesQuery', () => {
  it('filters by the job tag and asks for a full page (Limit defaults to 20 otherwise)', () => {
    expect(jobInstancesQuery('j-1')).toEqual({
      Filters: [{ Name: `tag:${JOB_TAG_KEY}`, Values: ['j-1'] }],
      Offset: 0,
      Limit: 100,
    });
  });
});
