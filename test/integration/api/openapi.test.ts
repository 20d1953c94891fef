import { readdirSync, readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../../lib/api/deps.ts';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { buildOpenApiDocument, CHAT_ROUTE, OPENAPI_MAX_AGE_SECONDS } from '../../../lib/api/openapi.ts';
import { ROUTES } from '../../../lib/api/router.ts';
import type { HttpEvent, HttpResponse } from '../../../lib/http/types.ts';
import { submissionSchemaFor } from '../../../lib/jobs/control-fields.ts';
import { acceptedSnapshot, newJob } from '../../../lib/jobs/model.ts';
import { webhookBody } from '../../../lib/notify/payload.ts';
import {
  COMMON_PARAMETERS,
  decodeFlattened,
  memberNames,
  PROFILE_NAMES,
  type ProfileName,
} from '../../../lib/run-instances/index.ts';
import { type ApiEmulators, emulatorApi, startApiEmulators } from '../../helpers/emulators.ts';
import { formRunEvent, getJobEvent, invoke, jobOf, jsonRunEvent } from '../../helpers/events.ts';
import { seedExample, seedForm } from '../../helpers/requests.ts';

type Json = Record<string, unknown>;
const ROOT = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');
const filesIn = (dir: string, extension: string) =>
  readdirSync(new URL(dir, ROOT))
    .filter((name) => name.endsWith(extension))
    .map((name) => `${dir}/${name}`)
    .sort();

/** A GET of the document as API Gateway sends it; no Authorization header unless `options` gives one. */
function openApiEvent(options: Parameters<typeof getJobEvent>[1] = {}): HttpEvent {
  const event = getJobEvent('unused', { bearer: null, ...options });
  const { pathParameters: _none, ...rest } = event;
  return {
    ...rest,
    routeKey: ROUTES.openApi,
    rawPath: '/v1/openapi.json',
    requestContext: {
      ...event.requestContext,
      routeKey: ROUTES.openApi,
      http: { ...event.requestContext.http, path: '/v1/openapi.json' },
    },
  };
}

let env: ApiEmulators;
let deps: ApiDeps;
beforeAll(async () => {
  env = await startApiEmulators('openapi');
  deps = emulatorApi(env).deps;
});
afterAll(() => env.stop());

const served = async (overrides: Partial<ApiDeps> = {}): Promise<HttpResponse> =>
  invoke(createApiHandler({ ...deps, ...overrides }), openApiEvent());

/** The document the API serves under a profile, and a JSON Schema 2020-12 validator for its schemas. */
async function documentOf(profile: ProfileName) {
  const document = JSON.parse((await served({ profile })).body) as Json;
  const validator = new Validator();
  const result = await validator.validate(document);
  // Every $ref replaced by what it names, so each schema compiles on its own.
  const resolved = validator.resolveRefs() as { components: { schemas: Record<string, Json> } };
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats.default(ajv);
  const schema = (name: string) => {
    const found = resolved.components.schemas[name];
    if (!found) throw new Error(`the document has no schema ${name}`);
    return ajv.compile(found);
  };
  return { document, result, schema };
}

const operationsOf = (document: Json) =>
  Object.entries(document.paths as Record<string, Record<string, Json>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      route: `${method.toUpperCase()} ${path}`,
      operation,
    })),
  );

/** The violations a compiled schema found, as `<path>: <keyword> <detail>` for a readable failure. */
const described = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map(
    (error) => `${error.instancePath || '/'}: ${error.keyword} ${JSON.stringify(error.params)}`,
  );

describe('GET /v1/openapi.json', () => {
  it.each([
    ['token', undefined],
    ['iam', { mode: 'iam' } as const],
  ])('answers 200 application/json to a request with no credentials (AUTH_MODE=%s)', async (_mode, auth) => {
    const response = await served(auth ? { auth } : {});
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['cache-control']).toBe(`public, max-age=${OPENAPI_MAX_AGE_SECONDS}`);
    expect(JSON.parse(response.body)).toMatchObject({ openapi: expect.stringMatching(/^3\.1\./) });
  });

  it('serves the document of the deployment’s profile, the same bytes on every request', async () => {
    const first = await served({ profile: 'current' });
    const second = await served({ profile: 'current' });
    expect(second.body).toBe(first.body);
    expect(JSON.parse(first.body)).toEqual(buildOpenApiDocument('current'));
    expect((await served({ profile: 'seed-2017' })).body).not.toBe(first.body);
  });

  it.each(PROFILE_NAMES)('is a valid OpenAPI 3.1 document under profile %s', async (profile) => {
    const { result } = await documentOf(profile);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents exactly the routes the router serves, and the chat route', async () => {
    const { document } = await documentOf('current');
    const routes = operationsOf(document).map(({ route }) => route);
    expect(routes.sort()).toEqual([...Object.values(ROUTES), CHAT_ROUTE].sort());
  });

  it('asks for IAM or a bearer token on every route but the document itself and the chat route', async () => {
    const { document } = await documentOf('current');
    expect(document.security).toEqual([{ sigv4: [] }, { bearer: [] }]);
    const schemes = (document.components as { securitySchemes: Json }).securitySchemes;
    expect(schemes).toMatchObject({
      sigv4: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        'x-amazon-apigateway-authtype': 'awsSigv4',
      },
      bearer: { type: 'http', scheme: 'bearer' },
    });
    const open = operationsOf(document)
      .filter(({ operation }) => operation.security !== undefined)
      .map(({ route, operation }) => [route, operation.security]);
    expect(open.sort()).toEqual(
      [
        [CHAT_ROUTE, []],
        [ROUTES.openApi, []],
      ].sort(),
    );
  });

  it.each(PROFILE_NAMES)(
    'takes the request schema of profile %s from its zod model: every member, the common parameters too',
    async (profile) => {
      const { document } = await documentOf(profile);
      const submission = (document.components as { schemas: Record<string, Json> }).schemas.Submission;
      expect(Object.keys(submission?.properties ?? {}).sort()).toEqual(
        [...memberNames(submissionSchemaFor(profile)), ...COMMON_PARAMETERS].sort(),
      );
      expect(submission).toMatchObject({ type: 'object', additionalProperties: false });
      expect(JSON.stringify(submission)).not.toContain('$schema');
    },
  );

  it('gives the seed’s examples as events/ has them, JSON and the flattened form', async () => {
    const { document } = await documentOf('seed-2017');
    const paths = document.paths as Record<string, { post: { requestBody: { content: Json } } }>;
    const content = paths['/v1/run-instances']?.post.requestBody.content as Record<
      string,
      { examples: Record<string, { value: unknown }> }
    >;
    const jsonValues = Object.values(content['application/json']?.examples ?? {}).map((e) => e.value);
    expect(jsonValues).toEqual([seedExample(1), seedExample(2), seedExample(3)]);
    expect(content['application/x-www-form-urlencoded']?.examples['seed-2']?.value).toBe(seedForm(2));
  });
});

/** What a request-body fixture holds, decoded to the nested shape the schema describes. */
function bodyOf(file: string, profile: ProfileName): unknown {
  const decode = (text: string) => {
    const decoded = decodeFlattened(text, submissionSchemaFor(profile));
    if (!decoded.ok) throw new Error(`${file} does not decode: ${JSON.stringify(decoded.errors)}`);
    return decoded.value;
  };
  if (file.endsWith('.form')) return decode(read(file));
  const parsed = JSON.parse(read(file)) as Json;
  if (!file.startsWith('events/api/')) return parsed;
  const event = parsed as unknown as HttpEvent;
  const text = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8').toString('utf8');
  return event.headers['content-type'] === 'application/x-www-form-urlencoded'
    ? decode(text)
    : JSON.parse(text);
}

const API_BODIES = filesIn('events/api', '.json').filter(
  (file) => (JSON.parse(read(file)) as { routeKey?: string }).routeKey === ROUTES.runInstances,
);
const SEED_BODIES = [...filesIn('events/seed', '.json'), ...filesIn('events/seed', '.form')];
const INVALID = 'events/api/post-run-instances-invalid.json';
const VALID_BODIES = [...API_BODIES, ...SEED_BODIES].filter((file) => file !== INVALID);

describe('the request schema against the fixtures in events/', () => {
  it('finds the request bodies among the fixtures', () => {
    expect(API_BODIES).toEqual([
      'events/api/post-run-instances-form.json',
      INVALID,
      'events/api/post-run-instances-json.json',
    ]);
    expect(SEED_BODIES).toHaveLength(6);
  });

  it.each(PROFILE_NAMES.flatMap((profile) => VALID_BODIES.map((file) => [file, profile] as const)))(
    'accepts %s under profile %s',
    async (file, profile) => {
      const submission = (await documentOf(profile)).schema('Submission');
      const valid = submission(bodyOf(file, profile));
      expect(described(submission.errors)).toEqual([]);
      expect(valid).toBe(true);
    },
  );

  it.each(PROFILE_NAMES)(
    `refuses ${INVALID} under profile %s for its misspelt member InstanceCoutn`,
    async (profile) => {
      const submission = (await documentOf(profile)).schema('Submission');
      expect(submission(bodyOf(INVALID, profile))).toBe(false);
      // The zone in no region and the disk size off its step are rules only the API checks, not the schema.
      expect(described(submission.errors)).toEqual([
        '/: additionalProperties {"additionalProperty":"InstanceCoutn"}',
      ]);
    },
  );

  it.each(PROFILE_NAMES)(
    'describes list items under profile %s, not only the list’s length',
    async (profile) => {
      const submission = (await documentOf(profile)).schema('Submission');
      const body = { ...seedExample(1), DataDisks: [{ DiskSize: '100', Size: 1 }] };
      expect(submission(body)).toBe(false);
      expect(described(submission.errors)).toEqual([
        '/DataDisks/0: additionalProperties {"additionalProperty":"Size"}',
        '/DataDisks/0/DiskSize: type {"type":"integer"}',
      ]);
    },
  );

  it.each(filesIn('events/chat', '.json'))('accepts the chat command %s', async (file) => {
    const event = JSON.parse(read(file)) as HttpEvent;
    const text = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8').toString('utf8');
    const command = (await documentOf('current')).schema('ChatCommand');
    expect(command(Object.fromEntries(new URLSearchParams(text)))).toBe(true);
  });
});

describe('the response schemas against what the API answers', () => {
  it('describes the 202, the job, the listing and the validate answer of a real submission', async () => {
    const { schema } = await documentOf('seed-2017');
    const handler = createApiHandler(deps);
    const accepted = await invoke(handler, formRunEvent(seedForm(2), { base64: true }));
    expect(accepted.statusCode).toBe(202);
    const jobView = schema('JobView');
    expect(jobView(JSON.parse(accepted.body)), described(jobView.errors).join('\n')).toBe(true);
    const job = await invoke(handler, getJobEvent(jobOf(accepted).jobId));
    expect(job.statusCode).toBe(200);
    expect(jobView(JSON.parse(job.body)), described(jobView.errors).join('\n')).toBe(true);

    const listing = await invoke(handler, {
      ...getJobEvent('unused'),
      routeKey: ROUTES.listJobs,
      rawPath: '/v1/jobs',
      queryStringParameters: { status: 'QUEUED', limit: '5' },
    });
    expect(listing.statusCode).toBe(200);
    const jobList = schema('JobList');
    expect(jobList(JSON.parse(listing.body)), described(jobList.errors).join('\n')).toBe(true);

    const checked = await invoke(handler, {
      ...jsonRunEvent(seedExample(3)),
      routeKey: ROUTES.validate,
      rawPath: '/v1/run-instances/validate',
    });
    expect(checked.statusCode).toBe(200);
    const validated = schema('Validated');
    expect(validated(JSON.parse(checked.body)), described(validated.errors).join('\n')).toBe(true);
  });

  it('describes the problem+json of a refusal and of a request without credentials', async () => {
    const { schema } = await documentOf('seed-2017');
    const handler = createApiHandler(deps);
    const problem = schema('Problem');
    const invalid = await invoke(
      handler,
      jsonRunEvent({ Placement: { Zone: 'ap-atlantis-1' }, ImageId: 'x' }),
    );
    const anonymous = await invoke(handler, getJobEvent('unused', { bearer: null }));
    const denied = await invoke(createApiHandler({ ...deps, auth: { mode: 'iam' } }), getJobEvent('unused'));
    expect([invalid.statusCode, anonymous.statusCode, denied.statusCode]).toEqual([400, 401, 401]);
    for (const response of [invalid, anonymous, denied]) {
      expect(response.headers['content-type']).toBe('application/problem+json');
      expect(problem(JSON.parse(response.body)), described(problem.errors).join('\n')).toBe(true);
    }
  });

  it('describes the webhook payload the notifier sends', async () => {
    const { document, schema } = await documentOf('seed-2017');
    expect(Object.keys(document.webhooks as Json)).toEqual(['jobEvent']);
    const job = newJob({
      jobId: '00000000-0000-4000-8000-000000000001',
      region: 'ap-guangzhou',
      request: { Placement: { Zone: 'ap-guangzhou-2' }, ImageId: 'img-pmqg1cw7' },
      requestedBy: 'alice',
      metadata: { team: 'web' },
      webhookUrl: null,
      createdAt: '2026-11-26T12:00:00.000Z',
    });
    const body = webhookBody(job, {
      id: 'evt_00000000-0000-4000-8000-000000000001_submitted',
      type: 'job.submitted',
      createdAt: '2026-11-26T12:00:05.000Z',
      snapshot: acceptedSnapshot(job),
      deliveries: {},
    });
    const payload = schema('WebhookPayload');
    expect(payload(JSON.parse(body.toString('utf8'))), described(payload.errors).join('\n')).toBe(true);
  });
});
