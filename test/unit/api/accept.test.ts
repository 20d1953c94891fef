import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { RETRY_AFTER_SECONDS } from '../../../lib/api/run-instances.ts';
import { MAX_BODY_BYTES } from '../../../lib/http/body.ts';
import type { HttpEvent } from '../../../lib/http/types.ts';
import { STORE_DOWN_RETRY_AFTER_SECONDS } from '../../../lib/jobs/accept.ts';
import { awsErrors, type MockedApi, mockedApi, TEST_QUEUE_URL } from '../../helpers/aws-mocks.ts';
import {
  formRunEvent,
  invoke,
  jobOf,
  jsonRunEvent,
  problemOf,
  runInstancesEvent,
} from '../../helpers/events.ts';
import { SEED_PASSWORD, seedExample, seedForm, validRequest } from '../../helpers/requests.ts';

const JOB_ID = '00000000-0000-4000-8000-000000000001';

function send(api: MockedApi, event: HttpEvent) {
  return invoke(createApiHandler(api.deps), event);
}

describe('POST /v1/run-instances with mocked AWS clients', () => {
  it('sends exactly one SendMessage with body {"jobId"} to the submit queue for a valid request', async () => {
    const api = mockedApi();
    const response = await send(api, jsonRunEvent(seedExample(2)));
    expect(response.statusCode).toBe(202);
    const calls = api.sqs.commandCalls(SendMessageCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      QueueUrl: TEST_QUEUE_URL,
      MessageBody: JSON.stringify({ jobId: JOB_ID }),
    });
    expect(api.sqs.calls()).toHaveLength(1);
  });

  it('answers 202 with Location /v1/jobs/{jobId}, Retry-After and the job as JSON', async () => {
    const api = mockedApi();
    const response = await send(api, jsonRunEvent(seedExample(1)));
    expect(response.statusCode).toBe(202);
    expect(response.headers).toMatchObject({
      'content-type': 'application/json',
      location: `/v1/jobs/${JOB_ID}`,
      'retry-after': String(RETRY_AFTER_SECONDS),
    });
    expect(jobOf(response)).toMatchObject({
      jobId: JOB_ID,
      status: 'QUEUED',
      region: 'ap-guangzhou',
      clientToken: `cvmp-${JOB_ID}`,
      requestedBy: 'alice',
      metadata: {},
      instances: [],
      error: null,
      attempts: 0,
    });
  });

  it('stores the job QUEUED with a conditional create before sending its message', async () => {
    const api = mockedApi();
    await send(api, jsonRunEvent(seedExample(1)));
    const puts = api.ddb.commandCalls(PutCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0]?.args[0].input).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: `job#${JOB_ID}`, kind: 'job', status: 'QUEUED', pendingStatus: 'QUEUED' },
    });
    const sent = api.sqs.commandCalls(SendMessageCommand)[0];
    expect(sent && puts[0]?.calledBefore(sent)).toBe(true);
  });

  it('keeps the caller ClientToken as the job clientToken', async () => {
    const api = mockedApi();
    const response = await send(api, jsonRunEvent(validRequest()));
    expect(jobOf(response).clientToken).toBe('run-2024-06-01-web-0001');
  });

  it('redacts LoginSettings.Password in the 202 body', async () => {
    const api = mockedApi();
    const response = await send(api, jsonRunEvent(seedExample(2)));
    expect(jobOf(response).request.LoginSettings?.Password).toBe('[REDACTED]');
    expect(response.body).not.toContain(SEED_PASSWORD);
  });

  it('keeps the password out of every log line of an accepted request', async () => {
    const api = mockedApi();
    await send(api, formRunEvent(seedForm(2), { base64: true }));
    expect(api.logs.lines.length).toBeGreaterThan(0);
    expect(api.logs.text()).not.toContain(SEED_PASSWORD);
    expect(api.logs.text()).not.toContain('TestApi123');
  });
});

const oversizeJson = JSON.stringify({ ...seedExample(1), InstanceName: 'x'.repeat(MAX_BODY_BYTES) });

const REFUSED: ReadonlyArray<readonly [string, number, (api: MockedApi) => HttpEvent]> = [
  ['an invalid request', 400, () => jsonRunEvent({ Placement: { Zone: 'ap-nowhere-1' }, ImageId: 'bad' })],
  ['a malformed JSON body', 400, () => jsonRunEvent('{"Placement":')],
  ['a malformed Idempotency-Key', 400, () => jsonRunEvent(seedExample(1), { idempotencyKey: 'has space' })],
  ['a missing bearer token', 401, () => jsonRunEvent(seedExample(1), { bearer: null })],
  [
    'a wrong bearer token',
    401,
    () => jsonRunEvent(seedExample(1), { bearer: 'not-a-configured-token-0000' }),
  ],
  [
    'a request denied by policy',
    403,
    (api) => {
      api.deps.policy = { allowedZones: ['ap-shanghai-2'] };
      return jsonRunEvent(seedExample(1));
    },
  ],
  ['an unsupported media type', 415, () => runInstancesEvent({ contentType: 'text/plain', body: 'hello' })],
  ['a body over 64 KiB', 413, () => jsonRunEvent(oversizeJson)],
  [
    'a job store failure, the job certainly not stored',
    503,
    (api) => {
      api.ddb.on(PutCommand).callsFake((input: { Item: { kind: string } }) => {
        if (input.Item.kind === 'job') throw awsErrors.outage('DynamoDB is down');
        return {};
      });
      return jsonRunEvent(seedExample(1));
    },
  ],
];

describe('POST /v1/run-instances refusals', () => {
  it.each(REFUSED)('sends no SendMessage for %s (%i)', async (_name, status, prepare) => {
    const api = mockedApi();
    const event = prepare(api);
    const response = await send(api, event);
    expect(response.statusCode).toBe(status);
    expect(api.sqs.calls()).toHaveLength(0);
  });

  it.each(REFUSED)('stores no job for %s (%i)', async (_name, _status, prepare) => {
    const api = mockedApi();
    await send(api, prepare(api));
    expect([...api.items.keys()].filter((pk) => pk.startsWith('job#'))).toEqual([]);
  });
});

describe('POST /v1/run-instances when a dependency fails', () => {
  it('answers 503 with Retry-After when the job cannot be stored', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(awsErrors.outage('DynamoDB is down'));
    const response = await send(api, jsonRunEvent(seedExample(1)));
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe(String(STORE_DOWN_RETRY_AFTER_SECONDS));
    expect(problemOf(response)).toMatchObject({ status: 503, code: 'ServiceUnavailable' });
    expect(response.body).not.toContain('DynamoDB is down');
  });

  it('frees the Idempotency-Key when the job cannot be stored', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).callsFake((input: { Item: { kind: string } }) => {
      if (input.Item.kind === 'job') throw awsErrors.outage('DynamoDB is down');
      return {};
    });
    const response = await send(api, jsonRunEvent(seedExample(1), { idempotencyKey: 'key-1' }));
    expect(response.statusCode).toBe(503);
    const deletes = api.ddb.commandCalls(DeleteCommand);
    expect(deletes).toHaveLength(1);
    expect(deletes[0]?.args[0].input).toMatchObject({ ConditionExpression: '#status = :inProgress' });
    expect(api.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(api.sqs.calls()).toHaveLength(0);
  });

  it('answers 503 with Retry-After, sending nothing, when the idempotency record cannot be written', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(awsErrors.outage('DynamoDB is down'));
    const response = await send(api, jsonRunEvent(seedExample(1), { idempotencyKey: 'key-1' }));
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBeDefined();
    expect(problemOf(response).detail).not.toContain('DynamoDB is down');
    expect(api.sqs.calls()).toHaveLength(0);
  });

  it('logs a 503 with its cause, so an outage leaves a trace', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(awsErrors.outage('DynamoDB is down'));
    await send(api, jsonRunEvent(seedExample(1)));
    expect(api.logs.text()).toContain('DynamoDB is down');
  });

  it('still answers 202 when the SQS send fails, the job being stored', async () => {
    const api = mockedApi();
    api.sqs.on(SendMessageCommand).rejects(new Error('SQS is unreachable'));
    const response = await send(api, jsonRunEvent(seedExample(2)));
    expect(response.statusCode).toBe(202);
    expect(response.headers.location).toBe(`/v1/jobs/${JOB_ID}`);
    expect(api.items.get(`job#${JOB_ID}`)).toMatchObject({ status: 'QUEUED', pendingStatus: 'QUEUED' });
  });

  it('logs a warning naming the job, without the password, when the SQS send fails', async () => {
    const api = mockedApi();
    api.sqs.on(SendMessageCommand).rejects(new Error('SQS is unreachable'));
    await send(api, jsonRunEvent(seedExample(2)));
    const warnings = api.logs.records().filter((record) => record.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ jobId: JOB_ID, error: { message: 'SQS is unreachable' } });
    expect(api.logs.text()).not.toContain(SEED_PASSWORD);
  });

  it('still answers 202 when the idempotency record cannot be marked complete', async () => {
    const api = mockedApi();
    api.ddb.on(UpdateCommand).rejects(new Error('throttled'));
    const response = await send(api, jsonRunEvent(seedExample(1), { idempotencyKey: 'key-1' }));
    expect(response.statusCode).toBe(202);
    expect(api.sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
  });

  it('reads nothing back from the table to accept a request without Idempotency-Key', async () => {
    const api = mockedApi();
    await send(api, jsonRunEvent(seedExample(1)));
    expect(api.ddb.commandCalls(GetCommand)).toHaveLength(0);
  });
});
