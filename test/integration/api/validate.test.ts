import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { ROUTES } from '../../../lib/api/router.ts';
import type { HttpEvent } from '../../../lib/http/types.ts';
import { REDACTED } from '../../../lib/run-instances/index.ts';
import { type ApiEmulators, drainQueue, emulatorApi, startApiEmulators } from '../../helpers/emulators.ts';
import { formRunEvent, invoke, jobOf, jsonRunEvent, problemOf } from '../../helpers/events.ts';
import { SEED_PASSWORD, type SeedNumber, seedExample, seedForm } from '../../helpers/requests.ts';

let env: ApiEmulators;
beforeAll(async () => {
  env = await startApiEmulators('validate');
});
afterAll(() => env.stop());
beforeEach(async () => {
  await drainQueue(env.sqs, env.submitQueueUrl);
});

/** The same request, sent to the validate route. */
const toValidate = (event: HttpEvent): HttpEvent => ({
  ...event,
  routeKey: ROUTES.validate,
  rawPath: '/v1/run-instances/validate',
  requestContext: { ...event.requestContext, routeKey: ROUTES.validate },
});

async function items(): Promise<number> {
  const { Count = 0 } = await env.clients.dynamodb.send(
    new ScanCommand({ TableName: env.tableName, Select: 'COUNT' }),
  );
  return Count;
}

interface Validated {
  ok: boolean;
  region: string;
  request: Record<string, unknown> & { LoginSettings?: { Password?: string } };
}

describe('POST /v1/run-instances/validate', () => {
  it.each([1, 2, 3] as SeedNumber[])(
    'answers seed example %i, JSON and form alike, with the region a submission gets, storing nothing',
    async (n) => {
      const handler = createApiHandler(emulatorApi(env).deps);
      const before = await items();
      const json = await invoke(handler, toValidate(jsonRunEvent(seedExample(n))));
      const form = await invoke(handler, toValidate(formRunEvent(seedForm(n), { base64: true })));
      expect(json.statusCode).toBe(200);
      expect(form.statusCode).toBe(200);
      const validated = JSON.parse(json.body) as Validated;
      expect(JSON.parse(form.body)).toEqual(validated);
      expect(await items()).toBe(before);
      expect(await drainQueue(env.sqs, env.submitQueueUrl)).toEqual([]);
      // The real submission of the same request: the same region and request.
      const accepted = jobOf(await invoke(handler, jsonRunEvent(seedExample(n))));
      expect(validated).toMatchObject({ ok: true, region: accepted.region });
      expect({ ...validated.request, ClientToken: accepted.request.ClientToken }).toEqual(accepted.request);
      expect(JSON.stringify(validated)).not.toContain(SEED_PASSWORD);
      if (validated.request.LoginSettings?.Password !== undefined)
        expect(validated.request.LoginSettings.Password).toBe(REDACTED);
    },
  );

  it.each([
    ['an unknown zone', { ...seedExample(1), Placement: { Zone: 'ap-nowhere-1' } }],
    ['a typo’d parameter', { ...seedExample(1), InstanceCoutn: 2 }],
    ['a wrong type', { ...seedExample(1), InstanceCount: 'two' }],
    ['a mismatched Region', { ...seedExample(1), Region: 'ap-shanghai' }],
  ])('refuses %s with the very problem a submission gets, and stores nothing', async (_case, body) => {
    const handler = createApiHandler(emulatorApi(env).deps);
    const before = await items();
    const validated = await invoke(handler, toValidate(jsonRunEvent(body)));
    const submitted = await invoke(handler, jsonRunEvent(body));
    expect(validated.statusCode).toBe(400);
    const { instance: _a, ...problem } = problemOf(validated);
    const { instance: _b, ...same } = problemOf(submitted);
    expect(problem).toEqual(same);
    expect(await items()).toBe(before);
  });

  it('refuses what the policy denies with 403, as a submission', async () => {
    const handler = createApiHandler(emulatorApi(env, { policy: { maxInstancesPerJob: 1 } }).deps);
    const response = await invoke(handler, toValidate(jsonRunEvent({ ...seedExample(1), InstanceCount: 3 })));
    expect(response.statusCode).toBe(403);
  });

  it('asks who is calling, as a submission does', async () => {
    const handler = createApiHandler(emulatorApi(env).deps);
    const response = await invoke(handler, toValidate(jsonRunEvent(seedExample(1), { bearer: null })));
    expect(response.statusCode).toBe(401);
  });
});
