import { createHash, createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { commandFields, MATTERMOST_TOKEN, SLACK_SECRET, USER } from '../helpers/chat.ts';
import { TOKENS } from '../helpers/events.ts';
import {
  arbitraryFormText,
  arbitraryJsonText,
  contentTypeFor,
  FORM_TYPE,
  headerText,
  hostileString,
  JSON_TYPE,
  mutatedSeedForm,
  mutatedSeedJson,
  pathSegment,
  percentEncode,
  withBadBytes,
} from '../helpers/fuzz.ts';
import { seedExample, seedForm } from '../helpers/requests.ts';
import { serverlessWithout } from '../helpers/stack-files.ts';

/**
 * Hostile input at every entry point of the local stack, over real loopback HTTP (issue 15, "Hostile input"):
 * whatever a careless or malicious client sends — mutated seed requests, arbitrary bytes, odd content types,
 * truncated bodies and disconnects, forged cursors, arbitrary path segments, chat commands, forged tokens and
 * Slack signatures — the stack never answers 5xx, every 4xx is problem+json with a code, a refused request
 * leaves the table and the submit queue exactly as they were (counted, not inferred), no prototype gains a
 * member, and the stack still accepts a valid request at the end. fast-check prints the seed and path of any
 * failure; pass them to `fc.assert` to replay it.
 */
const ALICE = TOKENS.alice.token;
const BOB = TOKENS.bob.token;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

let stack: LocalStack;
const agent = new Agent({ connections: 4, keepAliveTimeout: 2_000 });
/** Alice's jobs, accepted before the fuzzing: a real cursor is made from them, and Bob must never reach them. */
const aliceJobs: string[] = [];
let realCursor = '';
/** What the workers answer for a plain request before any fuzzing: a polluted prototype would change it. */
let validateBefore = '';
let checkBefore = '';

interface Answer {
  status: number;
  type: string;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function call(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer; token?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? ALICE}`;
  const response = await request(`${stack.url}${path}`, {
    method: method as 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
    dispatcher: agent,
  });
  const text = await response.body.text();
  const type = response.headers['content-type'];
  return { status: response.statusCode, type: String(type ?? ''), headers: response.headers, text };
}

/** Never 5xx; a 4xx is problem+json whose status is the answer's and whose code is a non-empty string. */
function expectNoServerError(answer: Answer): void {
  expect(answer.status, answer.text.slice(0, 500)).toBeLessThan(500);
  if (answer.status < 400) return;
  expect(answer.type, answer.text.slice(0, 200)).toBe('application/problem+json');
  const problem = JSON.parse(answer.text) as { code?: unknown; status?: unknown };
  expect(problem.status).toBe(answer.status);
  expect(typeof problem.code).toBe('string');
  expect(String(problem.code)).not.toBe('');
}

const problemOf = (answer: Answer) =>
  JSON.parse(answer.text) as { code: string; errors: Array<{ param: string; code: string }> };

/** What a request could leave: the items of the table by kind (the scheduler's lease aside) and queued messages. */
async function footprint(): Promise<{ jobs: number; items: number; messages: number }> {
  let jobs = 0;
  let items = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await stack.clients.dynamodb.send(
      new ScanCommand({
        TableName: stack.tableName,
        ProjectionExpression: '#kind',
        ExpressionAttributeNames: { '#kind': 'kind' },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const kind = item.kind?.S;
      if (kind === 'lease') continue;
      items++;
      if (kind === 'job') jobs++;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  const { Attributes = {} } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.queueUrls.SubmitQueue,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    jobs,
    items,
    messages:
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** Every own member of an object with its value or accessors, compared by identity. */
function membersOf(target: object): Map<PropertyKey, unknown[]> {
  return new Map(
    Reflect.ownKeys(target).map((key) => {
      const d = Object.getOwnPropertyDescriptor(target, key);
      return [key, [d?.value, d?.get, d?.set, d?.writable, d?.enumerable, d?.configurable]];
    }),
  );
}
const prototypesBefore = [Object.prototype, Array.prototype, Function.prototype].map(membersOf);

function signSlack(secret: string, timestamp: string, body: Buffer): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function slackCall(body: Buffer, headers: Record<string, string>): Promise<Answer> {
  return call('POST', '/v1/chatops/slack', {
    token: null,
    headers: { 'content-type': FORM_TYPE, ...headers },
    body,
  });
}

/** A form body of pairs as given (duplicates kept), each side percent-encoded. */
const formOf = (pairs: ReadonlyArray<readonly [string, string]>) =>
  Buffer.from(pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&'));

const VALID_RUN = 'run zone=ap-guangzhou-3 image=img-pmqg1cw7 type=S5.MEDIUM4 count=1';
const VALID_CHECK = 'check zone=ap-guangzhou-3 image=img-pmqg1cw7 type=S5.MEDIUM4 count=1';

function signedCommand(text: string): Promise<Answer> {
  const body = formOf(Object.entries(commandFields(text, { response_url: stack.chatResponseUrl })));
  const timestamp = String(nowSeconds());
  return slackCall(body, {
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': signSlack(SLACK_SECRET, timestamp, body),
  });
}

beforeAll(async () => {
  // Without the submitter: the queue keeps every message, so "nothing was sent" can be counted. The logs go
  // through test/e2e/setup.ts's capture, which scans them for the suite's secrets after this file.
  stack = await startLocalStack({
    serverlessYml: serverlessWithout('submit'),
    port: 0,
    simulatorPort: 0,
    dataDir: null,
    env: {
      API_TOKENS: `alice:${sha(ALICE)},bob:${sha(BOB)}`,
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      MATTERMOST_TOKEN,
      SLACK_ALLOWED_USERS: USER,
    },
    logSink: () => {},
  });
  for (const n of [1, 2, 3] as const) {
    const answer = await call('POST', '/v1/run-instances', {
      headers: { 'content-type': JSON_TYPE },
      body: JSON.stringify(seedExample(n)),
    });
    expect(answer.status).toBe(202);
    aliceJobs.push((JSON.parse(answer.text) as { jobId: string }).jobId);
  }
  const page = await call('GET', '/v1/jobs?limit=1');
  expect(page.status).toBe(200);
  realCursor = String((JSON.parse(page.text) as { next: string | null }).next);
  expect(realCursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  const validate = await call('POST', '/v1/run-instances/validate', {
    headers: { 'content-type': JSON_TYPE },
    body: JSON.stringify(seedExample(2)),
  });
  expect(validate.status).toBe(200);
  validateBefore = validate.text;
  const check = await signedCommand(VALID_CHECK);
  expect(check.status).toBe(200);
  checkBefore = check.text;
}, 60_000);
afterAll(async () => {
  await agent.close();
  await stack.stop();
});

const RUN_PATHS = ['/v1/run-instances', '/v1/run-instances/validate'] as const;

/** Sends a body to one of the two RunInstances routes and checks every property of the answer and the store. */
async function expectRunPathHolds(path: string, body: string | Buffer, type: string | undefined) {
  const before = await footprint();
  const answer = await call('POST', path, {
    headers: type === undefined ? {} : { 'content-type': type },
    body,
  });
  expectNoServerError(answer);
  const after = await footprint();
  if (path === '/v1/run-instances' && answer.status === 202) {
    expect(after.jobs).toBe(before.jobs + 1);
    expect(after.messages).toBe(before.messages + 1);
  } else {
    // Refused, or only validated: nothing stored, reserved or queued.
    expect(after, `${answer.status} ${answer.text.slice(0, 300)}`).toEqual(before);
    expect([200, 400, 403, 409, 413, 415, 422]).toContain(answer.status);
    if (answer.status === 200) expect(path).toBe('/v1/run-instances/validate');
  }
  return answer;
}

describe('POST /v1/run-instances and /validate under hostile bodies (properties)', () => {
  it.each([
    ['JSON: mutated seed examples and arbitrary text', mutatedSeedJson, arbitraryJsonText, JSON_TYPE],
    ['flattened form: mutated seed forms and arbitrary pairs', mutatedSeedForm, arbitraryFormText, FORM_TYPE],
  ] as const)(
    '%s never answer 5xx, and a refusal stores and queues nothing',
    async (_name, mutated, arbitrary, mediaType) => {
      const body = fc.oneof({ weight: 3, arbitrary: mutated }, { weight: 1, arbitrary });
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...RUN_PATHS),
          body,
          contentTypeFor(mediaType),
          async (path, text, type) => {
            await expectRunPathHolds(path, text, type);
          },
        ),
        { numRuns: 250 },
      );
    },
    60_000,
  );

  it('bytes that are not UTF-8, raw bytes and bodies over 64 KiB are refused (413 for the latter), changing nothing', async () => {
    const hostileBody = fc.oneof(
      fc
        .constantFrom(1 as const, 2 as const, 3 as const)
        .chain((n) => fc.oneof(withBadBytes(JSON.stringify(seedExample(n))), withBadBytes(seedForm(n)))),
      fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
      // Just over the limit, or well over it: valid-looking text padded out.
      fc
        .tuple(fc.integer({ min: 64 * 1024 + 1, max: 200 * 1024 }), fc.boolean())
        .map(([size, json]) =>
          json
            ? Buffer.from(`{"Placement":{"Zone":"ap-guangzhou-3"},"UserData":"${'A'.repeat(size)}"}`)
            : Buffer.from(`${seedForm(1)}&UserData=${'A'.repeat(size)}`),
        ),
    );
    const type = fc.oneof(contentTypeFor(JSON_TYPE), contentTypeFor(FORM_TYPE));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...RUN_PATHS), hostileBody, type, async (path, body, contentType) => {
        const answer = await expectRunPathHolds(path, body, contentType);
        const media = contentType?.split(';')[0]?.trim().toLowerCase();
        if (body.length > 64 * 1024 && (media === JSON_TYPE || media === FORM_TYPE) && answer.status !== 415)
          expect(answer.status).toBe(413);
      }),
      { numRuns: 120 },
    );
  }, 60_000);

  it('raw sockets: truncated bodies, disconnects mid-body and broken framing leave nothing behind and the stack serves on', async () => {
    const { port } = new URL(stack.url);
    const exchange = (bytes: Buffer, mode: 'destroy' | 'end') =>
      new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const socket = connect(Number(port), '127.0.0.1', () => {
          if (mode === 'end') socket.end(bytes);
          else socket.write(bytes, () => socket.destroy());
        });
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        // A bound on a server that never answers a half-closed request, not an assertion on time.
        socket.setTimeout(5_000, () => socket.destroy());
        socket.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return;
          reject(error);
        });
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      });
    const framing = fc.constantFrom(
      'truncated',
      'short-length',
      'chunked-truncated',
      'chunked-malformed',
      'length-and-chunked',
      'no-length',
    );
    const source = fc.oneof(
      fc.constantFrom(1 as const, 2 as const, 3 as const).map((n) => ({
        type: JSON_TYPE,
        body: Buffer.from(JSON.stringify(seedExample(n))),
      })),
      fc
        .constantFrom(1 as const, 2 as const, 3 as const)
        .map((n) => ({ type: FORM_TYPE, body: Buffer.from(seedForm(n)) })),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...RUN_PATHS),
        source,
        framing,
        fc.nat(),
        fc.constantFrom('destroy' as const, 'end' as const),
        async (path, { type, body }, framed, at, mode) => {
          // A socket destroyed after a complete request might still have it served after the check below:
          // destroyed ones carry only bodies that can never complete.
          const frame = mode === 'destroy' && framed !== 'chunked-truncated' ? 'truncated' : framed;
          const before = await footprint();
          const cut = at % body.length;
          const head = (extra: string) =>
            `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ALICE}\r\nContent-Type: ${type}\r\n${extra}\r\n`;
          const hex = (n: number) => n.toString(16);
          const bytes = {
            truncated: () =>
              Buffer.concat([Buffer.from(head(`Content-Length: ${body.length}\r\n`)), body.subarray(0, cut)]),
            // A complete request whose body is cut short, the rest of the body garbage after it. The server
            // may still be serving the first when it answers the garbage and closes, so the first is one that is
            // refused for sure: a strict prefix of the JSON, or no more than the form's first pair.
            'short-length': () => {
              const short = type === JSON_TYPE ? at % (body.length - 1) : at % (body.indexOf('&') + 2);
              return Buffer.concat([
                Buffer.from(head(`Content-Length: ${short}\r\nConnection: close\r\n`)),
                body,
              ]);
            },
            'chunked-truncated': () =>
              Buffer.concat([
                Buffer.from(head('Transfer-Encoding: chunked\r\n')),
                Buffer.from(`${hex(body.length)}\r\n`),
                body.subarray(0, cut),
              ]),
            'chunked-malformed': () =>
              Buffer.concat([
                Buffer.from(head('Transfer-Encoding: chunked\r\n')),
                Buffer.from(`${hex(cut)}zz\r\n`),
                body.subarray(0, cut),
                Buffer.from('\r\n0\r\n\r\n'),
              ]),
            'length-and-chunked': () =>
              Buffer.concat([
                Buffer.from(head(`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`)),
                Buffer.from(`${hex(body.length)}\r\n`),
                body,
                Buffer.from('\r\n0\r\n\r\n'),
              ]),
            // No length: the body is empty (refused for sure), what follows it garbage.
            'no-length': () =>
              Buffer.concat([Buffer.from(head('Connection: close\r\n')), body.subarray(0, cut)]),
          }[frame]();
          const response = await exchange(bytes, mode);
          const statuses = [...response.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
          for (const status of statuses) expect(status, response.slice(0, 300)).toBeLessThan(500);
          if (!statuses.some((status) => status === 202 || status === 200))
            expect(await footprint(), response.slice(0, 300)).toEqual(before);
          expect((await call('GET', '/v1/jobs?limit=1')).status).toBe(200);
        },
      ),
      { numRuns: 80 },
    );
  }, 60_000);
});

describe('the listing and job routes under arbitrary queries and path segments (properties)', () => {
  it('GET /v1/jobs: any query is answered below 500, and any cursor but a real one is 400', async () => {
    const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // Half of the characters from outside base64url: a lenient decoder skips them.
    const alphabet = fc.oneof(
      fc.constantFrom(...B64URL.split('')),
      fc.constantFrom('.', '=', '+', '/', '!', ' ', '%', '\n', '*'),
    );
    const [payload = '', mac = ''] = realCursor.split('.');
    const forgedPayload = (fields: Record<string, unknown>) =>
      Buffer.from(JSON.stringify(fields)).toString('base64url');
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const mutatedCursor = fc.oneof(
      fc.tuple(fc.nat(), alphabet).map(([i, c]) => {
        const at = i % realCursor.length;
        return `${realCursor.slice(0, at)}${c}${realCursor.slice(at + 1)}`;
      }),
      fc.tuple(fc.nat(), alphabet).map(([i, c]) => {
        const at = i % (realCursor.length + 1);
        return `${realCursor.slice(0, at)}${c}${realCursor.slice(at)}`;
      }),
      // The signature alone: a character changed, inserted or appended.
      fc.tuple(fc.nat(), alphabet).map(([i, c]) => {
        const at = i % mac.length;
        return `${payload}.${mac.slice(0, at)}${c}${mac.slice(at + 1)}`;
      }),
      fc.tuple(fc.nat(), alphabet).map(([i, c]) => {
        const at = i % (mac.length + 1);
        return `${payload}.${mac.slice(0, at)}${c}${mac.slice(at)}`;
      }),
      fc.nat().map((i) => realCursor.slice(0, i % realCursor.length)),
      fc.nat().map((i) => {
        const at = i % realCursor.length;
        return `${realCursor.slice(0, at)}${realCursor.slice(at + 1)}`;
      }),
      fc.constantFrom(
        `${mac}.${payload}`,
        // The same 32 signature bytes in another spelling: the last character's unused bits flipped.
        `${payload}.${mac.slice(0, -1)}${B64URL[(B64URL.indexOf(mac.at(-1) ?? 'A') ^ 1) % 64]}`,
        `${payload}.${mac.slice(0, 5)}!${mac.slice(5)}`,
        `${payload}.${mac}.`,
        `${payload}.${mac}=`,
        `${payload}=.${mac}`,
        `${payload}`,
        `.${mac}`,
        '.',
        '..',
        `${forgedPayload({ ...decoded, byCaller: 'bob' })}.${mac}`,
        `${forgedPayload({ ...decoded, createdAt: '9999-12-31T00:00:00.000Z' })}.${mac}`,
        `${forgedPayload({ ...decoded, __proto__: { polluted: true } })}.${mac}`,
        `${Buffer.from(JSON.stringify(decoded)).toString('base64')}.${mac}`,
      ),
      headerText(120),
    );
    const statusValue = fc.oneof(
      fc.constantFrom('QUEUED', 'QUEUED,SUBMITTED', 'queued', ',', 'QUEUED,,', '__proto__', 'constructor'),
      hostileString,
    );
    const limitValue = fc.oneof(
      fc.constantFrom(
        '0',
        '1',
        '100',
        '101',
        '-1',
        '-0',
        '1e1',
        '0x10',
        '1.5',
        ' 5',
        '',
        'NaN',
        '99999999999',
      ),
      hostileString,
    );
    const timeValue = fc.oneof(
      fc.constantFrom(
        '2026-12-01T00:00:00Z',
        '2026-13-01T00:00:00Z',
        '2026-12-01',
        '+275760-09-13T00:00:00Z',
      ),
      hostileString,
    );
    const param = fc.oneof(
      fc.tuple(fc.constant('status'), statusValue),
      fc.tuple(fc.constant('limit'), limitValue),
      fc.tuple(fc.constantFrom('createdAfter', 'createdBefore'), timeValue),
      fc.tuple(fc.constant('cursor'), mutatedCursor),
      fc.tuple(
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'),
        hostileString,
      ),
      fc.tuple(hostileString, hostileString),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(param, { maxLength: 5 }),
        fc.constantFrom(ALICE, BOB),
        async (params, token) => {
          const query = params.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
          const before = await footprint();
          const answer = await call('GET', `/v1/jobs${query ? `?${query}` : ''}`, { token });
          expectNoServerError(answer);
          expect([200, 400]).toContain(answer.status);
          // The gateway keeps the last of a repeated parameter, as URLSearchParams does.
          const cursors = params.filter(([k]) => k === 'cursor').map(([, v]) => v);
          const cursor = cursors.at(-1);
          // (An empty cursor is no cursor: the first page.)
          if (cursor !== undefined && cursor !== '' && (cursor !== realCursor || token !== ALICE))
            expect(answer.status, `cursor ${JSON.stringify(cursor)}`).toBe(400);
          expect(await footprint()).toEqual(before);
        },
      ),
      { numRuns: 150 },
    );
    // Cursors alone: a forgery is 400 naming the cursor, whoever presents it.
    await fc.assert(
      fc.asyncProperty(mutatedCursor, fc.constantFrom(ALICE, BOB), async (cursor, token) => {
        fc.pre(cursor !== '' && (cursor !== realCursor || token !== ALICE));
        const answer = await call('GET', `/v1/jobs?limit=1&cursor=${percentEncode(cursor)}`, { token });
        expectNoServerError(answer);
        expect(answer.status, `cursor ${JSON.stringify(cursor)}: ${answer.text.slice(0, 200)}`).toBe(400);
        expect(problemOf(answer).errors.map((e) => e.param)).toEqual(['cursor']);
      }),
      { numRuns: 150 },
    );
    // The real one still works for its caller.
    expect((await call('GET', `/v1/jobs?limit=1&cursor=${realCursor}`)).status).toBe(200);
  }, 60_000);

  it("GET, cancel, events and redeliver with arbitrary path segments: below 500, another caller's job 404, nothing changed", async () => {
    const segment = pathSegment(aliceJobs);
    const route = fc.oneof(
      segment.map((id) => ({ method: 'GET', path: `/v1/jobs/${id}`, id, job: true })),
      segment.map((id) => ({ method: 'GET', path: `/v1/jobs/${id}/events`, id, job: true })),
      segment.map((id) => ({ method: 'POST', path: `/v1/jobs/${id}/cancel`, id, job: true })),
      fc
        .tuple(
          segment,
          fc.oneof(
            segment,
            segment.map((id) => `evt_${id}_submitted`),
          ),
          fc.option(headerText(40)),
        )
        .map(([id, event, query]) => ({
          method: 'POST',
          path: `/v1/jobs/${id}/events/${event}/redeliver${query === null ? '' : `?target=${percentEncode(query)}`}`,
          id,
          job: false,
        })),
      // Another method on a documented path, and paths next to the documented ones.
      fc.tuple(fc.constantFrom('PUT', 'DELETE', 'PATCH', 'GET', 'POST'), segment).map(([method, id]) => ({
        method,
        path: `/v1/jobs/${id}/${method === 'GET' ? 'cancel' : 'events'}`,
        id,
        job: false,
      })),
    );
    await fc.assert(
      fc.asyncProperty(route, async ({ method, path, id, job }) => {
        const before = await footprint();
        // Bob has no jobs: whatever the path names, nothing is his to see, cancel or redeliver.
        const answer = await call(method, path, { token: BOB });
        expectNoServerError(answer);
        expect([400, 404, 405]).toContain(answer.status);
        if (job && aliceJobs.includes(id)) expect(answer.status).toBe(404);
        expect(await footprint()).toEqual(before);
      }),
      { numRuns: 200 },
    );
    for (const jobId of aliceJobs) {
      const job = await call('GET', `/v1/jobs/${jobId}`);
      expect(JSON.parse(job.text)).toMatchObject({ jobId, status: 'QUEUED' });
    }
  }, 60_000);
});

describe('POST /v1/chatops/slack under signed hostile commands (property)', () => {
  it('answers every correctly signed body below 500, and a command that accepted nothing created nothing', async () => {
    const runWords = [
      'zone=ap-guangzhou-3',
      'image=img-pmqg1cw7',
      'type=S5.MEDIUM4',
      'count=1',
      'count=1e400',
      'count=-0',
      'count=NaN',
      'zone=ap-guangzhou-99',
      '__proto__.polluted=1',
      'constructor.prototype.InstanceCount=5',
      'metadata.__proto__=x',
      'metadata.constructor=x',
      'Placement.__proto__.Zone=x',
      'password=Secret123!',
      'LoginSettings.Password=Qcloud@TestApi123++',
      'name="unclosed',
      "name='o'brien",
      'name=“web 1”',
      'sg=sg-a,,sg-b',
      'zone=ap-guangzhou-3',
      'DataDisks.99999.DiskSize=50',
      'webhook=https://127.0.0.1/x',
      'token=cvmp-123',
      '=x',
      'zone',
      'imagee=x',
    ];
    const word = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...runWords) },
      { weight: 1, arbitrary: hostileString },
      { weight: 1, arbitrary: hostileString.map((v) => `name=${v}`) },
    );
    const verb = fc.constantFrom(
      'run',
      'RUN',
      'check',
      'status',
      'cancel',
      'list',
      'help',
      'rnu',
      '',
      '\u202Erun',
    );
    const text = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.tuple(verb, fc.array(word, { maxLength: 8 })).map(([v, w]) => [v, ...w].join(' ')),
      },
      { weight: 1, arbitrary: fc.constantFrom(...aliceJobs).map((id) => `cancel ${id}`) },
      { weight: 1, arbitrary: fc.constantFrom(...aliceJobs).map((id) => `status ${id.toUpperCase()}`) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
      { weight: 1, arbitrary: fc.integer({ min: 3990, max: 4100 }).map((n) => `run ${'x'.repeat(n)}`) },
    );
    const extraField = fc.tuple(
      fc.oneof(
        fc.constantFrom(
          '__proto__',
          'constructor',
          'prototype',
          'text',
          'user_id',
          'team_id',
          'ssl_check',
          'trigger_id',
        ),
        hostileString,
      ),
      hostileString,
    );
    const fieldOverrides = fc.record(
      {
        user_id: fc.oneof(
          fc.constant(USER),
          fc.constantFrom('U0MALLORY', '', `${USER} `, 'u0alice01'),
          hostileString,
        ),
        team_id: fc.oneof(fc.constantFrom('T0TEAM001', '', '__proto__'), hostileString),
        trigger_id: fc.oneof(fc.constant(''), fc.constant('x'.repeat(300)), hostileString),
        // Loopback only: a follow-up must never leave the machine.
        response_url: fc.constantFrom('https://127.0.0.1:1/x', 'http://127.0.0.1:1/x', 'javascript:x', ''),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      {
        weight: 5,
        arbitrary: fc
          .tuple(
            text,
            fieldOverrides,
            fc.array(extraField, { maxLength: 3 }),
            fc.subarray([
              'text',
              'user_id',
              'team_id',
              'trigger_id',
              'channel_id',
              'command',
              'response_url',
            ]),
          )
          .map(([t, overrides, extra, drop]) => {
            const fields = Object.entries({
              ...commandFields(t, { response_url: stack.chatResponseUrl }),
              ...overrides,
            }).filter(([k]) => !drop.includes(k));
            return formOf([...fields, ...extra]);
          }),
      },
      { weight: 1, arbitrary: arbitraryFormText.map((t) => Buffer.from(t)) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: 64 * 1024 - 200, max: 80 * 1024 })
          .map((n) =>
            formOf([
              ...Object.entries(commandFields(VALID_RUN, { response_url: stack.chatResponseUrl })),
              ['pad', 'x'.repeat(n)],
            ]),
          ),
      },
    );
    const contentType = fc.constantFrom(
      FORM_TYPE,
      `${FORM_TYPE}; charset=utf-8`,
      'text/plain',
      JSON_TYPE,
      undefined,
    );
    await fc.assert(
      fc.asyncProperty(body, contentType, async (raw, type) => {
        const before = await footprint();
        const timestamp = String(nowSeconds());
        const answer = await call('POST', '/v1/chatops/slack', {
          token: null,
          headers: {
            ...(type === undefined ? {} : { 'content-type': type }),
            'x-slack-request-timestamp': timestamp,
            'x-slack-signature': signSlack(SLACK_SECRET, timestamp, raw),
          },
          body: raw,
        });
        expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
        if (raw.length > 64 * 1024) expect(answer.status).toBe(413);
        else expect(answer.status, answer.text.slice(0, 300)).toBe(200);
        const accepted = answer.status === 200 && /:inbox_tray: .*accepted\./.test(answer.text);
        if (!accepted) expect(await footprint(), answer.text.slice(0, 300)).toEqual(before);
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});

describe('authentication refuses what it cannot verify, creating nothing (properties)', () => {
  it('missing, malformed and forged bearer tokens are 401 AuthFailure on every API route', async () => {
    const AUTHORIZATION = /^(\S+)(?:\s+(.*))?$/;
    const isValid = (value: string | undefined) => {
      const [, scheme = '', token = ''] = AUTHORIZATION.exec(value?.trim() ?? '') ?? [];
      return scheme.toLowerCase() === 'bearer' && (token === ALICE || token === BOB);
    };
    const flip = fc.nat().map((i) => {
      const at = i % ALICE.length;
      const c = ALICE[at] === 'a' ? 'b' : 'a';
      return `Bearer ${ALICE.slice(0, at)}${c}${ALICE.slice(at + 1)}`;
    });
    const authorization = fc.oneof(
      fc.constantFrom(
        undefined,
        '',
        ' ',
        'Bearer',
        'Bearer ',
        'bearer\t',
        'Basic YWxpY2U6YWxpY2U=',
        `Basic ${ALICE}`,
        `Token ${ALICE}`,
        ALICE,
        `Bearer ${ALICE.slice(0, -1)}`,
        `Bearer ${ALICE}x`,
        `Bearer ${ALICE} ${ALICE}`,
        `Bearer "${ALICE}"`,
        `Bearer ${ALICE},Bearer ${BOB}`,
        `Bearer ${sha(ALICE)}`,
        `Bearer ${'A'.repeat(513)}`,
        'Bearer =',
        `Bearer ${ALICE.toUpperCase()}`,
        `Bearer\u00a0${ALICE}`,
      ),
      flip,
      headerText(80),
      headerText(80).map((t) => `Bearer ${t}`),
      fc.stringMatching(/^[A-Za-z0-9._~+/=-]{1,600}$/).map((t) => `Bearer ${t}`),
    );
    const aliceJob = aliceJobs[0] ?? '';
    const route = fc.constantFrom(
      { method: 'POST', path: '/v1/run-instances' },
      { method: 'POST', path: '/v1/run-instances/validate' },
      { method: 'GET', path: '/v1/jobs' },
      { method: 'GET', path: `/v1/jobs?cursor=${realCursor}` },
      { method: 'GET', path: `/v1/jobs/${aliceJob}` },
      { method: 'GET', path: `/v1/jobs/${aliceJob}/events` },
      { method: 'POST', path: `/v1/jobs/${aliceJob}/cancel` },
      { method: 'POST', path: `/v1/jobs/${aliceJob}/events/evt_${aliceJob}_submitted/redeliver` },
    );
    await fc.assert(
      fc.asyncProperty(
        authorization.filter((value) => !isValid(value)),
        route,
        async (value, { method, path }) => {
          const before = await footprint();
          const answer = await call(method, path, {
            token: null,
            headers: {
              ...(value === undefined ? {} : { authorization: value }),
              ...(method === 'POST' ? { 'content-type': JSON_TYPE } : {}),
            },
            ...(path.startsWith('/v1/run-instances') ? { body: JSON.stringify(seedExample(1)) } : {}),
          });
          expectNoServerError(answer);
          expect(answer.status, `${JSON.stringify(value)} ${answer.text.slice(0, 200)}`).toBe(401);
          expect(problemOf(answer).code).toBe('AuthFailure');
          expect(String(answer.headers['www-authenticate'])).toContain('Bearer');
          expect(await footprint()).toEqual(before);
        },
      ),
      { numRuns: 200 },
    );
    for (const jobId of aliceJobs) {
      const job = await call('GET', `/v1/jobs/${jobId}`);
      expect(JSON.parse(job.text)).toMatchObject({ jobId, status: 'QUEUED' });
    }
  }, 60_000);

  it('forged and malformed Slack signatures, stale timestamps and replays with a changed body are 401', async () => {
    const attack = fc.oneof(
      hostileString
        .filter((s) => s !== SLACK_SECRET)
        .map((secret) => ({ kind: 'other secret', secret }) as const),
      fc
        .stringMatching(/^[0-9a-f]{64}$/)
        .map((hex) => ({ kind: 'random signature', signature: `v0=${hex}` }) as const),
      fc
        .constantFrom('', 'v0=', 'v1=', 'v0=zz', 'V0=', 'v0 =', 'sha256=', `v0=${'a'.repeat(63)}`)
        .map((prefix) => ({ kind: 'malformed signature', prefix }) as const),
      fc
        .tuple(fc.integer({ min: 301, max: 1_000_000_000 }), fc.boolean())
        .map(([skew, future]) => ({ kind: 'stale', skew: future ? skew : -skew }) as const),
      fc
        .constantFrom('', '-1', '1e9', ' 1', '0x1', '1.5', '99999999999999999999', 'NaN', 'now')
        .map((timestamp) => ({ kind: 'malformed timestamp', timestamp }) as const),
      fc
        .oneof(
          fc.constant('&x=1'),
          fc.constant('\n'),
          hostileString.map((s) => `&text=${percentEncode(s)}`),
          fc.constant('%20'),
        )
        .map((suffix) => ({ kind: 'replay, changed body', suffix }) as const),
      fc.constant({ kind: 'replay, other text' } as const),
      fc
        .constantFrom('timestamp', 'signature')
        .map((header) => ({ kind: 'missing header', header }) as const),
    );
    await fc.assert(
      fc.asyncProperty(attack, async (a) => {
        const body = formOf(
          Object.entries(commandFields(VALID_RUN, { response_url: stack.chatResponseUrl })),
        );
        const now = String(nowSeconds());
        let sent = body;
        let headers: Record<string, string> = {
          'x-slack-request-timestamp': now,
          'x-slack-signature': signSlack(SLACK_SECRET, now, body),
        };
        switch (a.kind) {
          case 'other secret':
            headers['x-slack-signature'] = signSlack(a.secret, now, body);
            break;
          case 'random signature':
            headers['x-slack-signature'] = a.signature;
            break;
          case 'malformed signature':
            // No prefix: the right hex without `v0=`; otherwise the prefix alone.
            headers['x-slack-signature'] =
              a.prefix === '' ? signSlack(SLACK_SECRET, now, body).slice(3) : a.prefix;
            break;
          case 'stale': {
            const stale = String(Number(now) + a.skew);
            headers = {
              'x-slack-request-timestamp': stale,
              'x-slack-signature': signSlack(SLACK_SECRET, stale, body),
            };
            break;
          }
          case 'malformed timestamp':
            headers = {
              'x-slack-request-timestamp': a.timestamp,
              'x-slack-signature': signSlack(SLACK_SECRET, a.timestamp, body),
            };
            break;
          case 'replay, changed body':
            sent = Buffer.concat([body, Buffer.from(a.suffix)]);
            break;
          case 'replay, other text':
            sent = formOf(
              Object.entries(
                commandFields(`${VALID_RUN} name=replayed`, { response_url: stack.chatResponseUrl }),
              ),
            );
            break;
          case 'missing header':
            delete headers[a.header === 'timestamp' ? 'x-slack-request-timestamp' : 'x-slack-signature'];
            break;
        }
        const before = await footprint();
        const answer = await slackCall(sent, headers);
        expectNoServerError(answer);
        expect(answer.status, `${a.kind}: ${answer.text.slice(0, 200)}`).toBe(401);
        expect(problemOf(answer).code).toMatch(/^AuthFailure/);
        expect(await footprint()).toEqual(before);
      }),
      { numRuns: 200 },
    );
    // The very request, signed as it is sent, is accepted: the refusals above are the signature's doing.
    expect((await signedCommand(VALID_RUN)).text).toMatch(/:inbox_tray: .*accepted\./);
  }, 60_000);
});

describe('Mattermost tokens (property)', () => {
  it('a missing, forged or malformed token, in the header or the form, is 401 with nothing created; the right one passes', async () => {
    const forged = hostileString.filter((s) => s !== MATTERMOST_TOKEN && !/\s/.test(s) && s !== '');
    const header = fc.oneof(
      fc.constant({ header: undefined }),
      // A header value carries visible ASCII only (undici refuses the rest before sending).
      forged.filter((s) => /^[\x21-\x7e]+$/.test(s)).map((token) => ({ header: `Token ${token}` })),
      fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/).map((token) => ({ header: `Token ${token}` })),
      fc.constant({ header: `Token ${MATTERMOST_TOKEN}` }),
      fc
        .constantFrom(
          `Bearer ${MATTERMOST_TOKEN}`,
          `Basic ${Buffer.from(`x:${MATTERMOST_TOKEN}`).toString('base64')}`,
          'Token',
          `Token ${MATTERMOST_TOKEN} extra`,
          `Token ${MATTERMOST_TOKEN.toUpperCase()}`,
          `Token ${MATTERMOST_TOKEN.slice(0, -1)}`,
          `Token ${MATTERMOST_TOKEN}x`,
        )
        .map((value) => ({ header: value })),
    );
    const form = fc.oneof(
      fc.constant({ form: undefined }),
      forged.map((token) => ({ form: token })),
      fc.constant({ form: MATTERMOST_TOKEN }),
    );
    await fc.assert(
      fc.asyncProperty(fc.tuple(header, form), async ([h, f]) => {
        const { token: _slackField, ...fields } = commandFields(VALID_RUN, {
          response_url: stack.chatResponseUrl,
        });
        const body = formOf(Object.entries(f.form === undefined ? fields : { ...fields, token: f.form }));
        const before = await footprint();
        const answer = await slackCall(body, h.header === undefined ? {} : { authorization: h.header });
        expectNoServerError(answer);
        // The rule, said again independently: a header token counts only as `Token <token>`; every token
        // presented must be the right one, and at least one must be presented.
        const presented = [/^token\s+(\S+)$/i.exec(h.header ?? '')?.[1], f.form].filter(
          (token): token is string => token !== undefined && token !== '',
        );
        // The test token is a secret too: a failure names it, never prints it.
        const shown = (text: string | undefined) => text?.replaceAll(MATTERMOST_TOKEN, '<the token>');
        const why = `${shown(h.header)} / ${shown(f.form)}: ${answer.text.slice(0, 200)}`;
        if (presented.length > 0 && presented.every((token) => token === MATTERMOST_TOKEN)) {
          expect(answer.status, why).toBe(200);
          expect(answer.text, why).toMatch(/accepted\./);
          return;
        }
        expect(answer.status, why).toBe(401);
        expect(problemOf(answer).code).toMatch(/^AuthFailure/);
        expect(await footprint()).toEqual(before);
      }),
      { numRuns: 150 },
    );
    // The same command with the right token in both places is accepted: the refusals were the token's doing.
    const { token: _slackField, ...fields } = commandFields(VALID_RUN, {
      response_url: stack.chatResponseUrl,
    });
    const accepted = await slackCall(formOf(Object.entries({ ...fields, token: MATTERMOST_TOKEN })), {
      authorization: `Token ${MATTERMOST_TOKEN}`,
    });
    expect(accepted.text).toMatch(/accepted\./);
  }, 60_000);
});

describe('after the fuzzing', () => {
  it('leaves no prototype with a new or changed member, in the test process or in the functions', async () => {
    const after = [Object.prototype, Array.prototype, Function.prototype].map(membersOf);
    after.forEach((members, i) => {
      expect([...members.keys()]).toEqual([...(prototypesBefore[i]?.keys() ?? [])]);
      for (const [key, parts] of members)
        expect(parts.every((part, j) => Object.is(part, prototypesBefore[i]?.get(key)?.[j]))).toBe(true);
    });
    // The functions run in worker threads: a polluted prototype there would show in what they answer.
    const validate = await call('POST', '/v1/run-instances/validate', {
      headers: { 'content-type': JSON_TYPE },
      body: JSON.stringify(seedExample(2)),
    });
    expect(validate.text).toBe(validateBefore);
    expect((await signedCommand(VALID_CHECK)).text).toBe(checkBefore);
  });

  it('still accepts a valid request, in JSON and as a form, and lists it', async () => {
    const json = await call('POST', '/v1/run-instances', {
      headers: { 'content-type': JSON_TYPE },
      body: JSON.stringify(seedExample(1)),
    });
    expect(json.status).toBe(202);
    const form = await call('POST', '/v1/run-instances', {
      headers: { 'content-type': FORM_TYPE },
      body: seedForm(3),
      token: BOB,
    });
    expect(form.status).toBe(202);
    const { jobId } = JSON.parse(form.text) as { jobId: string };
    const listed = JSON.parse((await call('GET', '/v1/jobs', { token: BOB })).text) as {
      jobs: Array<{ jobId: string; metadata: Record<string, string> }>;
    };
    expect(listed.jobs.map((job) => job.jobId)).toContain(jobId);
    expect(listed.jobs.find((job) => job.jobId === jobId)?.metadata).toEqual({});
  });
});
