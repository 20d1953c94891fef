import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { SEED_PASSWORD, seedExample, seedForm } from '../helpers/requests.ts';
import { serverlessWithout } from '../helpers/stack-files.ts';

/**
 * The front door over real HTTP (docs/http-api.md): whatever a careless or hostile client sends, the stack
 * stays up, answers 4xx with a problem that says what to do, and a refused request changes nothing — counted
 * in the table and on the queue, not inferred from the status code.
 */
const ALICE = 'alice-token-0123456789abcdef';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

let stack: LocalStack;
const logLines: string[] = [];

beforeAll(async () => {
  // Without the submitter: the queue keeps every message, so "nothing was sent" can be counted.
  stack = await startLocalStack({
    serverlessYml: serverlessWithout('submit'),
    port: 0,
    simulatorPort: 0,
    dataDir: null,
    env: { API_TOKENS: `alice:${sha(ALICE)}` },
    logSink: (line) => logLines.push(line),
  });
});
afterAll(() => stack.stop());

interface Answer {
  status: number;
  headers: Headers;
  problem: {
    code?: string;
    detail?: string;
    errors?: Array<{ param: string; code: string; message: string }>;
  };
}

async function send(
  body: string | Uint8Array | undefined,
  init: { method?: string; path?: string; type?: string | null; token?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? ALICE}`;
  if (init.type !== null && init.type !== undefined) headers['content-type'] = init.type;
  const response = await fetch(`${stack.url}${init.path ?? '/v1/run-instances'}`, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let problem: Answer['problem'] = {};
  try {
    problem = JSON.parse(text) as Answer['problem'];
  } catch {
    // not JSON: left empty
  }
  return { status: response.status, headers: response.headers, problem };
}

/** What a request could have changed: the items of the table and the messages of the submit queue. */
async function footprint(): Promise<{ items: number; messages: number }> {
  // The scheduled function's lease item comes and goes on its own schedule: only what a request can leave counts.
  const { Count = 0 } = await stack.clients.dynamodb.send(
    new ScanCommand({
      TableName: stack.tableName,
      Select: 'COUNT',
      FilterExpression: '#kind <> :lease',
      ExpressionAttributeNames: { '#kind': 'kind' },
      ExpressionAttributeValues: { ':lease': { S: 'lease' } },
    }),
  );
  const { Attributes = {} } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.queueUrls.SubmitQueue,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    items: Count,
    messages:
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** Sends a request that must be refused with `status`, and checks that it changed nothing. */
async function refused(status: number, ...args: Parameters<typeof send>): Promise<Answer> {
  const before = await footprint();
  const answer = await send(...args);
  expect(answer.status).toBe(status);
  expect(await footprint()).toEqual(before);
  return answer;
}

const json = (body: unknown) => JSON.stringify(body);
const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

describe('the gateway never lets one request stop the stack', () => {
  it('drops a client that disconnects in the middle of its body, and serves the next request', async () => {
    const { port } = new URL(stack.url);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /v1/run-instances HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"Pla`,
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
      socket.on('error', reject);
    });
    expect((await send(json(seedExample(1)), { type: JSON_TYPE })).status).toBe(202);
  });

  it.each(['/v1/jobs/%E0%A4%A', '/v1/jobs/%zz', '/v1/jobs/%'])(
    'answers a malformed percent-encoding in the path (%s) with 400 problem+json',
    async (path) => {
      const answer = await send(undefined, { path });
      expect(answer.status).toBe(400);
      expect(answer.problem.detail).toContain('percent-encoding');
      expect((await send(undefined, { path: '/v1/jobs/00000000-0000-4000-8000-000000000000' })).status).toBe(
        404,
      );
    },
  );
});

describe('routes', () => {
  it('answers a GET on the POST route with 405 and Allow: POST', async () => {
    const answer = await send(undefined, { path: '/v1/run-instances' });
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('POST');
    expect(answer.problem.detail).toContain('use POST');
  });

  it('answers a path the API does not have with 404 problem+json, before asking who calls', async () => {
    const answer = await send(undefined, { path: '/v2/nothing', token: null });
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('bodies: strict UTF-8, and the right media type', () => {
  it('refuses a JSON body whose bytes are not UTF-8, changing nothing', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"Placement":{"Zone":"ap-guangzhou-2"},"InstanceName":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const answer = await refused(400, bytes, { type: JSON_TYPE });
    expect(answer.problem.detail).toContain('is not UTF-8');
  });

  it('refuses a form whose percent-encoded bytes are not UTF-8, naming the parameter', async () => {
    const answer = await refused(400, `${seedForm(1)}&InstanceName=%FF%FE`, { type: FORM_TYPE });
    expect(answer.problem.errors).toContainEqual(
      expect.objectContaining({ param: 'InstanceName', message: expect.stringContaining('not UTF-8') }),
    );
  });

  it.each(['iso-8859-1', 'latin1', 'utf-16'])(
    'answers a declared charset=%s with 415, saying to send UTF-8',
    async (charset) => {
      const answer = await refused(415, json(seedExample(1)), {
        type: `application/json; charset=${charset}`,
      });
      expect(answer.problem.detail).toContain('Send the body as UTF-8');
    },
  );

  it('accepts charset=utf-8', async () => {
    expect((await send(json(seedExample(1)), { type: 'application/json; charset=UTF-8' })).status).toBe(202);
  });

  it('tells a client that sent JSON as a form (curl --data) to send application/json', async () => {
    const answer = await refused(400, json(seedExample(1)), { type: FORM_TYPE });
    expect(answer.problem.errors?.[0]?.message).toContain('send Content-Type: application/json');
  });

  it('tells a client that sent JSON with no Content-Type header at all to send application/json', async () => {
    const before = await footprint();
    const { port } = new URL(stack.url);
    const body = json(seedExample(1));
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: Number(port),
          method: 'POST',
          path: '/v1/run-instances',
          headers: { authorization: `Bearer ${ALICE}`, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(answer.status).toBe(415);
    expect(answer.text).toContain('looks like JSON: send it with Content-Type: application/json');
    expect(await footprint()).toEqual(before);
  });
});

describe('values that reached the store or an error path before', () => {
  it('answers a value nested thousands deep where a string is expected with 400', async () => {
    const deep = (n: number) => `${'['.repeat(n)}"x"${']'.repeat(n)}`;
    const body = `{"Placement":{"Zone":"ap-guangzhou-2"},"ImageId":"img-pmqg1cw7","InstanceChargeType":${deep(20_000)}}`;
    const answer = await refused(400, body, { type: JSON_TYPE });
    expect(answer.problem.errors).toEqual([
      expect.objectContaining({
        param: 'InstanceChargeType',
        message: expect.stringContaining('(got an array)'),
      }),
    ]);
  });

  it.each(['__proto__', 'constructor', 'prototype'])(
    'refuses %s as a metadata key with 400, leaving no item (no tombstone) behind',
    async (key) => {
      const body = `{"Placement":{"Zone":"ap-guangzhou-2"},"ImageId":"img-pmqg1cw7","metadata":{"${key}":"x"}}`;
      const answer = await refused(400, body, { type: JSON_TYPE });
      expect(answer.problem.errors).toEqual([
        expect.objectContaining({ param: `metadata.${key}`, message: `uses the reserved name "${key}"` }),
      ]);
    },
  );

  it("refuses a ClientToken in the derived tokens' namespace: no caller can take another job's token", async () => {
    const first = await send(json(seedExample(1)), { type: JSON_TYPE });
    expect(first.status).toBe(202);
    const theirs = (first.problem as { clientToken?: string }).clientToken;
    expect(theirs).toMatch(/^cvmp-/);
    const answer = await refused(400, json({ ...seedExample(1), ClientToken: theirs }), { type: JSON_TYPE });
    expect(answer.problem.code).toBe('InvalidClientToken.Reserved');
  });

  it('refuses a zone that does not exist, with the zones its region has', async () => {
    const answer = await refused(400, json({ ...seedExample(1), Placement: { Zone: 'ap-guangzhou-9' } }), {
      type: JSON_TYPE,
    });
    expect(answer.problem.errors?.[0]).toMatchObject({
      code: 'InvalidZone.MismatchRegion',
      message: expect.stringContaining('ap-guangzhou-3'),
    });
  });
});

describe('auth refusals say what is wrong', () => {
  it.each([
    ['no token', null, 'Send Authorization: Bearer'],
    ['a token nobody has', 'someone-elses-token', 'not one of the configured tokens'],
    ['a malformed token', 'has space', 'malformed'],
  ])('answers %s with 401 and its own message', async (_name, token, message) => {
    const answer = await refused(401, json(seedExample(1)), { type: JSON_TYPE, token });
    expect(answer.problem.detail).toContain(message);
  });
});

describe('refused requests are logged, without their values', () => {
  it('logs a refusal by code and parameter at info', async () => {
    const marker = 'a-password-that-must-not-be-logged-1';
    await send(json({ ...seedExample(2), LoginSettings: { Password: marker }, InstanceCount: 0 }), {
      type: JSON_TYPE,
    });
    const refusals = logLines.filter((line) => line.includes('"request refused"'));
    expect(refusals.some((line) => line.includes('"InstanceCount"'))).toBe(true);
    expect(logLines.join('\n')).not.toContain(marker);
    expect(logLines.join('\n')).not.toContain(SEED_PASSWORD);
  });

  it("logs an unknown parameter's name as unknown: it is the caller's text (a password's tail, after a bare &)", async () => {
    await send(
      `${seedForm(2).replace(/LoginSettings\.Password=[^&]*/, 'LoginSettings.Password=Ab1')}&cd!Secret9`,
      {
        type: FORM_TYPE,
      },
    );
    expect(logLines.join('\n')).not.toContain('cd!Secret9');
    expect(logLines.join('\n')).toContain('(unknown parameter)');
  });
});

describe('answers stay small, whatever the request', () => {
  it('lists at most 50 violations and says how many more there are', async () => {
    const body = json({
      ...seedExample(1),
      SecurityGroupIds: undefined,
      ...Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`Unknown${i}`, 1])),
    });
    const answer = await refused(400, body, { type: JSON_TYPE });
    expect(answer.problem.errors).toHaveLength(51);
    expect(answer.problem.errors?.at(-1)?.message).toMatch(/^and \d+ more violations/);
  });

  it('refuses a list of tens of thousands of items by its length, not item by item', async () => {
    const body = `{"Placement":{"Zone":"ap-guangzhou-2"},"ImageId":"img-pmqg1cw7","SecurityGroupIds":[${Array.from({ length: 20_000 }, () => '""').join(',')}]}`;
    const answer = await refused(400, body, { type: JSON_TYPE });
    expect(answer.problem.errors?.length).toBeLessThanOrEqual(2);
    expect(answer.problem.errors).toContainEqual(
      expect.objectContaining({ param: 'SecurityGroupIds', message: expect.stringContaining('at most') }),
    );
  });
});

describe('the whole HTTP path under arbitrary and near-valid input (property)', () => {
  const reservedKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '');
  const leaf = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
  const nearValid = fc
    .record({
      key: fc.constantFrom(
        'Placement',
        'ImageId',
        'InstanceCount',
        'InstanceChargeType',
        'metadata',
        'webhookUrl',
        'DataDisks',
        'LoginSettings',
      ),
      value: fc.oneof(
        leaf,
        fc.dictionary(fc.oneof(fc.string(), reservedKey), leaf, { maxKeys: 4 }),
        fc.array(leaf, { maxLength: 4 }),
      ),
      depth: fc.nat(3000),
    })
    .map(({ key, value, depth }) => {
      const nested =
        depth > 2500 ? `${'['.repeat(depth)}0${']'.repeat(depth)}` : JSON.stringify(value ?? null);
      const base = JSON.stringify(seedExample(1)).slice(0, -1);
      return `${base},${JSON.stringify(key)}:${nested}}`;
    });
  const bodies = fc.oneof(
    nearValid.map((text) => ({ body: text, type: JSON_TYPE })),
    fc.string().map((text) => ({ body: text, type: JSON_TYPE })),
    fc.string().map((text) => ({ body: text, type: FORM_TYPE })),
    fc
      .array(
        fc.tuple(
          fc.oneof(
            fc.string(),
            fc.constantFrom(
              'metadata.__proto__',
              'Placement.0',
              'DataDisks.999999.DiskSize',
              'a.b.c.d.e.f.g.h.i',
            ),
          ),
          fc.string(),
        ),
        { maxLength: 6 },
      )
      .map((pairs) => ({
        body: pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'),
        type: FORM_TYPE,
      })),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ body: bytes, type: JSON_TYPE })),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ body: bytes, type: FORM_TYPE })),
    fc
      .constantFrom(
        'text/plain',
        'application/xml',
        'application/json; charset=latin1',
        'multipart/form-data',
      )
      .map((type) => ({ body: json(seedExample(1)), type })),
  );

  it('never answers 5xx, and a refused request leaves the table and the queue as they were', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, async ({ body, type }) => {
        const before = await footprint();
        const answer = await send(body, { type });
        expect(answer.status).toBeLessThan(500);
        if (answer.status >= 400) expect(await footprint()).toEqual(before);
        else expect(answer.status).toBe(202);
      }),
      { numRuns: 150 },
    );
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});
