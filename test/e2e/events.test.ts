import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../lib/api/handler.ts';
import type { HttpEvent } from '../../lib/http/types.ts';
import { newJob } from '../../lib/jobs/model.ts';
import { createJob } from '../../lib/jobs/store.ts';
import { silentLogger } from '../../lib/log.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';

const event = (name: string): HttpEvent =>
  JSON.parse(readFileSync(new URL(`../../events/api/${name}`, import.meta.url), 'utf8')) as HttpEvent;
const context = {} as Context;

let stack: LocalStack;
let handler: ReturnType<typeof createApiHandler>;
beforeAll(async () => {
  stack = await startLocalStack({ port: 0, dataDir: null, env: {}, logSink: () => {} });
  // The sample events carry API Gateway's IAM authorizer context, as deployed (AUTH_MODE=iam).
  handler = createApiHandler({ ...stack.apiDeps, auth: { mode: 'iam' }, logger: silentLogger });
});
afterAll(() => stack.stop());

// The assumed role, not its session: a credential refresh must not change who owns a job.
const CALLER = 'arn:aws:iam::123456789012:role/platform-ci';

describe('the sample API Gateway events in events/api', () => {
  it.each(['post-run-instances-json.json', 'post-run-instances-form.json'])(
    '%s is accepted with 202',
    async (name) => {
      const response = await handler(event(name), context);
      expect(response.statusCode).toBe(202);
      expect(JSON.parse(response.body)).toMatchObject({ status: 'QUEUED', requestedBy: CALLER });
    },
  );

  it('post-run-instances-invalid.json is refused with 400 listing its three defects', async () => {
    const response = await handler(event('post-run-instances-invalid.json'), context);
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
    expect((await handler(lookup, context)).statusCode).toBe(404);
    const jobId = lookup.pathParameters?.jobId ?? '';
    await createJob(
      stack.apiDeps,
      newJob({
        jobId,
        region: 'ap-guangzhou',
        request: { Placement: { Zone: 'ap-guangzhou-2' }, ImageId: 'img-pmqg1cw7' },
        requestedBy: CALLER,
        metadata: {},
        webhookUrl: null,
        now: new Date(),
      }),
    );
    const response = await handler(lookup, context);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ jobId });
  });
});
