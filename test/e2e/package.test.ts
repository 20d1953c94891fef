// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation's ${AWS::…} pseudo parameters are literal text here
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * serverless.yml as AWS would receive it: `npm run package` (osls, offline: no login, no AWS credentials, a
 * HOME of its own) packages stage `ci` once, and the generated CloudFormation and bundles are checked. What
 * only another stage shows (prod's deletion protection, token mode's routes, an alarm topic) is read from
 * `serverless print` for stage prod with those parameters, which resolves the same configuration without
 * building anything.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OSLS = join(ROOT, 'node_modules/osls/bin/serverless.js');
const ALARM_TOPIC = 'arn:aws:sns:us-east-1:000000000000:cvm-provisioner-ops';
const SECRET_ARN =
  'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:cvm-provisioner/tencent-??????';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: unknown;
}
interface Template {
  Resources: Record<string, Resource>;
  Conditions?: Record<string, unknown>;
}
interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: unknown;
}
/** The configuration `serverless print` resolves (only what the tests read). */
interface Printed {
  functions: Record<
    string,
    { environment: Record<string, unknown>; events: Array<{ httpApi?: { authorizer?: unknown } }> }
  >;
  resources: Template;
}

let dir: string;
let template: Template;
let prod: Printed;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cvmp-package-'));
  // Nothing of the developer's: no AWS credentials or config (HOME is empty), no npm update check.
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    npm_config_update_notifier: 'false',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
  const run = promisify(execFile);
  const [, printed] = await Promise.all([
    run('npm', ['run', 'package', '--', '--stage', 'ci', '--package', join(dir, 'ci')], { cwd: ROOT, env }),
    run(
      process.execPath,
      [
        OSLS,
        'print',
        '--stage',
        'prod',
        '--param',
        'authMode=token',
        '--param',
        `alarmTopicArn=${ALARM_TOPIC}`,
        '--format',
        'json',
      ],
      { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 },
    ),
  ]);
  prod = JSON.parse(printed.stdout) as Printed;
  template = JSON.parse(
    readFileSync(join(dir, 'ci', 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const resourcesOf = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

function resource(id: string): Record<string, unknown> {
  const found = template.Resources[id];
  if (!found) throw new Error(`the template has no ${id}`);
  return found.Properties;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The logical id a `{ Ref: X }` or `{ Fn::GetAtt: [X, …] }` names. */
function referenced(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  const getAtt = value['Fn::GetAtt'];
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
}

/** The functions by serverless.yml's names: `deadLetter` is DeadLetterLambdaFunction. */
const FUNCTIONS = ['api', 'chatops', 'submit', 'deadLetter', 'poll'] as const;
type FunctionName = (typeof FUNCTIONS)[number];
const logicalId = (name: string) => `${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction`;
const lambda = (name: FunctionName) => resource(logicalId(name));
const variables = (name: FunctionName) =>
  (lambda(name).Environment as { Variables: Record<string, unknown> }).Variables;

/** Each function's event source mappings, with the queue they read. */
const mappingsOf = (name: FunctionName) =>
  resourcesOf('AWS::Lambda::EventSourceMapping')
    .map(([, r]) => r.Properties)
    .filter((p) => referenced(p.FunctionName) === logicalId(name));

/** The entries of a zip file, inflated (the central directory names each; osls writes deflate or stored). */
function unzip(file: string): Map<string, Buffer> {
  const zip = readFileSync(file);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const entries = new Map<string, Buffer>();
  let at = zip.readUInt32LE(end + 16);
  for (let i = zip.readUInt16LE(end + 10); i > 0; i--) {
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + zip.readUInt32LE(at + 20));
    entries.set(
      zip.toString('utf8', at + 46, at + 46 + nameLength),
      zip.readUInt16LE(at + 10) === 8 ? inflateRawSync(data) : data,
    );
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}

/** The source files a function's packaged bundle was built from, by its source map. */
function bundledSources(name: FunctionName): string[] {
  const entries = unzip(join(dir, 'ci', `${name}.zip`));
  const map = [...entries].find(([path]) => path.endsWith('.mjs.map'));
  if (!map) throw new Error(`${name}.zip has no source map`);
  return (JSON.parse(map[1].toString('utf8')) as { sources: string[] }).sources;
}

/** Every policy statement in the template, wherever it is (roles, trust policies, bucket policies). */
function statements(): Array<{ where: string; statement: Statement }> {
  const found: Array<{ where: string; statement: Statement }> = [];
  const visit = (node: unknown, where: string) => {
    if (Array.isArray(node)) for (const [i, child] of node.entries()) visit(child, `${where}[${i}]`);
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (isObject(value) && Array.isArray(value.Statement) && /PolicyDocument$/.test(key)) {
        for (const [i, statement] of (value.Statement as Statement[]).entries())
          found.push({ where: `${where}.${key}.Statement[${i}]`, statement });
      } else visit(value, `${where}.${key}`);
    }
  };
  visit(template.Resources, 'Resources');
  return found;
}

/** Every string inside a value (the parts of a Fn::Join, a Fn::Sub's template, …). */
const stringsIn = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(stringsIn)
      : isObject(value)
        ? Object.values(value).flatMap(stringsIn)
        : [];

/** A role's Allow statements as action → the resources it is granted on (each as JSON). */
function grants(roleId: string): Record<string, string[]> {
  const role = resource(roleId) as { Policies?: Array<{ PolicyDocument: { Statement: Statement[] } }> };
  const out: Record<string, Set<string>> = {};
  for (const policy of role.Policies ?? [])
    for (const statement of policy.PolicyDocument.Statement)
      if (statement.Effect === 'Allow')
        for (const action of [statement.Action ?? []].flat()) {
          const targets = out[action] ?? new Set<string>();
          for (const target of [statement.Resource ?? []].flat()) targets.add(JSON.stringify(target));
          out[action] = targets;
        }
  return Object.fromEntries(Object.entries(out).map(([action, targets]) => [action, [...targets].sort()]));
}

const roleOf = (name: FunctionName) => {
  const id = referenced(lambda(name).Role);
  if (!id) throw new Error(`${name} has no role of the template`);
  return id;
};

describe('serverless.yml packaged with osls', () => {
  it('builds every function from its handler on Node 24 and arm64', () => {
    const built = resourcesOf('AWS::Lambda::Function').map(([id]) => id);
    expect(built.sort()).toEqual(FUNCTIONS.map(logicalId).sort());
    for (const name of FUNCTIONS)
      expect(lambda(name), name).toMatchObject({
        Handler: expect.stringMatching(/^handlers\/[a-z-]+\.handler$/),
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
      });
    expect(lambda('deadLetter').Handler).toBe('handlers/dead-letter.handler');
  });

  it('bundles each function as one ES module with the AWS SDK inside, taken from its ES module build', () => {
    const zips = readdirSync(join(dir, 'ci')).filter((file) => file.endsWith('.zip'));
    expect(zips.sort()).toEqual(FUNCTIONS.map((name) => `${name}.zip`).sort());
    for (const name of FUNCTIONS) {
      const handler = String(lambda(name).Handler).replace(/\.handler$/, '');
      expect([...unzip(join(dir, 'ci', `${name}.zip`)).keys()].sort()).toEqual([
        `${handler}.mjs`,
        `${handler}.mjs.map`,
      ]);
      const sdk = bundledSources(name).filter((source) => source.includes('node_modules/@aws-sdk/client-'));
      expect(sdk.length, name).toBeGreaterThan(0);
      // dist-es is the SDK's ES module build, which esbuild can shake; dist-cjs would come whole.
      expect(sdk.filter((source) => source.includes('/dist-es/')).length, name).toBeGreaterThan(0);
      expect(
        sdk.filter((source) => source.includes('/dist-cjs/')),
        name,
      ).toEqual([]);
    }
  });

  it('leaves the Tencent client and Secrets Manager out of the API and chat bundles', () => {
    const tencentOrSecrets = (source: string) =>
      source.endsWith('lib/tencent/client.ts') || source.includes('@aws-sdk/client-secrets-manager/');
    for (const name of ['api', 'chatops'] as const)
      expect(bundledSources(name).filter(tencentOrSecrets), name).toEqual([]);
    expect(bundledSources('submit').filter(tencentOrSecrets).length).toBeGreaterThan(1);
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
    expect(variables('api').AUTH_MODE).toBe('iam');
  });

  it('routes nothing through the IAM authorizer when the stage parameter authMode is token', () => {
    const api = prod.functions.api;
    expect(api?.environment.AUTH_MODE).toBe('token');
    expect(api?.events.length).toBe(16);
    // '' is no authorizer: osls adds one only for a truthy value.
    for (const event of api?.events ?? []) expect(event.httpApi?.authorizer ?? '').toBe('');
  });

  it('encrypts both queues at rest and keeps dead letters 14 days', () => {
    for (const id of ['SubmitQueue', 'SubmitDeadLetterQueue'])
      expect(resource(id).SqsManagedSseEnabled, id).toBe(true);
    expect(resource('SubmitDeadLetterQueue').MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('moves a submit message to the dead-letter queue after 5 receives', () => {
    expect(resource('SubmitQueue').RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['SubmitDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 5,
    });
  });

  it("gives each consumed queue a visibility timeout of at least 6x its consumer's timeout", () => {
    const pairs = FUNCTIONS.flatMap((name) =>
      mappingsOf(name).map((mapping) => [name, referenced(mapping.EventSourceArn) ?? ''] as const),
    );
    expect(pairs).toEqual([
      ['submit', 'SubmitQueue'],
      ['deadLetter', 'SubmitDeadLetterQueue'],
    ]);
    for (const [name, queue] of pairs)
      expect(Number(resource(queue).VisibilityTimeout), queue).toBeGreaterThanOrEqual(
        6 * Number(lambda(name).Timeout),
      );
  });

  it('feeds both consumers batches of 10 with partial batch responses, at most 2 batches at once', () => {
    for (const name of ['submit', 'deadLetter'] as const)
      expect(mappingsOf(name), name).toEqual([
        expect.objectContaining({
          BatchSize: 10,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: 2 },
        }),
      ]);
    // The submitters pace themselves to the rate divided by the concurrency they run at.
    const [submit] = mappingsOf('submit');
    const scaling = submit?.ScalingConfig as { MaximumConcurrency: number } | undefined;
    expect(variables('submit').SUBMIT_MAX_CONCURRENCY).toBe(String(scaling?.MaximumConcurrency));
    expect(Number(variables('submit').SUBMIT_RATE_PER_SECOND)).toBeLessThan(10);
  });

  it('declares the jobs table on demand with its three indexes, TTL on ttl and point-in-time recovery', () => {
    const table = resource('JobsTable');
    expect(table).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    const indexes = table.GlobalSecondaryIndexes as Array<{ IndexName: string; KeySchema: unknown }>;
    expect(indexes.map((i) => [i.IndexName, i.KeySchema])).toEqual([
      [
        'pending-by-status',
        [
          { AttributeName: 'pendingStatus', KeyType: 'HASH' },
          { AttributeName: 'pendingSince', KeyType: 'RANGE' },
        ],
      ],
      [
        'pending-notifications',
        [
          { AttributeName: 'notifyPending', KeyType: 'HASH' },
          { AttributeName: 'notifyAt', KeyType: 'RANGE' },
        ],
      ],
      [
        'jobs-by-caller',
        [
          { AttributeName: 'byCaller', KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
      ],
    ]);
  });

  it('protects the jobs table from deletion on prod only', () => {
    expect(resource('JobsTable').DeletionProtectionEnabled).toBe(false);
    expect(prod.resources.Resources.JobsTable?.Properties.DeletionProtectionEnabled).toBe(true);
  });

  it('runs poll every minute, one run at a time, never retrying a tick and dropping one older than 60 s', () => {
    const rules = resourcesOf('AWS::Events::Rule').map(([, r]) => r.Properties);
    expect(rules).toEqual([
      expect.objectContaining({
        ScheduleExpression: 'rate(1 minute)',
        Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': ['PollLambdaFunction', 'Arn'] } })],
      }),
    ]);
    expect(lambda('poll').ReservedConcurrentExecutions).toBe(1);
    const configs = resourcesOf('AWS::Lambda::EventInvokeConfig').map(([, r]) => r.Properties);
    expect(configs).toEqual([
      expect.objectContaining({
        FunctionName: { Ref: 'PollLambdaFunction' },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 60,
      }),
    ]);
  });

  it('keeps each function’s logs 30 days in a log group of its own', () => {
    for (const name of FUNCTIONS)
      expect(resource(`${logicalId(name).replace(/LambdaFunction$/, '')}LogGroup`), name).toEqual({
        LogGroupName: `/aws/lambda/${String(lambda(name).FunctionName)}`,
        RetentionInDays: 30,
      });
  });

  it.each([
    [
      'SubmitDeadLetterQueueDepthAlarm',
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['SubmitDeadLetterQueue', 'QueueName'] } }],
      'Maximum',
      0,
    ],
    [
      'SubmitErrorsAlarm',
      'AWS/Lambda',
      'Errors',
      [{ Name: 'FunctionName', Value: { Ref: 'SubmitLambdaFunction' } }],
      'Sum',
      0,
    ],
    [
      'WebhookDeliveriesFailedAlarm',
      'CvmProvisioner',
      'WebhookDeliveriesFailed',
      [{ Name: 'service', Value: 'poll' }],
      'Sum',
      0,
    ],
    [
      'SubmitQueueAgeAlarm',
      'AWS/SQS',
      'ApproximateAgeOfOldestMessage',
      [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['SubmitQueue', 'QueueName'] } }],
      'Maximum',
      900,
    ],
  ])(
    'alarms with %s on %s %s above its threshold over 5 minutes',
    (id, namespace, metric, dimensions, statistic, threshold) => {
      expect(resource(id)).toMatchObject({
        Namespace: namespace,
        MetricName: metric,
        Dimensions: dimensions,
        Statistic: statistic,
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
    },
  );

  it('notifies the alarm topic only when the stage parameter alarmTopicArn names one', () => {
    const alarms = resourcesOf('AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(4);
    const wiring = (topic: string) => ({ 'Fn::If': ['HasAlarmTopic', [topic], { Ref: 'AWS::NoValue' }] });
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual(wiring(''));
      expect(alarm.Properties.OKActions, id).toEqual(wiring(''));
      expect(prod.resources.Resources[id]?.Properties.AlarmActions, id).toEqual(wiring(ALARM_TOPIC));
    }
    // On ci the topic is empty, so the condition is false and no alarm has an action.
    expect(template.Conditions?.HasAlarmTopic).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    expect(prod.resources.Conditions?.HasAlarmTopic).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [ALARM_TOPIC, ''] }],
    });
  });

  it('references the Tencent credentials secret by name and never creates one', () => {
    expect(
      Object.values(template.Resources).filter((r) => r.Type.startsWith('AWS::SecretsManager::')),
    ).toEqual([]);
    for (const name of ['submit', 'deadLetter', 'poll'] as const) {
      expect(variables(name).TENCENTCLOUD_CREDENTIALS_SECRET, name).toBe('cvm-provisioner/tencent');
      expect(grants(roleOf(name))['secretsmanager:GetSecretValue'], name).toEqual([
        JSON.stringify({ 'Fn::Sub': SECRET_ARN }),
      ]);
    }
  });

  it('gives each function a role of its own, which only Lambda may assume', () => {
    const roles = FUNCTIONS.map(roleOf);
    expect(new Set(roles).size).toBe(FUNCTIONS.length);
    expect(
      resourcesOf('AWS::IAM::Role')
        .map(([id]) => id)
        .sort(),
    ).toEqual([...roles].sort());
    for (const id of roles)
      expect(resource(id).AssumeRolePolicyDocument, id).toEqual({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      });
  });

  it('has no Allow statement anywhere with a wildcard action or a * resource', () => {
    const allows = statements().filter(({ statement }) => statement.Effect === 'Allow');
    expect(allows.length).toBeGreaterThan(FUNCTIONS.length * 3);
    for (const { where, statement } of allows) {
      expect(statement.NotAction, where).toBeUndefined();
      expect(statement.NotResource, where).toBeUndefined();
      expect(
        [statement.Action ?? []].flat().filter((action) => action.includes('*')),
        where,
      ).toEqual([]);
      expect(
        stringsIn(statement.Resource).filter((text) => text.includes('*')),
        where,
      ).toEqual([]);
    }
  });

  it("has one wildcard left, in a Deny: osls's deployment bucket refuses every request without TLS", () => {
    expect(statements().filter(({ statement }) => statement.Effect !== 'Allow')).toEqual([
      {
        where: 'Resources.ServerlessDeploymentBucketPolicy.Properties.PolicyDocument.Statement[0]',
        statement: expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Principal: '*',
          Condition: { Bool: { 'aws:SecureTransport': false } },
        }),
      },
    ]);
  });

  it('keeps Secrets Manager from the API and chat roles, and DeleteItem from the poll role', () => {
    for (const name of ['api', 'chatops'] as const)
      expect(
        Object.keys(grants(roleOf(name))).filter((action) => action.startsWith('secretsmanager:')),
        name,
      ).toEqual([]);
    expect(grants(roleOf('poll'))['dynamodb:DeleteItem']).toBeUndefined();
  });

  describe('each role against its function’s code', () => {
    /** The IAM action each AWS SDK command the code sends needs. */
    const ACTIONS: Readonly<Record<string, string>> = {
      GetCommand: 'dynamodb:GetItem',
      PutCommand: 'dynamodb:PutItem',
      UpdateCommand: 'dynamodb:UpdateItem',
      DeleteCommand: 'dynamodb:DeleteItem',
      QueryCommand: 'dynamodb:Query',
      ScanCommand: 'dynamodb:Scan',
      SendMessageCommand: 'sqs:SendMessage',
      ChangeMessageVisibilityCommand: 'sqs:ChangeMessageVisibility',
      DeleteMessageCommand: 'sqs:DeleteMessage',
      GetSecretValueCommand: 'secretsmanager:GetSecretValue',
    };
    /** What Lambda's event source mapping does with the function's role on its queue. */
    const MAPPING_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'];

    /**
     * The commands and index names in the project's own code of a function's bundle, built as serverless.yml's
     * custom.esbuild builds it but unminified, so that the module markers and names survive tree shaking.
     */
    async function calls(name: FunctionName): Promise<{ commands: Set<string>; strings: string }> {
      const options = (
        parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as {
          custom: { esbuild: Record<string, unknown> };
        }
      ).custom.esbuild;
      const entry = `${String(lambda(name).Handler).replace(/\.handler$/, '')}.ts`;
      const result = await build({
        absWorkingDir: ROOT,
        entryPoints: [entry],
        bundle: true,
        write: false,
        format: options.format as 'esm',
        platform: options.platform as 'node',
        target: String(options.target),
        mainFields: options.mainFields as string[],
        logLevel: 'silent',
      });
      const code = result.outputFiles[0]?.text ?? '';
      // esbuild heads each module's code with `// <path>`: keep the project's own (lib/, handlers/).
      const ours = code
        .split(/^\/\/ (?=\S+$)/m)
        .filter((part) => /^(lib|handlers)\//.test(part))
        .join('\n');
      const commands = new Set([...ours.matchAll(/\bnew (\w+?Command)\d*\(/g)].map((m) => m[1] ?? ''));
      return { commands, strings: ours };
    }

    it.each(FUNCTIONS)(
      'grants %s exactly the calls its code makes, on the resources it names',
      async (name) => {
        const { commands, strings } = await calls(name);
        const unknown = [...commands].filter((command) => !(command in ACTIONS));
        expect(unknown, 'commands this test does not map to an IAM action').toEqual([]);

        const table = JSON.stringify({ 'Fn::GetAtt': ['JobsTable', 'Arn'] });
        const indexes = (resource('JobsTable').GlobalSecondaryIndexes as Array<{ IndexName: string }>)
          .map((index) => index.IndexName)
          .filter((index) => strings.includes(`"${index}"`))
          .map((index) =>
            JSON.stringify({ 'Fn::Join': ['/', [{ 'Fn::GetAtt': ['JobsTable', 'Arn'] }, 'index', index]] }),
          );
        // The queues the function names: those its environment refers to and those it consumes.
        const queues = [
          ...Object.values(variables(name)).map(referenced),
          ...mappingsOf(name).map((mapping) => referenced(mapping.EventSourceArn)),
        ]
          .filter(
            (id): id is string => id !== undefined && template.Resources[id]?.Type === 'AWS::SQS::Queue',
          )
          .map((id) => JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] }));
        const logGroup = JSON.stringify({
          'Fn::GetAtt': [`${logicalId(name).replace(/LambdaFunction$/, '')}LogGroup`, 'Arn'],
        });

        const expected: Record<string, Set<string>> = {};
        const grant = (action: string, targets: string[]) => {
          expected[action] = new Set([...(expected[action] ?? []), ...targets]);
        };
        grant('logs:CreateLogStream', [logGroup]);
        grant('logs:PutLogEvents', [logGroup]);
        for (const command of commands) {
          const action = ACTIONS[command] ?? '';
          if (action === 'dynamodb:Query') grant(action, indexes);
          else if (action.startsWith('dynamodb:')) grant(action, [table]);
          else if (action.startsWith('sqs:')) grant(action, [...new Set(queues)]);
          else grant(action, [JSON.stringify({ 'Fn::Sub': SECRET_ARN })]);
        }
        if (mappingsOf(name).length)
          for (const action of MAPPING_ACTIONS) grant(action, [...new Set(queues)]);

        expect(grants(roleOf(name))).toEqual(
          Object.fromEntries(
            Object.entries(expected)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([action, targets]) => [action, [...targets].sort()]),
          ),
        );
      },
    );
  });
});
