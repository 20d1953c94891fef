import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OSLS = join(ROOT, 'node_modules/osls/bin/serverless.js');

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

let dir: string;
let template: Template;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cvmp-package-'));
  // Offline: osls needs no login and no AWS credentials to package (docs/architecture.md, "Packaging and
  // deploying").
  await promisify(execFile)(process.execPath, [OSLS, 'package', '--stage', 'ci', '--package', dir], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
    },
  });
  template = JSON.parse(
    readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const resourcesOf = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

function resource(id: string): Record<string, unknown> {
  const found = template.Resources[id];
  if (!found) throw new Error(`the template has no ${id}`);
  return found.Properties;
}

describe('serverless.yml packaged with osls', () => {
  it('builds the api function from handlers/api.ts on Node 24', () => {
    expect(resource('ApiLambdaFunction')).toMatchObject({
      Handler: 'handlers/api.handler',
      Runtime: 'nodejs24.x',
    });
  });

  it('routes the API paths through the IAM authorizer, their other methods and the chat endpoint without', () => {
    const routes = resourcesOf('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual([
      'ANY /v1/jobs',
      'ANY /v1/jobs/{jobId}',
      'ANY /v1/jobs/{jobId}/cancel',
      'ANY /v1/jobs/{jobId}/events',
      'ANY /v1/jobs/{jobId}/events/{eventId}/redeliver',
      'ANY /v1/openapi.json',
      'ANY /v1/run-instances',
      'ANY /v1/run-instances/validate',
      'GET /v1/jobs',
      'GET /v1/jobs/{jobId}',
      'GET /v1/jobs/{jobId}/events',
      'GET /v1/openapi.json',
      'POST /v1/chatops/slack',
      'POST /v1/jobs/{jobId}/cancel',
      'POST /v1/jobs/{jobId}/events/{eventId}/redeliver',
      'POST /v1/run-instances',
      'POST /v1/run-instances/validate',
    ]);
    // The chat endpoint's authentication is the platform's signature; the ANY routes answer 405 unauthenticated.
    const open = (key: string) =>
      key.startsWith('ANY ') || key === 'POST /v1/chatops/slack' || key === 'GET /v1/openapi.json';
    for (const route of routes)
      expect(route.AuthorizationType ?? 'NONE').toBe(open(String(route.RouteKey)) ? 'NONE' : 'AWS_IAM');
  });

  it('gives the submit queue a dead-letter queue after at least 5 receives', () => {
    const redrive = resource('SubmitQueue').RedrivePolicy as {
      maxReceiveCount: number;
      deadLetterTargetArn: unknown;
    };
    expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
    expect(redrive.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': ['SubmitDeadLetterQueue', 'Arn'] });
  });

  it('declares the jobs table with its sparse indexes and the caller index, and the API its table and queue', () => {
    const indexes = resource('JobsTable').GlobalSecondaryIndexes as Array<{ IndexName: string }>;
    expect(indexes.map((i) => i.IndexName)).toEqual([
      'pending-by-status',
      'pending-notifications',
      'jobs-by-caller',
    ]);
    const { Variables } = resource('ApiLambdaFunction').Environment as { Variables: Record<string, unknown> };
    expect(Variables).toMatchObject({
      JOBS_TABLE: { Ref: 'JobsTable' },
      SUBMIT_QUEUE_URL: { Ref: 'SubmitQueue' },
      AUTH_MODE: 'iam',
    });
  });
});
