import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpEvent, HttpResponse } from '../../lib/http/types.ts';
import { newJob } from '../../lib/jobs/model.ts';
import { createJob } from '../../lib/jobs/store.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';

const event = (name: string): HttpEvent =>
  JSON.parse(readFileSync(new URL(`../../events/api/${name}`, import.meta.url), 'utf8')) as HttpEvent;

let stack: LocalStack;
/** The api function of serverless.yml in its local container, invoked with an event as Lambda would. */
let handler: (event: HttpEvent) => Promise<HttpResponse>;
beforeAll(async () => {
  // The sample events carry API Gateway's IAM authorizer context, as deployed (AUTH_MODE=iam).
  stack = await startLocalStack({
    port: 0,
    simulatorPort: 0,
    dataDir: null,
    env: { AUTH_MODE: 'iam' },
    logSink: () => {},
  });
  const api = stack.runtime.functions.get('api');
  if (!api) throw new Error('serverless.yml has no api function');
  handler = async (httpEvent) => (await api.invoke(httpEvent)) as HttpResponse;
});
afterAll(() => stack.stop());

// The assumed role, not its session: a credential refresh must not change who owns a job.
const CALLER = 'arn:aws:iam::123456789012:role/platform-ci';

describe('the sample API Gateway events in events/api', () => {
  it.each(['post-run-instances-json.json', 'post-run-instances-form.json'])(
    '%s is accepted with 202',
    async (name) => {
      const response = await handler(event(name));
      expect(response.statusCode).toBe(202);
      expect(JSON.parse(response.body)).toMatchObject({ status: 'QUEUED', requestedBy: CALLER });
    },
  );

  it('post-run-instances-invalid.json is refused with 400 listing its three defects', async () => {
    const response = await handler(event('post-run-instances-invalid.json'));
    expect(response.statusCode).toBe(400);
    const params = (JSON.parse(response.body) as { errors: Array<{ param: string }> }).errors.map(
      (e) => e.param,
    );
    expect(params).toEqual(
      expect.arrayContaining(['Placement.Zone', 'InstanceCoutn', 'DataDisks.0.DiskSize']),
    );
  });

  it('get-job.json answers 404 for an unknown job and 200 once the job exists', async () => {
    const lookup = event('get-job.json');
    expect((await handler(lookup)).statusCode).toBe(404);
    const jobId = lookup.pathParameters?.jobId ?? '';
    await createJob(
      stack.deps,
      newJob({
        jobId,
        region: 'ap-guangzhou',
        request: { Placement: { Zone: 'ap-guangzhou-2' }, ImageId: 'img-pmqg1cw7' },
        requestedBy: CALLER,
        metadata: {},
        webhookUrl: null,
        createdAt: new Date().toISOString(),
      }),
    );
    const response = await handler(lookup);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ jobId });
  });
});
