import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lib/api/handler.ts';
import type { HttpEvent } from '../../../lib/http/types.ts';
import { mockedApi } from '../../helpers/aws-mocks.ts';
import {
  formRunEvent,
  invoke,
  jobOf,
  jsonRunEvent,
  problemOf,
  runInstancesEvent,
} from '../../helpers/events.ts';
import { seedBusinessRequest, seedExample, seedForm } from '../../helpers/requests.ts';

async function post(event: HttpEvent) {
  const api = mockedApi();
  const response = await invoke(createApiHandler(api.deps), event);
  return { api, response };
}

describe('POST /v1/run-instances bodies', () => {
  it.each([1, 2, 3] as const)('accepts seed example %i as a base64-encoded form body', async (n) => {
    const { api, response } = await post(formRunEvent(seedForm(n), { base64: true }));
    expect(response.statusCode).toBe(202);
    expect(api.sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
  });

  it('decodes a base64 form body to the same request as the JSON example', async () => {
    const { response } = await post(formRunEvent(seedForm(3), { base64: true }));
    const { LoginSettings: _login, ...expected } = seedBusinessRequest(3);
    const { LoginSettings, ClientToken: _token, ...stored } = jobOf(response).request;
    expect(stored).toEqual(expected);
    expect(LoginSettings).toEqual({ Password: '[REDACTED]' });
  });

  it('reads minCount from a form body as an integer, and holds it to InstanceCount', async () => {
    const form = (extra: string) => formRunEvent(`${seedForm(1)}&InstanceCount=2&${extra}`);
    expect((await post(form('minCount=2'))).response.statusCode).toBe(202);
    const { api, response } = await post(form('minCount=3'));
    expect(response.statusCode).toBe(400);
    expect(problemOf(response).errors).toEqual([
      expect.objectContaining({ param: 'minCount', code: 'InvalidParameterValue.Range' }),
    ]);
    expect(api.sqs.calls()).toHaveLength(0);
  });

  it('refuses a JSON minCount that is a string', async () => {
    const { response } = await post(jsonRunEvent(JSON.stringify({ ...seedExample(1), minCount: '1' })));
    expect(problemOf(response).errors).toEqual([
      expect.objectContaining({ param: 'minCount', code: 'InvalidParameter' }),
    ]);
  });

  it('accepts a form body sent in clear', async () => {
    const { response } = await post(formRunEvent(seedForm(1)));
    expect(response.statusCode).toBe(202);
  });

  it('accepts a base64-encoded JSON body', async () => {
    const { response } = await post(
      runInstancesEvent({
        contentType: 'application/json',
        body: Buffer.from(JSON.stringify(seedExample(1))).toString('base64'),
        isBase64Encoded: true,
      }),
    );
    expect(response.statusCode).toBe(202);
  });

  it('accepts a content type with a charset parameter', async () => {
    const { response } = await post(
      runInstancesEvent({
        contentType: 'application/json; charset=utf-8',
        body: JSON.stringify(seedExample(1)),
      }),
    );
    expect(response.statusCode).toBe(202);
  });

  it('answers 400 for a body that is not UTF-8', async () => {
    const { api, response } = await post(
      runInstancesEvent({
        contentType: 'application/x-www-form-urlencoded',
        body: Buffer.from([0x49, 0x6d, 0xff, 0xfe, 0x3d, 0x31]).toString('base64'),
        isBase64Encoded: true,
      }),
    );
    expect(response.statusCode).toBe(400);
    expect(problemOf(response).errors).toEqual([expect.objectContaining({ param: '(body)' })]);
    expect(api.sqs.calls()).toHaveLength(0);
  });

  it('answers 400 for a JSON syntax error without echoing the body', async () => {
    const secret = 'Sup3r-Secret-Pw!';
    const { response } = await post(jsonRunEvent(`{"LoginSettings":{"Password":"${secret}"},`));
    expect(response.statusCode).toBe(400);
    expect(problemOf(response).errors).toEqual([expect.objectContaining({ param: '(body)' })]);
    expect(response.body).not.toContain(secret);
    expect(response.body).not.toContain('LoginSettings');
  });

  it('does not echo an invalid password', async () => {
    const body = { ...seedExample(2), LoginSettings: { Password: 'onlyletterspassword' } };
    const { response } = await post(jsonRunEvent(body));
    expect(response.statusCode).toBe(400);
    expect(problemOf(response).errors).toContainEqual(
      expect.objectContaining({ param: 'LoginSettings.Password' }),
    );
    expect(response.body).not.toContain('onlyletterspassword');
  });

  it.each([
    ['an empty body', ''],
    ['a JSON array', '[]'],
    ['a JSON string', '"RunInstances"'],
    ['JSON null', 'null'],
  ])('answers 400 for %s', async (_name, body) => {
    const { response } = await post(jsonRunEvent(body));
    expect(response.statusCode).toBe(400);
    expect(problemOf(response).errors[0]?.param).toBe('(body)');
  });

  it('answers 400 for a form body with an unknown parameter', async () => {
    const { response } = await post(formRunEvent(`${seedForm(1)}&Bogus.Name=1`, { base64: true }));
    expect(response.statusCode).toBe(400);
  });

  it.each([
    ['no content type', undefined],
    ['text/plain', 'text/plain'],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
  ])('answers 415 for %s', async (_name, contentType) => {
    const { response } = await post(
      runInstancesEvent({ ...(contentType ? { contentType } : {}), body: JSON.stringify(seedExample(1)) }),
    );
    expect(response.statusCode).toBe(415);
    expect(problemOf(response).code).toBe('UnsupportedMediaType');
  });

  it('answers 413 for a base64 body that decodes to more than 64 KiB', async () => {
    const form = `${seedForm(1)}&InstanceName=${'x'.repeat(64 * 1024)}`;
    const { response, api } = await post(formRunEvent(form, { base64: true }));
    expect(response.statusCode).toBe(413);
    expect(api.sqs.calls()).toHaveLength(0);
  });
});
