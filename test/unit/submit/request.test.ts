import { describe, expect, it } from 'vitest';
import { JOB_TAG_KEY } from '../../../lib/jobs/model.ts';
import { jobInstancesQuery, runInstancesParams } from '../../../lib/submit/request.ts';
import { jobIn } from '../../helpers/jobs.ts';

describe('runInstancesParams', () => {
  it('is the stored request with its ClientToken and an instance TagSpecification naming the job', () => {
    const job = jobIn('SUBMITTING');
    expect(runInstancesParams(job)).toStrictEqual({
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

  it('gives the same bytes however the store ordered the members, and leaves the stored request untouched', () => {
    const job = jobIn('SUBMITTING');
    const before = JSON.stringify(job.request);
    const first = JSON.stringify(runInstancesParams(job));
    // Read back with every object's members reversed, as a DynamoDB map may come back.
    const reversed = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reversed)
        : typeof value === 'object' && value !== null
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, reversed(v)]),
            )
          : value;
    const readBack = { ...job, request: reversed(job.request) as typeof job.request };
    expect(JSON.stringify(readBack.request)).not.toBe(before);
    expect(JSON.stringify(runInstancesParams(readBack))).toBe(first);
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
