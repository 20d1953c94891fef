import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lib/api/handler.ts';
import type { Policy } from '../../../lib/jobs/policy.ts';
import { mockedApi } from '../../helpers/aws-mocks.ts';
import { invoke, jsonRunEvent, problemOf } from '../../helpers/events.ts';
import { seedExample, validRequest } from '../../helpers/requests.ts';

async function post(policy: Policy, body: Record<string, unknown>) {
  const api = mockedApi({ policy });
  const response = await invoke(createApiHandler(api.deps), jsonRunEvent(body));
  return { api, response };
}

describe('policy guardrails on POST /v1/run-instances', () => {
  it.each([
    ['ALLOWED_ZONES', { allowedZones: ['ap-shanghai-2'] }, 'UnauthorizedOperation.ZoneNotAllowed'],
    [
      'ALLOWED_INSTANCE_TYPES',
      { allowedInstanceTypes: ['SA2.*'] },
      'UnauthorizedOperation.InstanceTypeNotAllowed',
    ],
    ['MAX_INSTANCES_PER_JOB', { maxInstancesPerJob: 1 }, 'UnauthorizedOperation.TooManyInstances'],
  ] as const)('answers 403 naming %s when the request breaks it', async (rule, policy, code) => {
    const { response } = await post(policy, validRequest({ InstanceCount: 2 }));
    expect(response.statusCode).toBe(403);
    const problem = problemOf(response);
    expect(problem).toMatchObject({ status: 403, code, errors: [expect.objectContaining({ code })] });
    expect(problem.detail).toContain(rule);
  });

  it('answers 403 for a request without InstanceType when ALLOWED_INSTANCE_TYPES is set', async () => {
    const { response, api } = await post({ allowedInstanceTypes: ['S1.*'] }, seedExample(1));
    expect(response.statusCode).toBe(403);
    expect(problemOf(response).errors).toEqual([expect.objectContaining({ param: 'InstanceType' })]);
    expect(api.sqs.calls()).toHaveLength(0);
  });

  it('accepts a request inside every guardrail', async () => {
    const { response, api } = await post(
      { allowedZones: ['ap-guangzhou-2'], allowedInstanceTypes: ['S1.*'], maxInstancesPerJob: 1 },
      seedExample(2),
    );
    expect(response.statusCode).toBe(202);
    expect(api.sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
  });

  it('accepts an exactly listed instance type', async () => {
    const { response } = await post({ allowedInstanceTypes: ['S5.MEDIUM4'] }, validRequest());
    expect(response.statusCode).toBe(202);
  });

  it('checks validity before policy: an invalid and denied request is 400', async () => {
    const { response } = await post(
      { allowedZones: ['ap-shanghai-2'] },
      { ...seedExample(1), ImageId: 'bad' },
    );
    expect(response.statusCode).toBe(400);
  });
});
