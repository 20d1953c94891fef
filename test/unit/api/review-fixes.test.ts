import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { IllegalTransitionError, listStaleQueuedJobs, transitionJob } from '../../../lib/jobs/store.ts';
import { invoke, jsonRunEvent, mockedApi, problemOf, TOKENS } from '../../helpers/api.ts';
import { seedExample } from '../../helpers/requests.ts';

describe('fixes from the review of the API', () => {
  it('answers 503 with Retry-After, not 500, when the idempotency record cannot be written', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(new Error('DynamoDB is down'));
    const response = await invoke(
      createApiHandler(api.deps),
      jsonRunEvent(seedExample(1), { idempotencyKey: 'key-1' }),
    );
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBeDefined();
    expect(problemOf(response).detail).not.toContain('DynamoDB is down');
  });

  it('logs a 503 with its cause, so an outage leaves a trace', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(new Error('DynamoDB is down'));
    await invoke(createApiHandler(api.deps), jsonRunEvent(seedExample(1)));
    expect(api.logs.text()).toContain('DynamoDB is down');
  });

  it('conditions a mixed from-list only on the statuses that may make the move', async () => {
    const api = mockedApi();
    await transitionJob(
      api.deps,
      '00000000-0000-4000-8000-000000000001',
      ['QUEUED', 'SUBMITTED'],
      'SUBMITTING',
    );
    const [call] = api.ddb.commandCalls(UpdateCommand);
    const values = call?.args[0].input.ExpressionAttributeValues ?? {};
    expect(
      Object.entries(values)
        .filter(([key]) => key.startsWith(':from'))
        .map(([, v]) => v),
    ).toEqual(['QUEUED']);
  });

  it('refuses a from-list none of whose statuses may make the move', async () => {
    const api = mockedApi();
    await expect(transitionJob(api.deps, 'x', ['SUCCEEDED', 'FAILED'], 'SUBMITTING')).rejects.toBeInstanceOf(
      IllegalTransitionError,
    );
  });

  it('asks DynamoDB nothing for a limit of 0', async () => {
    const api = mockedApi();
    expect(await listStaleQueuedJobs(api.deps, new Date(), 0)).toEqual([]);
    expect(api.ddb.calls()).toHaveLength(0);
  });

  it('accepts the Bearer scheme in any case', async () => {
    const api = mockedApi();
    const event = jsonRunEvent(seedExample(1));
    event.headers = { ...event.headers, authorization: `bearer ${TOKENS.alice.token}` };
    expect((await invoke(createApiHandler(api.deps), event)).statusCode).toBe(202);
  });
});
