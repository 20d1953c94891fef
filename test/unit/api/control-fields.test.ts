import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { mockedApi } from '../../helpers/aws-mocks.ts';
import { formRunEvent, invoke, jobOf, jsonRunEvent, problemOf } from '../../helpers/events.ts';
import { seedExample, seedForm } from '../../helpers/requests.ts';

const JOB_ID = '00000000-0000-4000-8000-000000000001';
const WEBHOOK = 'https://hooks.example.com/cvm';

async function post(body: Record<string, unknown>) {
  const api = mockedApi();
  const response = await invoke(createApiHandler(api.deps), jsonRunEvent(body));
  return { api, response };
}

describe('control fields on POST /v1/run-instances', () => {
  it('echoes metadata in the 202 body', async () => {
    const { response } = await post({ ...seedExample(1), metadata: { team: 'web', ticket: 'OPS-42' } });
    expect(response.statusCode).toBe(202);
    expect(jobOf(response).metadata).toEqual({ team: 'web', ticket: 'OPS-42' });
  });

  it('stores webhookUrl on the job', async () => {
    const { api } = await post({ ...seedExample(1), webhookUrl: WEBHOOK });
    expect(api.items.get(`job#${JOB_ID}`)).toMatchObject({ webhookUrl: WEBHOOK });
  });

  it('leaves webhookUrl out of the job view', async () => {
    const { response } = await post({ ...seedExample(1), webhookUrl: WEBHOOK });
    expect(jobOf(response)).not.toHaveProperty('webhookUrl');
    expect(response.body).not.toContain('hooks.example.com');
  });

  it('keeps control fields out of the stored Tencent request', async () => {
    const { api } = await post({ ...seedExample(1), webhookUrl: WEBHOOK, metadata: { team: 'web' } });
    const request = api.items.get(`job#${JOB_ID}`)?.request;
    expect(request).not.toHaveProperty('webhookUrl');
    expect(request).not.toHaveProperty('metadata');
  });

  it('reads control fields from the flattened form', async () => {
    const api = mockedApi();
    const form = `${seedForm(1)}&metadata.team=web&webhookUrl=${encodeURIComponent(WEBHOOK)}`;
    const response = await invoke(createApiHandler(api.deps), formRunEvent(form, { base64: true }));
    expect(jobOf(response).metadata).toEqual({ team: 'web' });
    expect(api.items.get(`job#${JOB_ID}`)).toMatchObject({ webhookUrl: WEBHOOK });
  });

  it.each([
    ['an http webhookUrl', { webhookUrl: 'http://hooks.example.com/cvm' }, 'webhookUrl'],
    ['a webhookUrl with credentials', { webhookUrl: 'https://u:p@hooks.example.com/' }, 'webhookUrl'],
    ['a webhookUrl that is not a URL', { webhookUrl: 'not a url' }, 'webhookUrl'],
    ['a non-string metadata value', { metadata: { count: 3 } }, 'metadata.count'],
    ['a bad metadata key', { metadata: { 'bad key!': 'x' } }, 'metadata.bad key!'],
    [
      'too many metadata entries',
      { metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) },
      'metadata',
    ],
  ])('answers 400 for %s and sends nothing', async (_name, control, param) => {
    const { api, response } = await post({ ...seedExample(1), ...control });
    expect(response.statusCode).toBe(400);
    expect(problemOf(response).errors).toContainEqual(expect.objectContaining({ param }));
    expect(api.sqs.calls()).toHaveLength(0);
  });

  it('lists control-field violations beside parameter violations', async () => {
    const { response } = await post({ ...seedExample(1), ImageId: 'bad', webhookUrl: 'http://x.example/' });
    const params = problemOf(response).errors.map((error) => error.param);
    expect(params).toEqual(expect.arrayContaining(['ImageId', 'webhookUrl']));
  });

  it('sends only {jobId} to the queue, not the control fields', async () => {
    const { api } = await post({ ...seedExample(1), webhookUrl: WEBHOOK, metadata: { team: 'web' } });
    expect(api.sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody).toBe(
      JSON.stringify({ jobId: JOB_ID }),
    );
  });
});
