import { createHash, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import type { ApiDeps } from '../../lib/api/deps.ts';
import { ROUTES } from '../../lib/api/router.ts';
import { requestFingerprint } from '../../lib/api/run-instances.ts';
import { documentClient } from '../../lib/deps.ts';
import type { AuthSettings } from '../../lib/http/auth.ts';
import type { HttpEvent, HttpResponse } from '../../lib/http/types.ts';
import { splitControlFields } from '../../lib/jobs/control-fields.ts';
import { PENDING_INDEX } from '../../lib/jobs/table.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { type ProfileName, validateRunInstances } from '../../lib/run-instances/index.ts';
import { type Emulators, localClients, provisionResources, startEmulators } from '../../local/emulators.ts';
import { lambdaContext } from '../../local/gateway.ts';
import { readStackResources } from '../../local/resources.ts';

/** The seed examples 2 and 3 carry this password (events/seed/example-2.json). */
export const SEED_PASSWORD = 'Qcloud@TestApi123++';

/** Bearer tokens of two callers; `tokenAuth()` configures their SHA-256 as API_TOKENS would. */
export const TOKENS = {
  alice: { name: 'alice', token: 'alice-token-0123456789abcdef' },
  bob: { name: 'bob', token: 'bob-token-fedcba9876543210' },
} as const;

export interface NamedToken {
  name: string;
  token: string;
}

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** Token-mode auth settings for the given callers (alice, then bob, by default). */
export function tokenAuth(tokens: readonly NamedToken[] = [TOKENS.alice, TOKENS.bob]): AuthSettings {
  return { mode: 'token', tokens: tokens.map(({ name, token }) => ({ name, sha256: sha256Hex(token) })) };
}

/** The IAM authorizer's identity of an assumed-role caller. */
export interface IamIdentity {
  userArn?: string;
  userId?: string;
  accountId?: string;
  callerId?: string;
}

export const ALICE_ARN = 'arn:aws:sts::123456789012:assumed-role/platform-ci/alice';
export const BOB_ARN = 'arn:aws:sts::123456789012:assumed-role/web-team/bob';
/** Who ALICE_ARN is to the API: the assumed role, not its session (lib/http/auth.ts stableIdentity). */
export const ALICE_ROLE = 'arn:aws:iam::123456789012:role/platform-ci';

export function iamIdentity(userArn: string = ALICE_ARN): IamIdentity {
  return { userArn, accountId: '123456789012', callerId: 'AROAEXAMPLE:alice', userId: 'AROAEXAMPLE:alice' };
}

export interface EventOptions {
  /** Extra headers (added after the defaults; names as given). */
  headers?: Record<string, string>;
  /** The bearer token to send; `null` sends no Authorization header. Defaults to alice's token. */
  bearer?: string | null;
  /** The IAM authorizer context; omitted unless given. */
  iam?: IamIdentity;
  /** Shortcut for the Idempotency-Key header. */
  idempotencyKey?: string;
  requestId?: string;
}

interface EventInit {
  routeKey: string;
  method: string;
  rawPath: string;
  headers: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  pathParameters?: Record<string, string>;
}

function buildEvent(init: EventInit, options: EventOptions): HttpEvent {
  const headers: Record<string, string> = {
    host: 'api.example.test',
    'user-agent': 'vitest',
    ...init.headers,
  };
  const bearer = options.bearer === undefined ? TOKENS.alice.token : options.bearer;
  if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
  if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
  Object.assign(headers, options.headers);
  const timeEpoch = Date.UTC(2026, 10, 26, 12);
  return {
    version: '2.0',
    routeKey: init.routeKey,
    rawPath: init.rawPath,
    rawQueryString: '',
    headers,
    ...(init.pathParameters ? { pathParameters: init.pathParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'test',
      ...(options.iam ? { authorizer: { iam: options.iam } } : {}),
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: {
        method: init.method,
        path: init.rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'vitest',
      },
      requestId: options.requestId ?? 'test-request-id',
      routeKey: init.routeKey,
      stage: '$default',
      time: new Date(timeEpoch).toUTCString(),
      timeEpoch,
    },
    ...(init.body === undefined ? {} : { body: init.body }),
    isBase64Encoded: init.isBase64Encoded ?? false,
  };
}

/** POST /v1/run-instances with any content type and raw body (for 413, 415 and encoding cases). */
export function runInstancesEvent(
  init: { contentType?: string; body?: string; isBase64Encoded?: boolean },
  options: EventOptions = {},
): HttpEvent {
  return buildEvent(
    {
      routeKey: ROUTES.runInstances,
      method: 'POST',
      rawPath: '/v1/run-instances',
      headers: init.contentType === undefined ? {} : { 'content-type': init.contentType },
      ...(init.body === undefined ? {} : { body: init.body }),
      ...(init.isBase64Encoded === undefined ? {} : { isBase64Encoded: init.isBase64Encoded }),
    },
    options,
  );
}

/** POST /v1/run-instances with a JSON body (an object is serialized; a string is sent as is). */
export function jsonRunEvent(body: unknown, options: EventOptions = {}): HttpEvent {
  return runInstancesEvent(
    { contentType: 'application/json', body: typeof body === 'string' ? body : JSON.stringify(body) },
    options,
  );
}

/** POST /v1/run-instances with a flattened form body, sent in clear or base64-encoded as API Gateway does. */
export function formRunEvent(form: string, options: EventOptions & { base64?: boolean } = {}): HttpEvent {
  const { base64 = false, ...rest } = options;
  return runInstancesEvent(
    {
      contentType: 'application/x-www-form-urlencoded',
      body: base64 ? Buffer.from(form, 'utf8').toString('base64') : form,
      isBase64Encoded: base64,
    },
    rest,
  );
}

/** GET /v1/jobs/{jobId}. */
export function getJobEvent(jobId: string, options: EventOptions = {}): HttpEvent {
  return buildEvent(
    {
      routeKey: ROUTES.getJob,
      method: 'GET',
      rawPath: `/v1/jobs/${jobId}`,
      headers: {},
      pathParameters: { jobId },
    },
    options,
  );
}

/** A clock the test moves by hand. */
export interface TestClock {
  now: () => Date;
  advance(ms: number): void;
  set(date: Date): void;
}

export const CLOCK_START = new Date('2026-11-26T12:00:00.000Z');

export function testClock(start: Date = CLOCK_START): TestClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance: (ms) => {
      current += ms;
    },
    set: (date) => {
      current = date.getTime();
    },
  };
}

/** Job ids 00000000-0000-4000-8000-000000000001, …002, … (lower-case UUIDs, as randomUUID returns). */
export function sequentialIds(first = 1): () => string {
  let next = first;
  return () => `00000000-0000-4000-8000-${(next++).toString(16).padStart(12, '0')}`;
}

/** A logger whose JSON lines are kept for assertions. */
export interface LogCapture {
  logger: Logger;
  lines: string[];
  records(): Array<Record<string, unknown>>;
  text(): string;
}

export function captureLogs(): LogCapture {
  const lines: string[] = [];
  return {
    logger: createLogger({ level: 'debug', sink: (line) => lines.push(line), base: { service: 'api' } }),
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => lines.join('\n'),
  };
}

/** Clients aimed at a loopback port nobody listens on: a forgotten mock fails fast instead of leaving. */
const UNUSED_ENDPOINT = 'http://127.0.0.1:9';
const OFFLINE_AWS = {
  region: 'us-east-1',
  endpoint: UNUSED_ENDPOINT,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
} as const;

export const TEST_TABLE = 'cvm-provisioner-test-jobs';
export const TEST_QUEUE_URL = 'http://127.0.0.1:9/000000000000/cvm-provisioner-test-submit';

/** ApiDeps with token auth, seed-2017, no policy, a fixed clock and sequential ids; `overrides` replace parts. */
export function apiDeps(overrides: Partial<ApiDeps> = {}): ApiDeps {
  const clock = testClock();
  return {
    ddb: documentClient(new DynamoDBClient(OFFLINE_AWS)),
    sqs: new SQSClient(OFFLINE_AWS),
    tableName: TEST_TABLE,
    queueUrl: TEST_QUEUE_URL,
    now: clock.now,
    newId: sequentialIds(),
    logger: createLogger({ sink: () => {} }),
    profile: 'seed-2017',
    policy: {},
    auth: tokenAuth(),
    ...overrides,
  };
}

/** ApiDeps on aws-sdk-client-mock stubs, with captured logs, a movable clock and an item map behind Put/Get. */
export interface MockedApi {
  deps: ApiDeps;
  ddb: AwsClientStub<DynamoDBDocumentClient>;
  sqs: AwsClientStub<SQSClient>;
  logs: LogCapture;
  clock: TestClock;
  /** What PutCommand stored, by `pk` (no conditions are evaluated; the emulator tests cover those). */
  items: Map<string, Record<string, unknown>>;
}

/**
 * Mocked AWS clients with plain defaults: Put stores the item, Get reads it back, Update/Delete/Query succeed,
 * SendMessage answers a message id. Tests replace a behaviour with `.on(Command)…`.
 */
export function mockedApi(overrides: Partial<ApiDeps> = {}): MockedApi {
  const ddbClient = documentClient(new DynamoDBClient(OFFLINE_AWS));
  const sqsClient = new SQSClient(OFFLINE_AWS);
  const ddb = mockClient(ddbClient);
  const sqs = mockClient(sqsClient);
  const items = new Map<string, Record<string, unknown>>();
  ddb.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
    items.set(String(input.Item.pk), structuredClone(input.Item));
    return {};
  });
  ddb.on(GetCommand).callsFake((input: { Key: { pk: string } }) => {
    const item = items.get(input.Key.pk);
    return item ? { Item: structuredClone(item) } : {};
  });
  ddb.on(UpdateCommand).resolves({});
  ddb.on(DeleteCommand).resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'msg-1' });
  const logs = captureLogs();
  const clock = testClock();
  const deps = apiDeps({ ddb: ddbClient, sqs: sqsClient, logger: logs.logger, now: clock.now, ...overrides });
  return { deps, ddb, sqs, logs, clock, items };
}

/** Calls a Lambda handler as API Gateway would, with a context good enough for middy. */
export function invoke(
  handler: (event: HttpEvent, context: ReturnType<typeof lambdaContext>) => Promise<HttpResponse>,
  event: HttpEvent,
): Promise<HttpResponse> {
  return handler(event, lambdaContext('cvm-provisioner-test-api', 10_000));
}

/** An RFC 9457 problem body as this API writes it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  errors: Array<{ param: string; code: string; message: string }>;
}

function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    typeof p.type === 'string' &&
    typeof p.title === 'string' &&
    typeof p.status === 'number' &&
    typeof p.detail === 'string' &&
    typeof p.instance === 'string' &&
    typeof p.code === 'string' &&
    Array.isArray(p.errors)
  );
}

/** The problem in a response; throws when the body lacks any member of the shape. */
export function problemOf(response: HttpResponse): Problem {
  const parsed: unknown = JSON.parse(response.body);
  if (!isProblem(parsed)) throw new Error(`not a problem+json body: ${response.body}`);
  return parsed;
}

/** The job view in a 202/200 response body. */
export interface JobBody {
  jobId: string;
  status: string;
  region: string;
  clientToken: string;
  request: Record<string, unknown> & { LoginSettings?: { Password?: string } };
  requestedBy: string;
  metadata: Record<string, string>;
  [key: string]: unknown;
}

export function jobOf(response: HttpResponse): JobBody {
  const parsed: unknown = JSON.parse(response.body);
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as { jobId?: unknown }).jobId !== 'string'
  )
    throw new Error(`not a job body: ${response.body}`);
  return parsed as JobBody;
}

/**
 * The Idempotency-Key fingerprint the API computes for a (nested) request body, for tests that plant an
 * idempotency record before the request arrives.
 */
export function fingerprintOf(
  body: Record<string, unknown>,
  options: { profile?: ProfileName; now?: Date } = {},
): string {
  const { tencent, control, errors } = splitControlFields(body);
  const validation = validateRunInstances(tencent, {
    profile: options.profile ?? 'seed-2017',
    now: options.now ?? CLOCK_START,
  });
  if (!validation.ok || errors.length) throw new Error('fingerprintOf needs a valid request');
  return requestFingerprint(validation.request, validation.region, control);
}

/** One stage's resources on the emulators: its table and queues, and clients to reach them. */
export interface ApiStack {
  ddb: DynamoDBDocumentClient;
  sqs: SQSClient;
  tableName: string;
  queueUrls: Record<string, string>;
  submitQueueUrl: string;
}

/** The ids of the QUEUED jobs of a table, read from the sparse pending index. */
export async function queuedJobIds(stack: ApiStack): Promise<string[]> {
  const { Items = [] } = await stack.ddb.send(
    new QueryCommand({
      TableName: stack.tableName,
      IndexName: PENDING_INDEX,
      KeyConditionExpression: 'pendingStatus = :queued',
      ExpressionAttributeValues: { ':queued': 'QUEUED' },
    }),
  );
  return Items.map((item) => String(item.jobId));
}

/** Emulators for one test file: dynalite and fauxqs on loopback port 0, resources from serverless.yml. */
export interface ApiEmulators extends ApiStack {
  emulators: Emulators;
  clients: ReturnType<typeof localClients>;
  /** Creates another stage's table and queues (for tests that need an empty table or queue). */
  provision(stage: string): Promise<ApiStack>;
  stop(): Promise<void>;
}

export async function startApiEmulators(stage: string): Promise<ApiEmulators> {
  const emulators = await startEmulators();
  const clients = localClients(emulators);
  const ddb = documentClient(clients.dynamodb);
  const provision = async (name: string): Promise<ApiStack> => {
    const { tableName, queueUrls } = await provisionResources(clients, readStackResources(name));
    const submitQueueUrl = queueUrls.SubmitQueue;
    if (!submitQueueUrl) throw new Error('serverless.yml defines no SubmitQueue');
    return { ddb, sqs: clients.sqs, tableName, queueUrls, submitQueueUrl };
  };
  return {
    ...(await provision(stage)),
    emulators,
    clients,
    provision,
    stop: async () => {
      clients.dynamodb.destroy();
      clients.sqs.destroy();
      await emulators.stop();
    },
  };
}

/** ApiDeps on the emulators (real table and queue), with captured logs and a movable clock. */
export function emulatorApi(stack: ApiStack, overrides: Partial<ApiDeps> = {}) {
  const logs = captureLogs();
  const clock = testClock();
  const deps = apiDeps({
    ddb: stack.ddb,
    sqs: stack.sqs,
    tableName: stack.tableName,
    queueUrl: stack.submitQueueUrl,
    logger: logs.logger,
    now: clock.now,
    newId: randomUUID,
    ...overrides,
  });
  return { deps, logs, clock };
}

/** Receives (and deletes) every message visible on a queue right now; returns their bodies. */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return bodies;
    for (const message of Messages) {
      bodies.push(message.Body ?? '');
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}
