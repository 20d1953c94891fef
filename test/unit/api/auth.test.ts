import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { mockedApi } from '../../helpers/aws-mocks.ts';
import {
  ALICE_ROLE,
  getJobEvent,
  iamIdentity,
  invoke,
  jobOf,
  jsonRunEvent,
  problemOf,
  TOKENS,
} from '../../helpers/events.ts';
import { seedExample } from '../../helpers/requests.ts';

describe('API auth in token mode', () => {
  it('records the token name as requestedBy of the job', async () => {
    const api = mockedApi();
    const response = await invoke(createApiHandler(api.deps), jsonRunEvent(seedExample(1)));
    expect(jobOf(response).requestedBy).toBe('alice');
  });

  it('accepts the Bearer scheme in any case', async () => {
    const api = mockedApi();
    const event = jsonRunEvent(seedExample(1));
    event.headers = { ...event.headers, authorization: `bearer ${TOKENS.alice.token}` };
    expect((await invoke(createApiHandler(api.deps), event)).statusCode).toBe(202);
  });

  it('accepts the token of the second configured entry as that caller', async () => {
    const api = mockedApi();
    const response = await invoke(
      createApiHandler(api.deps),
      jsonRunEvent(seedExample(1), { bearer: TOKENS.bob.token }),
    );
    expect(response.statusCode).toBe(202);
    expect(jobOf(response).requestedBy).toBe('bob');
  });

  it('answers 401 problem+json with WWW-Authenticate for a wrong token', async () => {
    const api = mockedApi();
    const response = await invoke(
      createApiHandler(api.deps),
      jsonRunEvent(seedExample(1), { bearer: 'wrong-token-0000000000000' }),
    );
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(problemOf(response).code).toBe('AuthFailure');
  });

  it('answers 401 for GET /v1/jobs/{jobId} without a token', async () => {
    const api = mockedApi();
    const response = await invoke(
      createApiHandler(api.deps),
      getJobEvent('00000000-0000-4000-8000-000000000001', { bearer: null }),
    );
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer /);
  });

  it('authenticates before looking at the body', async () => {
    const api = mockedApi();
    const response = await invoke(createApiHandler(api.deps), jsonRunEvent('{not json', { bearer: null }));
    expect(response.statusCode).toBe(401);
  });
});

describe('API auth in iam mode', () => {
  it('records the IAM role of the userArn as requestedBy of the job', async () => {
    const api = mockedApi({ auth: { mode: 'iam' } });
    const response = await invoke(
      createApiHandler(api.deps),
      jsonRunEvent(seedExample(1), { bearer: null, iam: iamIdentity() }),
    );
    expect(response.statusCode).toBe(202);
    expect(jobOf(response).requestedBy).toBe(ALICE_ROLE);
    expect(api.sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
  });

  it('answers 401 when API Gateway passed no authorizer context', async () => {
    const api = mockedApi({ auth: { mode: 'iam' } });
    const response = await invoke(createApiHandler(api.deps), jsonRunEvent(seedExample(1)));
    expect(response.statusCode).toBe(401);
    expect(problemOf(response)).toMatchObject({ status: 401, code: 'AuthFailure' });
    expect(api.sqs.calls()).toHaveLength(0);
  });
});
