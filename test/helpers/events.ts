import { createHash } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { ROUTES } from '../../lib/api/router.ts';
import type { AuthSettings } from '../../lib/http/auth.ts';
import type { HttpEvent, HttpResponse } from '../../lib/http/types.ts';

/**
 * Lambda events and answers for unit tests of handlers: API Gateway HTTP API (payload 2.0) requests as the
 * gateway sends them, a Lambda context, and readers for the problem+json and job bodies the API answers.
 */

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

/** A Lambda context good enough for middy and for deadline arithmetic. */
export function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: 'test-aws-request-id',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Calls a Lambda handler as API Gateway would, with a context good enough for middy. */
export function invoke(
  handler: (event: HttpEvent, context: Context) => Promise<HttpResponse>,
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
