import * as z from 'zod/mini';
import formEvent from '../../events/api/post-run-instances-form.json' with { type: 'json' };
import seed1 from '../../events/seed/example-1.json' with { type: 'json' };
import seed2 from '../../events/seed/example-2.json' with { type: 'json' };
import seed3 from '../../events/seed/example-3.json' with { type: 'json' };
import { MAX_VIOLATIONS, type RefusalKind } from '../errors.ts';
import { MAX_BODY_BYTES } from '../http/body.ts';
import { PROBLEM_TYPE_PREFIX, REFUSAL_STATUS } from '../http/problem.ts';
import type { HttpResponse } from '../http/types.ts';
import { CONTROL_FIELDS, submissionSchemaFor } from '../jobs/control-fields.ts';
import { DELIVERY_STATES, EVENT_TYPES, JOB_STATUSES } from '../jobs/model.ts';
import { API_ACTION, COMMON_PARAMETERS, type ProfileName, schemaFor } from '../run-instances/index.ts';
import { CVM_API_VERSION } from '../tencent/wire.ts';
import { DEFAULT_PAGE, MAX_PAGE } from './jobs.ts';
// Type only: the router imports this module, so a value import back would be a cycle.
import type { ROUTES } from './router.ts';
import { RETRY_AFTER_SECONDS } from './run-instances.ts';

/** A JSON Schema 2020-12 or OpenAPI object, as plain JSON. */
type Json = Record<string, unknown>;
type RouteKey = (typeof ROUTES)[keyof typeof ROUTES];

/** The chat route: served by the chatops function, not the API, but part of the same HTTP API. */
export const CHAT_ROUTE = 'POST /v1/chatops/slack';

/** The document is small and changes only with a deployment: caches may keep it a few minutes. */
export const OPENAPI_MAX_AGE_SECONDS = 300;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: Json): Json => ({ anyOf: [schema, { type: 'null' }] });
const dateTime = (description: string): Json => ({ type: 'string', format: 'date-time', description });

/**
 * A profile's zod schema as JSON Schema 2020-12, for the request (`io: 'input'`). A list of the RunInstances
 * schema is a pipe (its length checked before its items): zod describes a pipe's input side only, an array of
 * anything, so the items' schema is put back from the pipe's output side.
 */
function jsonSchemaOf(schema: z.core.$ZodType): Json {
  const json: Json = z.toJSONSchema(schema, {
    io: 'input',
    // Refinements (resource id shapes, password rules, cross-field rules) have no JSON Schema form: the
    // schema gives shapes, types, enums and bounds; the API checks everything else and lists each violation.
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def;
      if (def.type === 'pipe' && def.in instanceof z.ZodMiniArray && def.out instanceof z.ZodMiniArray)
        jsonSchema.items = jsonSchemaOf(def.out._zod.def.element);
    },
  });
  // OpenAPI 3.1 schemas take the document's dialect (JSON Schema 2020-12): no `$schema` of their own.
  delete json.$schema;
  return json;
}

/** The common Tencent parameters the body may carry; they must agree with the request (docs/http-api.md). */
const COMMON_SCHEMAS: Readonly<Record<(typeof COMMON_PARAMETERS)[number], Json>> = {
  Action: { const: API_ACTION, description: 'Optional; if given, must be RunInstances.' },
  Version: { const: CVM_API_VERSION, description: `Optional; if given, must be ${CVM_API_VERSION}.` },
  Region: {
    type: 'string',
    description:
      "Optional: derived from Placement.Zone. If given, a known CVM region that agrees with the zone; required when a launch template replaces Placement (profile 'current').",
  },
};

/** The submission body: the profile's RunInstances schema with the control fields, plus the common parameters. */
function submissionSchema(profile: ProfileName): Json {
  const schema = jsonSchemaOf(submissionSchemaFor(profile));
  schema.properties = { ...(schema.properties as Json), ...COMMON_SCHEMAS };
  schema.description = `A Tencent RunInstances request (API ${CVM_API_VERSION}, validation profile '${profile}') in API 3.0 shape, with the control fields ${CONTROL_FIELDS.join(', ')} and the optional common parameters ${COMMON_PARAMETERS.join(', ')}. The API checks more than this schema can say (resource id shapes, password rules, cross-field rules) and lists every violation in one 400.`;
  return schema;
}

const SEED_EXAMPLES = { 'seed-1': seed1, 'seed-2': seed2, 'seed-3': seed3 } as const;
const SEED_SUMMARIES: Readonly<Record<keyof typeof SEED_EXAMPLES, string>> = {
  'seed-1': 'Zone and image only',
  'seed-2': 'Prepaid for a month, auto-renew, local disks, 10 Mbps, password, security and monitoring',
  'seed-3': 'The same, postpaid by the hour',
};

const jsonExamples = () =>
  Object.fromEntries(
    Object.entries(SEED_EXAMPLES).map(([name, value]) => [
      name,
      { summary: SEED_SUMMARIES[name as keyof typeof SEED_EXAMPLES], value },
    ]),
  );

/** Seed example 2 in the flattened form: the body of the API Gateway event fixture (base64, as API Gateway sends forms). */
const formExample = () =>
  Buffer.from(formEvent.body, formEvent.isBase64Encoded ? 'base64' : 'utf8').toString();

const problem = (description: string, headers: Json = {}): Json => ({
  description,
  headers,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});
const retryAfter = (description: string): Json => ({
  description,
  schema: { type: 'integer', minimum: 0 },
});

/**
 * The error answers shared by several routes, by refusal kind; their statuses are REFUSAL_STATUS' (500 is the
 * generic answer to anything unexpected).
 */
const RESPONSES = {
  invalid: problem(
    'invalid-request: a malformed body or header, or RunInstances / control-field violations (each listed in errors; code is the first one).',
  ),
  unauthenticated: problem('unauthenticated (AuthFailure): no valid identity.', {
    'WWW-Authenticate': {
      description: 'The scheme to use: AWS4-HMAC-SHA256 (IAM) or Bearer realm="cvm-provisioner" (token).',
      schema: { type: 'string' },
    },
  }),
  denied: problem('denied-by-policy: a guardrail (zones, instance types, counts) refuses the request.'),
  'not-found': problem(
    'not-found (ResourceNotFound): no such job for this caller (another caller’s job included).',
  ),
  'too-large': problem(`payload-too-large (RequestSizeLimitExceeded): a body over ${MAX_BODY_BYTES} bytes.`),
  'unsupported-media-type': problem(
    'unsupported-media-type: neither application/json nor application/x-www-form-urlencoded, or a charset other than UTF-8.',
  ),
  internal: problem(
    'internal-error (InternalError): anything unexpected; a generic detail, the cause is logged.',
  ),
} as const;

const statusOf = (kind: RefusalKind | 'internal') => String(kind === 'internal' ? 500 : REFUSAL_STATUS[kind]);

/** An operation's shared error answers, by refusal kind. */
const refused = (...kinds: Array<keyof typeof RESPONSES>): Json =>
  Object.fromEntries(kinds.map((kind) => [statusOf(kind), { $ref: `#/components/responses/${kind}` }]));

const json = (schema: Json, description: string): Json => ({
  description,
  content: { 'application/json': { schema } },
});

function schemas(profile: ProfileName): Json {
  return {
    Submission: submissionSchema(profile),
    RunInstancesRequest: {
      ...jsonSchemaOf(schemaFor(profile)),
      description:
        'The validated RunInstances parameters as stored: ClientToken set, LoginSettings.Password shown as [REDACTED].',
    },
    JobStatus: { type: 'string', enum: [...JOB_STATUSES] },
    EventType: { type: 'string', enum: [...EVENT_TYPES] },
    JobInstance: {
      type: 'object',
      required: ['instanceId', 'state', 'privateIpAddresses', 'publicIpAddresses'],
      properties: {
        instanceId: { type: 'string' },
        state: {
          type: 'string',
          description:
            "PENDING as submitted, then Tencent's InstanceState as last polled, or NOT_FOUND for an instance DescribeInstances stopped returning.",
        },
        privateIpAddresses: { type: 'array', items: { type: 'string' } },
        publicIpAddresses: { type: 'array', items: { type: 'string' } },
        reason: { type: 'string', description: 'Why the instance failed (failed instances only).' },
      },
      additionalProperties: false,
    },
    JobError: {
      type: 'object',
      required: ['code', 'message', 'requestId'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        requestId: { type: ['string', 'null'], description: "Tencent's RequestId, when Tencent answered." },
      },
      additionalProperties: false,
    },
    JobView: {
      type: 'object',
      required: [
        'jobId',
        'status',
        'region',
        'clientToken',
        'request',
        'instances',
        'error',
        'attempts',
        'requestedBy',
        'metadata',
        'createdAt',
        'updatedAt',
        'submittedAt',
        'completedAt',
      ],
      properties: {
        jobId: { type: 'string', format: 'uuid' },
        status: ref('JobStatus'),
        region: { type: 'string' },
        clientToken: { type: 'string', maxLength: 64 },
        request: ref('RunInstancesRequest'),
        instances: { type: 'array', items: ref('JobInstance') },
        error: nullable(ref('JobError')),
        attempts: { type: 'integer', minimum: 0, description: 'Submission attempts claimed so far.' },
        requestedBy: { type: 'string', description: 'The authenticated caller.' },
        metadata: { type: 'object', additionalProperties: { type: 'string' } },
        createdAt: dateTime('When the job was accepted.'),
        updatedAt: dateTime('When the job last changed.'),
        submittedAt: nullable(dateTime('When Tencent accepted the RunInstances call.')),
        completedAt: nullable(dateTime('When the job reached a terminal status.')),
      },
      additionalProperties: false,
    },
    JobList: {
      type: 'object',
      required: ['jobs', 'next'],
      properties: {
        jobs: { type: 'array', items: ref('JobView'), description: 'Newest first.' },
        next: { type: ['string', 'null'], description: 'The cursor of the next page, or null on the last.' },
      },
      additionalProperties: false,
    },
    Validated: {
      type: 'object',
      required: ['ok', 'region', 'request'],
      properties: {
        ok: { const: true },
        region: { type: 'string' },
        request: ref('RunInstancesRequest'),
      },
      additionalProperties: false,
    },
    DeliveryAttempt: {
      type: 'object',
      required: ['at'],
      properties: {
        at: dateTime('When the attempt was made.'),
        via: {
          type: 'string',
          enum: ['response_url', 'chat.postMessage'],
          description:
            "How a chat follow-up went out: the command's response_url, or Slack's chat.postMessage.",
        },
        status: { type: 'integer', description: 'The HTTP status the target answered.' },
        error: { type: 'string', description: 'What went wrong before the target could answer.' },
      },
    },
    Delivery: {
      type: 'object',
      required: ['target', 'attempts', 'state', 'nextAttemptAt'],
      properties: {
        target: {
          type: 'string',
          description:
            "Where the event goes: webhook (the job's webhookUrl), default (DEFAULT_WEBHOOK_URL), …",
        },
        attempts: { type: 'array', items: ref('DeliveryAttempt') },
        state: { type: 'string', enum: [...DELIVERY_STATES] },
        nextAttemptAt: nullable(dateTime('When the next attempt is due (PENDING only).')),
      },
    },
    JobEvent: {
      type: 'object',
      required: ['id', 'type', 'createdAt', 'deliveries'],
      properties: {
        id: {
          type: 'string',
          description: 'Stable across attempts and redeliveries: the webhook-id header.',
        },
        type: ref('EventType'),
        createdAt: dateTime('When the transition that emitted the event happened.'),
        deliveries: { type: 'array', items: ref('Delivery') },
      },
    },
    EventLog: {
      type: 'object',
      required: ['events'],
      properties: { events: { type: 'array', items: ref('JobEvent') } },
    },
    WebhookPayload: {
      type: 'object',
      required: ['type', 'timestamp', 'data'],
      properties: {
        type: ref('EventType'),
        timestamp: dateTime("The event's createdAt."),
        data: { ...ref('JobView'), description: 'The job as of the event.' },
      },
      additionalProperties: false,
    },
    Problem: {
      type: 'object',
      description: 'RFC 9457 problem details, with a Tencent-style code and the violations.',
      required: ['type', 'title', 'status', 'detail', 'instance', 'code', 'errors'],
      properties: {
        type: {
          type: 'string',
          pattern: `^${PROBLEM_TYPE_PREFIX.replaceAll('.', '\\.')}[a-z-]+$`,
          description: 'A stable URN; no page is hosted at it.',
        },
        title: { type: 'string', description: 'Fixed per type.' },
        status: { type: 'integer', description: 'The HTTP status.' },
        detail: { type: 'string' },
        instance: { type: 'string', description: 'The request path.' },
        code: {
          type: 'string',
          description: 'The Tencent-style code of the first violation, or of the refusal.',
        },
        errors: {
          type: 'array',
          maxItems: MAX_VIOLATIONS + 1,
          description: `At most ${MAX_VIOLATIONS} violations, then one "(body)" entry counting the rest; empty for refusals not about parameters.`,
          items: {
            type: 'object',
            required: ['param', 'code', 'message'],
            properties: {
              param: { type: 'string', description: "Tencent's dotted parameter name, or (body)." },
              code: { type: 'string' },
              message: { type: 'string' },
            },
            additionalProperties: false,
          },
        },
      },
    },
    ChatCommand: {
      type: 'object',
      description:
        'A Slack or Mattermost slash command as the platform posts it (form fields; others are ignored).',
      properties: Object.fromEntries(
        [
          'command',
          'text',
          'team_id',
          'channel_id',
          'user_id',
          'response_url',
          'trigger_id',
          'token',
          'ssl_check',
        ].map((name) => [name, { type: 'string' }]),
      ),
      additionalProperties: { type: 'string' },
    },
  };
}

const submissionBody = (): Json => ({
  required: true,
  description: `At most ${MAX_BODY_BYTES} bytes, strict UTF-8. The form is Tencent's flattened encoding (Placement.Zone=…&DataDisks.0.DiskType=…), not OpenAPI's own form serialization: dotted names nest, numeric segments are list indexes from 0, integers and booleans (TRUE/FALSE) are coerced where the schema expects them. Decoded, it must match the same schema as the JSON body.`,
  content: {
    'application/json': { schema: ref('Submission'), examples: jsonExamples() },
    'application/x-www-form-urlencoded': {
      schema: {
        ...ref('Submission'),
        description:
          'The decoded shape of a flattened form body (Placement.Zone=ap-guangzhou-3&DataDisks.0.DiskSize=100 is {"Placement":{"Zone":"ap-guangzhou-3"},"DataDisks":[{"DiskSize":100}]}).',
      },
      examples: { 'seed-2': { summary: SEED_SUMMARIES['seed-2'], value: formExample() } },
    },
  },
});

const jobId = { $ref: '#/components/parameters/jobId' };

/** Every route of the API function, and the chat route; ROUTES' type makes a route without an entry an error. */
function operations(): Record<RouteKey | typeof CHAT_ROUTE, Json> {
  return {
    'POST /v1/run-instances': {
      operationId: 'runInstances',
      summary: 'Submit a RunInstances request as a job',
      parameters: [{ $ref: '#/components/parameters/idempotencyKey' }],
      requestBody: submissionBody(),
      responses: {
        '202': {
          description:
            'Accepted: the job as accepted (status QUEUED); a replay with the same Idempotency-Key answers the same.',
          headers: {
            Location: { description: "The job's status URL, /v1/jobs/{jobId}.", schema: { type: 'string' } },
            'Retry-After': retryAfter(
              `Seconds to wait before polling the status URL (${RETRY_AFTER_SECONDS}).`,
            ),
          },
          content: { 'application/json': { schema: ref('JobView') } },
        },
        ...refused('invalid', 'unauthenticated', 'denied'),
        [statusOf('conflict')]: problem(
          'idempotency-key-in-use (the first request with the key is in flight), client-token-in-use or client-token-in-progress.',
          { 'Retry-After': retryAfter('When to retry (in flight, in progress).') },
        ),
        ...refused('too-large', 'unsupported-media-type'),
        [statusOf('mismatch')]: problem(
          'idempotency-key-reused (IdempotencyKey.PayloadMismatch): the key came with another payload.',
        ),
        ...refused('internal'),
        [statusOf('unavailable')]: problem(
          'service-unavailable: the job store failed in a way a retry can cure; the detail says whether anything was accepted and how to retry.',
          { 'Retry-After': retryAfter('Seconds before the retry the detail asks for.') },
        ),
      },
    },
    'POST /v1/run-instances/validate': {
      operationId: 'validateRunInstances',
      summary: 'Check a submission without storing or queueing anything',
      requestBody: submissionBody(),
      responses: {
        '200': json(ref('Validated'), 'Valid: the normalized request and its region.'),
        ...refused('invalid', 'unauthenticated', 'denied', 'too-large', 'unsupported-media-type'),
        ...refused('internal'),
      },
    },
    'GET /v1/jobs': {
      operationId: 'listJobs',
      summary: "The caller's jobs, newest first",
      parameters: [
        {
          name: 'status',
          in: 'query',
          description: 'Only jobs in these statuses, comma-separated (QUEUED,SUBMITTED).',
          style: 'form',
          explode: false,
          schema: { type: 'array', items: ref('JobStatus') },
        },
        {
          name: 'createdAfter',
          in: 'query',
          description: 'Only jobs created at or after this ISO 8601 time.',
          schema: { type: 'string', format: 'date-time' },
        },
        {
          name: 'createdBefore',
          in: 'query',
          description: 'Only jobs created at or before this ISO 8601 time.',
          schema: { type: 'string', format: 'date-time' },
        },
        {
          name: 'limit',
          in: 'query',
          description: 'Page size.',
          schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
        },
        {
          name: 'cursor',
          in: 'query',
          description: "The previous page's next; only the caller it was given to may use it.",
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': json(ref('JobList'), 'A page of jobs.'),
        ...refused('invalid', 'unauthenticated', 'internal'),
      },
    },
    'GET /v1/jobs/{jobId}': {
      operationId: 'getJob',
      summary: 'A job in its current state',
      parameters: [jobId],
      responses: {
        '200': json(ref('JobView'), 'The job.'),
        ...refused('unauthenticated', 'not-found', 'internal'),
      },
    },
    'POST /v1/jobs/{jobId}/cancel': {
      operationId: 'cancelJob',
      summary: 'Cancel a job nothing was sent to Tencent for',
      parameters: [jobId],
      responses: {
        '200': json(ref('JobView'), 'The job, CANCELLED (also when it already was).'),
        ...refused('unauthenticated', 'not-found'),
        [statusOf('conflict')]: problem(
          'job-not-cancellable (UnsupportedOperation.JobNotCancellable): the job was, or may have been, sent to Tencent.',
        ),
        ...refused('internal'),
      },
    },
    'GET /v1/jobs/{jobId}/events': {
      operationId: 'listJobEvents',
      summary: "The job's events and their deliveries",
      parameters: [jobId],
      responses: {
        '200': json(ref('EventLog'), "The job's events."),
        ...refused('unauthenticated', 'not-found', 'internal'),
      },
    },
    'POST /v1/jobs/{jobId}/events/{eventId}/redeliver': {
      operationId: 'redeliverEvent',
      summary: 'Send an event to its targets again',
      parameters: [
        jobId,
        { $ref: '#/components/parameters/eventId' },
        {
          name: 'target',
          in: 'query',
          required: false,
          description:
            'One delivery target of the event to send it to (chat included); by default every target but chat.',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '202': json(ref('JobEvent'), 'Accepted: the event, its deliveries due again.'),
        ...refused('invalid', 'unauthenticated', 'not-found', 'internal'),
      },
    },
    'GET /v1/openapi.json': {
      operationId: 'getOpenApi',
      summary: 'This document',
      security: [],
      responses: {
        '200': json(
          { type: 'object', description: 'An OpenAPI 3.1 document.' },
          'The OpenAPI document of the deployed validation profile.',
        ),
      },
    },
    [CHAT_ROUTE]: {
      operationId: 'chatCommand',
      summary: 'Slack and Mattermost slash commands (run, check, status, cancel, list, help)',
      description:
        "Served by the chatops function. No IAM or bearer authentication: a Slack command is authenticated by X-Slack-Signature (v0= HMAC-SHA256 of v0:{timestamp}:{raw body} with the app's signing secret, within five minutes of X-Slack-Request-Timestamp), a Mattermost command by its token field. Refusals of the command itself are chat replies (200), not HTTP errors.",
      security: [],
      parameters: [
        {
          name: 'X-Slack-Signature',
          in: 'header',
          description: 'Slack: v0=<hex HMAC-SHA256>.',
          schema: { type: 'string' },
        },
        {
          name: 'X-Slack-Request-Timestamp',
          in: 'header',
          description: 'Slack: Unix seconds.',
          schema: { type: 'string' },
        },
      ],
      requestBody: {
        required: true,
        content: { 'application/x-www-form-urlencoded': { schema: ref('ChatCommand') } },
      },
      responses: {
        '200': json(
          { type: 'object', description: 'The chat reply (response_type, text, and for Slack blocks).' },
          'The reply to post in the channel; an empty body for Slack’s ssl_check.',
        ),
        '401': problem('AuthFailure, AuthFailure.SignatureFailure or AuthFailure.SignatureExpire.'),
        '413': {
          description: `A body over ${MAX_BODY_BYTES} bytes, refused before it is read.`,
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    },
  };
}

/** The paths object: route keys (`METHOD /path`) grouped by path. */
function paths(): Json {
  const byPath: Record<string, Json> = {};
  for (const [routeKey, operation] of Object.entries(operations())) {
    const [method = '', path = ''] = routeKey.split(' ');
    byPath[path] = { ...byPath[path], [method.toLowerCase()]: operation };
  }
  return byPath;
}

/** Builds the OpenAPI 3.1 document of the API under one validation profile. */
export function buildOpenApiDocument(profile: ProfileName): Json {
  return {
    openapi: '3.1.1',
    info: {
      title: 'cvm-provisioner',
      version: '1',
      description: `Validates Tencent Cloud CVM RunInstances requests (profile '${profile}'), submits each exactly once as a job, and reports back by polling and signed webhooks. Errors are RFC 9457 problem+json with Cache-Control: no-store. A documented path called with a method it does not have answers 405 (method-not-allowed, UnsupportedProtocol) with an Allow header, before authentication.`,
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    security: [{ sigv4: [] }, { bearer: [] }],
    paths: paths(),
    webhooks: {
      jobEvent: {
        post: {
          operationId: 'jobEvent',
          summary: "A job's SUBMITTED or terminal status, POSTed to its targets (Standard Webhooks)",
          parameters: [
            {
              name: 'webhook-id',
              in: 'header',
              required: true,
              description: "The event's id, the same on every attempt: deduplicate on it.",
              schema: { type: 'string' },
            },
            {
              name: 'webhook-timestamp',
              in: 'header',
              required: true,
              description: "This attempt's time, Unix seconds.",
              schema: { type: 'string' },
            },
            {
              name: 'webhook-signature',
              in: 'header',
              required: true,
              description: 'Space-separated v1,<base64 HMAC-SHA256 of id.timestamp.body>, one per secret.',
              schema: { type: 'string' },
            },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: ref('WebhookPayload') } } },
          responses: {
            '2XX': { description: 'Delivered.' },
            default: { description: 'Retried on a schedule (a Retry-After is honoured, within bounds).' },
          },
        },
      },
    },
    components: {
      schemas: schemas(profile),
      responses: RESPONSES,
      parameters: {
        jobId: {
          name: 'jobId',
          in: 'path',
          required: true,
          description: 'The id the 202 gave (a UUID); any other id, and another caller’s job, answer 404.',
          schema: { type: 'string', format: 'uuid' },
        },
        eventId: {
          name: 'eventId',
          in: 'path',
          required: true,
          description: "An event's id, as GET /v1/jobs/{jobId}/events lists it.",
          schema: { type: 'string' },
        },
        idempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          description:
            'Makes a retry safe: the same caller, key and payload answers the first 202 again for 24 hours; a structured-field string or a bare token of 1-255 visible ASCII characters.',
          schema: { type: 'string', minLength: 1, maxLength: 257 },
        },
      },
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description:
            "AWS Signature Version 4 (AUTH_MODE=iam, deployed): API Gateway's IAM authorizer verifies the signature; the caller is the signer's IAM identity (for an assumed role, the role).",
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token whose SHA-256 is listed in API_TOKENS (AUTH_MODE=token, the local stack).',
        },
      },
    },
  };
}

const bodies = new Map<ProfileName, string>();

/** GET /v1/openapi.json: the document of the deployment's profile, built once and served without authentication. */
export function openApiResponse(profile: ProfileName): HttpResponse {
  let body = bodies.get(profile);
  if (body === undefined) {
    body = JSON.stringify(buildOpenApiDocument(profile));
    bodies.set(profile, body);
  }
  return {
    statusCode: 200,
    headers: {
      'content-type': 'application/json',
      'cache-control': `public, max-age=${OPENAPI_MAX_AGE_SECONDS}`,
    },
    body,
  };
}
