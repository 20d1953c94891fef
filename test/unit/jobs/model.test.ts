import { describe, expect, it } from 'vitest';
import {
  canTransition,
  clientTokenFor,
  JOB_STATUSES,
  type JobStatus,
  newJob,
  TERMINAL_STATUSES,
  TRANSITIONS,
  toJobView,
} from '../../../lib/jobs/model.ts';
import { CLOCK_START } from '../../helpers/api.ts';
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
    now: CLOCK_START,
  });
}

const ALLOWED: ReadonlyArray<readonly [JobStatus, JobStatus]> = [
  ['QUEUED', 'SUBMITTING'],
  ['QUEUED', 'FAILED'],
  ['SUBMITTING', 'SUBMITTING'],
  ['SUBMITTING', 'SUBMITTED'],
  ['SUBMITTING', 'FAILED'],
  ['SUBMITTED', 'SUCCEEDED'],
  ['SUBMITTED', 'PARTIALLY_FAILED'],
  ['SUBMITTED', 'FAILED'],
  ['SUBMITTED', 'TIMED_OUT'],
];

describe('the job state machine', () => {
  it.each(ALLOWED)('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it('allows no other transition', () => {
    const allowed = new Set(ALLOWED.map(([from, to]) => `${from}>${to}`));
    for (const from of JOB_STATUSES)
      for (const to of JOB_STATUSES) expect(canTransition(from, to)).toBe(allowed.has(`${from}>${to}`));
  });

  it('lets no terminal status move', () => {
    for (const status of TERMINAL_STATUSES) expect(TRANSITIONS[status]).toEqual([]);
  });

  it('has exactly four terminal statuses', () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual(['FAILED', 'PARTIALLY_FAILED', 'SUCCEEDED', 'TIMED_OUT']);
  });
});

describe('newJob', () => {
  it('creates a QUEUED job with no attempts, instances or error at version 1', () => {
    expect(job()).toMatchObject({
      jobId: JOB_ID,
      status: 'QUEUED',
      attempts: 0,
      instances: [],
      error: null,
      version: 1,
      createdAt: CLOCK_START.toISOString(),
      updatedAt: CLOCK_START.toISOString(),
      submittedAt: null,
      completedAt: null,
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
      now: CLOCK_START,
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

  it('carries exactly the members of DESIGN §4', () => {
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
