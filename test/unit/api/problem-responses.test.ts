import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { MAX_BODY_BYTES } from '../../../lib/http/body.ts';
import { PROBLEM_TYPE_PREFIX } from '../../../lib/http/problem.ts';
import type { HttpEvent } from '../../../lib/http/types.ts';
import { awsErrors, type MockedApi, mockedApi } from '../../helpers/aws-mocks.ts';
import { getJobEvent, invoke, jsonRunEvent, problemOf, runInstancesEvent } from '../../helpers/events.ts';
import { fingerprintOf } from '../../helpers/jobs.ts';
import { seedExample } from '../../helpers/requests.ts';

const INTERNAL_MESSAGE = 'connect ECONNREFUSED 10.0.0.7:8000 in /var/task/lib/jobs/store.ts';

function conditionFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

/** Makes the idempotency Put fail its condition and the read-back return a record in `status`. */
function existingRecord(api: MockedApi, status: 'IN_PROGRESS' | 'COMPLETED', fingerprint: string): void {
  api.ddb.on(PutCommand).rejects(conditionFailed());
  api.ddb.on(GetCommand).resolves({ Item: { pk: 'idem#x', status, fingerprint } });
}

interface Case {
  status: number;
  code: string;
  path: string;
  prepare: (api: MockedApi) => HttpEvent;
}

const CASES: ReadonlyArray<readonly [string, Case]> = [
  [
    'invalid parameters',
    {
      status: 400,
      code: 'InvalidImageId.Malformed',
      path: '/v1/run-instances',
      prepare: () => jsonRunEvent({ ...seedExample(1), ImageId: 'not-an-image' }),
    },
  ],
  [
    'no credentials',
    {
      status: 401,
      code: 'AuthFailure',
      path: '/v1/run-instances',
      prepare: () => jsonRunEvent(seedExample(1), { bearer: null }),
    },
  ],
  [
    'a policy denial',
    {
      status: 403,
      code: 'UnauthorizedOperation.ZoneNotAllowed',
      path: '/v1/run-instances',
      prepare: (api) => {
        api.deps.policy = { allowedZones: ['ap-beijing-1'] };
        return jsonRunEvent(seedExample(1));
      },
    },
  ],
  [
    'an unknown job',
    {
      status: 404,
      code: 'ResourceNotFound',
      path: '/v1/jobs/00000000-0000-4000-8000-0000000000ff',
      prepare: () => getJobEvent('00000000-0000-4000-8000-0000000000ff'),
    },
  ],
  [
    'an Idempotency-Key still in progress',
    {
      status: 409,
      code: 'IdempotencyKey.InProgress',
      path: '/v1/run-instances',
      prepare: (api) => {
        existingRecord(api, 'IN_PROGRESS', fingerprintOf(seedExample(1)));
        return jsonRunEvent(seedExample(1), { idempotencyKey: 'in-flight' });
      },
    },
  ],
  [
    'a body over 64 KiB',
    {
      status: 413,
      code: 'RequestSizeLimitExceeded',
      path: '/v1/run-instances',
      prepare: () => jsonRunEvent(' '.repeat(MAX_BODY_BYTES + 1)),
    },
  ],
  [
    'an unsupported media type',
    {
      status: 415,
      code: 'UnsupportedMediaType',
      path: '/v1/run-instances',
      prepare: () => runInstancesEvent({ contentType: 'application/xml', body: '<RunInstances/>' }),
    },
  ],
  [
    'an Idempotency-Key reused with another payload',
    {
      status: 422,
      code: 'IdempotencyKey.PayloadMismatch',
      path: '/v1/run-instances',
      prepare: (api) => {
        existingRecord(api, 'COMPLETED', 'another-fingerprint');
        return jsonRunEvent(seedExample(1), { idempotencyKey: 'reused' });
      },
    },
  ],
  [
    'an unexpected error',
    {
      status: 500,
      code: 'InternalError',
      path: '/v1/jobs/00000000-0000-4000-8000-000000000001',
      prepare: (api) => {
        api.ddb.on(GetCommand).rejects(new Error(INTERNAL_MESSAGE));
        return getJobEvent('00000000-0000-4000-8000-000000000001');
      },
    },
  ],
  [
    'a job store outage',
    {
      status: 503,
      code: 'ServiceUnavailable',
      path: '/v1/run-instances',
      prepare: (api) => {
        api.ddb.on(PutCommand).rejects(awsErrors.outage(INTERNAL_MESSAGE));
        return jsonRunEvent(seedExample(1));
      },
    },
  ],
];

describe('problem+json responses', () => {
  it.each(CASES)('answers %s with its status and application/problem+json', async (_name, c) => {
    const api = mockedApi();
    const response = await invoke(createApiHandler(api.deps), c.prepare(api));
    expect(response.statusCode).toBe(c.status);
    expect(response.headers['content-type']).toBe('application/problem+json');
  });

  it.each(CASES)(
    'answers %s with every problem member, status equal to the HTTP status',
    async (_name, c) => {
      const api = mockedApi();
      const response = await invoke(createApiHandler(api.deps), c.prepare(api));
      const problem = problemOf(response);
      expect(problem.status).toBe(response.statusCode);
      expect(problem.type.startsWith(PROBLEM_TYPE_PREFIX)).toBe(true);
      expect(problem.title.length).toBeGreaterThan(0);
      expect(problem.detail.length).toBeGreaterThan(0);
      expect(problem.instance).toBe(c.path);
      expect(problem.code).toBe(c.code);
      expect(Object.keys(JSON.parse(response.body) as object).sort()).toEqual(
        ['code', 'detail', 'errors', 'instance', 'status', 'title', 'type'].sort(),
      );
    },
  );

  it.each(CASES)('answers %s without internals in the body', async (_name, c) => {
    const api = mockedApi();
    const response = await invoke(createApiHandler(api.deps), c.prepare(api));
    expect(response.body).not.toContain('ECONNREFUSED');
    expect(response.body).not.toContain('/var/task');
  });

  it('lists every violation of an invalid request, code being the first one', async () => {
    const api = mockedApi();
    const response = await invoke(
      createApiHandler(api.deps),
      jsonRunEvent({ Placement: { Zone: 'ap-guangzhou-2' }, ImageId: 'bad', InstanceCount: 0, Bogus: 1 }),
    );
    const problem = problemOf(response);
    expect(problem.errors.length).toBeGreaterThanOrEqual(3);
    expect(problem.code).toBe(problem.errors[0]?.code);
    for (const error of problem.errors) {
      expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param']);
    }
  });

  it('answers 500 with a generic detail that holds neither the error message nor a stack', async () => {
    const api = mockedApi();
    api.ddb.on(GetCommand).rejects(new Error(INTERNAL_MESSAGE));
    const response = await invoke(
      createApiHandler(api.deps),
      getJobEvent('00000000-0000-4000-8000-000000000001'),
    );
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('ECONNREFUSED');
    expect(response.body).not.toContain('/var/task');
    expect(response.body).not.toMatch(/\bat \S+ \(/);
    expect(problemOf(response)).toMatchObject({
      detail: expect.stringMatching(/internal error/i),
      errors: [],
    });
  });

  it('logs an unexpected error with the request id', async () => {
    const api = mockedApi();
    api.ddb.on(GetCommand).rejects(new Error(INTERNAL_MESSAGE));
    await invoke(
      createApiHandler(api.deps),
      getJobEvent('00000000-0000-4000-8000-000000000001', { requestId: 'req-500' }),
    );
    expect(api.logs.records()).toContainEqual(
      expect.objectContaining({
        level: 'error',
        requestId: 'req-500',
        error: expect.objectContaining({ message: INTERNAL_MESSAGE }),
      }),
    );
  });

  it('sends WWW-Authenticate with a 401 in token mode', async () => {
    const api = mockedApi();
    const response = await invoke(createApiHandler(api.deps), jsonRunEvent(seedExample(1), { bearer: null }));
    expect(response.headers['www-authenticate']).toBe('Bearer realm="cvm-provisioner"');
  });

  it('sends Retry-After with a 409', async () => {
    const api = mockedApi();
    const c = CASES.find(([, x]) => x.status === 409)?.[1];
    if (!c) throw new Error('no 409 case');
    const response = await invoke(createApiHandler(api.deps), c.prepare(api));
    expect(response.headers['retry-after']).toBe('1');
  });

  it('answers 405 problem+json with Allow for a method a path does not take', async () => {
    const api = mockedApi();
    const event = getJobEvent('x');
    event.routeKey = 'ANY /v1/jobs/{jobId}';
    event.requestContext.http.method = 'DELETE';
    const response = await invoke(createApiHandler(api.deps), event);
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET');
    expect(problemOf(response).code).toBe('UnsupportedProtocol');
  });

  it('answers 404 problem+json for a path the API does not have', async () => {
    const api = mockedApi();
    const event = getJobEvent('x');
    event.routeKey = 'ANY /v1/nothing';
    event.rawPath = '/v1/nothing';
    const response = await invoke(createApiHandler(api.deps), event);
    expect(response.statusCode).toBe(404);
    expect(problemOf(response).code).toBe('ResourceNotFound');
  });
});
