import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { type MockedApi, mockedApi } from '../../helpers/aws-mocks.ts';
import {
  formRunEvent,
  getJobEvent,
  invoke,
  jobOf,
  jsonRunEvent,
  problemOf,
  TOKENS,
} from '../../helpers/events.ts';
import { SEED_PASSWORD, seedExample, seedForm } from '../../helpers/requests.ts';

const JOB_ID = '00000000-0000-4000-8000-000000000001';

/** Alice submits seed example 2 (with its password); the mocked table keeps the item. */
async function withAliceJob(): Promise<MockedApi> {
  const api = mockedApi();
  const response = await invoke(createApiHandler(api.deps), jsonRunEvent(seedExample(2)));
  expect(response.statusCode).toBe(202);
  return api;
}

describe('GET /v1/jobs/{jobId}', () => {
  it('answers 200 with the job to the caller that created it', async () => {
    const api = await withAliceJob();
    const response = await invoke(createApiHandler(api.deps), getJobEvent(JOB_ID));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(jobOf(response)).toMatchObject({ jobId: JOB_ID, status: 'QUEUED', requestedBy: 'alice' });
  });

  it('returns the same view as the 202 answer', async () => {
    const api = mockedApi();
    const accepted = await invoke(createApiHandler(api.deps), jsonRunEvent(seedExample(2)));
    const read = await invoke(createApiHandler(api.deps), getJobEvent(JOB_ID));
    expect(JSON.parse(read.body)).toEqual(JSON.parse(accepted.body));
  });

  it('leaves store bookkeeping (pk, kind, pendingStatus, version, webhookUrl) out of the body', async () => {
    const api = await withAliceJob();
    const body = JSON.parse((await invoke(createApiHandler(api.deps), getJobEvent(JOB_ID))).body) as object;
    for (const key of ['pk', 'kind', 'pendingStatus', 'pendingSince', 'version', 'webhookUrl'])
      expect(body).not.toHaveProperty(key);
  });

  it('answers 404 for another caller job', async () => {
    const api = await withAliceJob();
    const response = await invoke(
      createApiHandler(api.deps),
      getJobEvent(JOB_ID, { bearer: TOKENS.bob.token }),
    );
    expect(response.statusCode).toBe(404);
    expect(problemOf(response).code).toBe('ResourceNotFound');
  });

  it('answers another caller exactly as for an unknown id', async () => {
    const api = await withAliceJob();
    const handler = createApiHandler(api.deps);
    const other = problemOf(await invoke(handler, getJobEvent(JOB_ID, { bearer: TOKENS.bob.token })));
    const unknownId = '00000000-0000-4000-8000-0000000000aa';
    const unknown = problemOf(await invoke(handler, getJobEvent(unknownId, { bearer: TOKENS.bob.token })));
    expect({ ...other, detail: '', instance: '' }).toEqual({ ...unknown, detail: '', instance: '' });
  });

  it('answers 404 for an unknown id', async () => {
    const api = mockedApi();
    const response = await invoke(
      createApiHandler(api.deps),
      getJobEvent('00000000-0000-4000-8000-0000000000aa'),
    );
    expect(response.statusCode).toBe(404);
  });

  it.each([
    ['a non-UUID', 'not-a-job'],
    ['an upper-case UUID', '00000000-0000-4000-8000-00000000000A'],
    ['an idempotency record key', `idem#${'a'.repeat(64)}`],
    ['an empty id', ''],
  ])('answers 404 for %s without reading the table', async (_name, jobId) => {
    const api = mockedApi();
    const response = await invoke(createApiHandler(api.deps), getJobEvent(jobId));
    expect(response.statusCode).toBe(404);
    expect(api.ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('answers 404 for an item that is not a job', async () => {
    const api = mockedApi();
    api.items.set(`job#${JOB_ID}`, { pk: `job#${JOB_ID}`, kind: 'idempotency', requestedBy: 'alice' });
    const response = await invoke(createApiHandler(api.deps), getJobEvent(JOB_ID));
    expect(response.statusCode).toBe(404);
  });

  it('redacts LoginSettings.Password although the stored item still has it', async () => {
    const api = await withAliceJob();
    expect(JSON.stringify(api.items.get(`job#${JOB_ID}`))).toContain(SEED_PASSWORD);
    const response = await invoke(createApiHandler(api.deps), getJobEvent(JOB_ID));
    expect(jobOf(response).request.LoginSettings).toEqual({ Password: '[REDACTED]' });
    expect(response.body).not.toContain(SEED_PASSWORD);
  });

  it('writes no log line holding the password for a submit and two reads', async () => {
    const api = mockedApi();
    const handler = createApiHandler(api.deps);
    await invoke(handler, formRunEvent(seedForm(2), { base64: true }));
    await invoke(handler, getJobEvent(JOB_ID));
    await invoke(handler, getJobEvent(JOB_ID, { bearer: TOKENS.bob.token }));
    expect(api.logs.text()).not.toContain(SEED_PASSWORD);
    expect(api.logs.text()).not.toContain(encodeURIComponent(SEED_PASSWORD));
  });
});
