import { describe, expect, it } from 'vitest';
import {
  acceptedSnapshot,
  clientTokenFor,
  newJob,
  TERMINAL_STATUSES,
  toJobView,
} from '../../../lib/jobs/model.ts';
import { CLOCK_START } from '../../helpers/clock.ts';
import { jobIn } from '../../helpers/jobs.ts';

const CREATED_AT = new Date(CLOCK_START).toISOString();

import { validRequest } from '../../helpers/requests.ts';

const JOB_ID = '00000000-0000-4000-8000-000000000001';

function job(password?: string) {
  return newJob({
    jobId: JOB_ID,
    region: 'ap-guangzhou',
    request: validRequest({
      LoginSettings: password === undefined ? { KeyIds: ['skey-b4vakk62'] } : { Password: password },
    }),
    requestedBy: 'alice',
    metadata: { team: 'web' },
    webhookUrl: 'https://hooks.example.com/',
    createdAt: CREATED_AT,
  });
}

describe('newJob', () => {
  it('creates a QUEUED job with no attempts, instances or error at version 1', () => {
    expect(job()).toMatchObject({
      jobId: JOB_ID,
      status: 'QUEUED',
      attempts: 0,
      instances: [],
      error: null,
      version: 1,
      createdAt: CREATED_AT,
      updatedAt: CREATED_AT,
      submittedAt: null,
      completedAt: null,
      claimExpiresAt: null,
      submitRequestId: null,
      events: {},
    });
  });

  it('keeps the caller ClientToken', () => {
    expect(job().clientToken).toBe('run-2024-06-01-web-0001');
  });

  it('derives a ClientToken from the job id when the caller gave none, and puts it in the request', () => {
    const { ClientToken: _token, ...request } = validRequest();
    const created = newJob({
      jobId: JOB_ID,
      region: 'ap-guangzhou',
      request,
      requestedBy: 'alice',
      metadata: {},
      webhookUrl: null,
      createdAt: CREATED_AT,
    });
    expect(created.clientToken).toBe(`cvmp-${JOB_ID}`);
    expect(created.request.ClientToken).toBe(created.clientToken);
  });

  it('derives a ClientToken of at most 64 characters', () => {
    const { ClientToken: _token, ...request } = validRequest();
    expect(clientTokenFor('ffffffff-ffff-4fff-bfff-ffffffffffff', request).length).toBeLessThanOrEqual(64);
  });
});

describe('toJobView', () => {
  it('redacts LoginSettings.Password', () => {
    expect(toJobView(job('Qcloud@TestApi123++')).request.LoginSettings).toEqual({ Password: '[REDACTED]' });
  });

  it('does not change the stored job when redacting', () => {
    const stored = job('Qcloud@TestApi123++');
    toJobView(stored);
    expect(stored.request.LoginSettings?.Password).toBe('Qcloud@TestApi123++');
  });

  it('leaves a request without password as it is', () => {
    expect(toJobView(job()).request.LoginSettings).toEqual({ KeyIds: ['skey-b4vakk62'] });
  });

  it('carries exactly the members of the external contract (docs/http-api.md)', () => {
    expect(Object.keys(toJobView(job())).sort()).toEqual(
      [
        'jobId',
        'status',
        'region',
        'clientToken',
        'request',
        'instances',
        'error',
        'attempts',
        'requestedBy',
        'metadata',
        'createdAt',
        'updatedAt',
        'submittedAt',
        'completedAt',
      ].sort(),
    );
  });
});

describe('the terminal statuses', () => {
  it('are exactly five, CANCELLED among them', () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual([
      'CANCELLED',
      'FAILED',
      'PARTIALLY_FAILED',
      'SUCCEEDED',
      'TIMED_OUT',
    ]);
  });
});

describe('acceptedSnapshot', () => {
  it('shows a job that moved on as it was when accepted', () => {
    const later = jobIn('SUCCEEDED');
    expect(toJobView(later, acceptedSnapshot(later))).toEqual({
      ...toJobView(later),
      status: 'QUEUED',
      instances: [],
      error: null,
      attempts: 0,
      updatedAt: later.createdAt,
      submittedAt: null,
      completedAt: null,
    });
  });

  it('is the view of a job that was just created', () => {
    const created = job();
    expect(toJobView(created, acceptedSnapshot(created))).toEqual(toJobView(created));
  });
});
