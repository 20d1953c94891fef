import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RequestNotSentError, TencentApiError, UnknownOutcomeError } from '../../lib/errors.ts';
import { createTencentClient, type TencentClientOptions } from '../../lib/tencent/client.ts';
import { staticCredentials } from '../../lib/tencent/credentials.ts';
import { type LoopbackServer, startLoopbackServer, tencentReply } from '../helpers/loopback-server.ts';
import { sdkSign3, sdkSignV1 } from '../helpers/tencent-sdk.ts';

const SECRET_ID = 'AKIDtestclient0000000000000000000000';
const SECRET_KEY = 'client-test-secret-key-0123456789';
const NOW_MS = 1_551_113_065_000;
const RUN_PARAMS = {
  Placement: { Zone: 'ap-guangzhou-3' },
  ImageId: 'img-pmqg1cw7',
  InstanceName: 'web {R:1} 未命名',
  DataDisks: [{ DiskType: 'CLOUD_PREMIUM', DiskSize: 100 }],
  EnhancedService: { SecurityService: { Enabled: true } },
  ClientToken: 'c0ffee00-0000-4000-8000-000000000001',
};

let server: LoopbackServer;
const clients: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  server = await startLoopbackServer(tencentReply({ InstanceIdSet: ['ins-abcdefgh'] }));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.received.length = 0;
  server.reply = tencentReply({ InstanceIdSet: ['ins-abcdefgh'] });
});
afterAll(() => server.close());

function client(options: Partial<TencentClientOptions> = {}) {
  const created = createTencentClient({
    endpoint: server.url,
    signMethod: 'TC3-HMAC-SHA256',
    credentials: staticCredentials(SECRET_ID, SECRET_KEY),
    now: () => NOW_MS,
    nonce: () => 4242,
    language: 'en-US',
    ...options,
  });
  clients.push(created);
  return created;
}

function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

describe('TC3 over POST/JSON', () => {
  it('sends the X-TC headers and returns the parsed Response', async () => {
    const response = await client().call('RunInstances', RUN_PARAMS, { region: 'ap-guangzhou' });
    expect(response).toEqual({ InstanceIdSet: ['ins-abcdefgh'], RequestId: 'req-0001' });
    const { headers, method, url } = only(server.received);
    expect(method).toBe('POST');
    expect(url).toBe('/');
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-tc-action']).toBe('RunInstances');
    expect(headers['x-tc-version']).toBe('2017-03-12');
    expect(headers['x-tc-region']).toBe('ap-guangzhou');
    expect(headers['x-tc-timestamp']).toBe('1551113065');
    expect(headers['x-tc-language']).toBe('en-US');
    expect(headers['x-tc-token']).toBeUndefined();
  });

  it('sends exactly the bytes it signed: the SDK signs the received body to the same Authorization', async () => {
    await client().call('RunInstances', RUN_PARAMS, { region: 'ap-guangzhou' });
    const { headers, body } = only(server.received);
    expect(JSON.parse(body.toString('utf8'))).toEqual(RUN_PARAMS);
    const expected = sdkSign3({
      method: 'POST',
      host: '127.0.0.1',
      contentType: String(headers['content-type']),
      payload: body,
      timestamp: 1551113065,
      service: 'cvm',
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
    });
    expect(headers.authorization).toBe(expected);
  });

  it('sends X-TC-Token with temporary credentials', async () => {
    await client({ credentials: staticCredentials(SECRET_ID, SECRET_KEY, 'sts-token-1') }).call(
      'DescribeInstances',
      {},
      {
        region: 'ap-guangzhou',
      },
    );
    expect(only(server.received).headers['x-tc-token']).toBe('sts-token-1');
  });

  it('signs GET with the business parameters in the query', async () => {
    await client({ httpMethod: 'GET' }).call(
      'DescribeInstances',
      { InstanceIds: ['ins-abcdefgh'], Limit: 1 },
      {
        region: 'ap-guangzhou',
      },
    );
    const { headers, url, method } = only(server.received);
    expect(method).toBe('GET');
    expect(url).toBe('/?InstanceIds.0=ins-abcdefgh&Limit=1');
    const expected = sdkSign3({
      method: 'GET',
      host: '127.0.0.1',
      query: 'InstanceIds.0=ins-abcdefgh&Limit=1',
      contentType: 'application/x-www-form-urlencoded',
      payload: '',
      timestamp: 1551113065,
      service: 'cvm',
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
    });
    expect(headers.authorization).toBe(expected);
  });
});

describe('v1 signing over the flattened form', () => {
  it.each(['HmacSHA256', 'HmacSHA1'] as const)(
    'POSTs a %s-signed form the SDK verifies',
    async (signMethod) => {
      await client({ signMethod }).call('RunInstances', RUN_PARAMS, { region: 'ap-guangzhou' });
      const { headers, body } = only(server.received);
      expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
      const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
      expect(params).toMatchObject({
        Action: 'RunInstances',
        Version: '2017-03-12',
        Region: 'ap-guangzhou',
        Timestamp: '1551113065',
        Nonce: '4242',
        SecretId: SECRET_ID,
        SignatureMethod: signMethod,
        'Placement.Zone': 'ap-guangzhou-3',
        'DataDisks.0.DiskSize': '100',
        'EnhancedService.SecurityService.Enabled': 'true',
        InstanceName: 'web {R:1} 未命名',
      });
      const { Signature, ...signed } = params;
      const host = new URL(server.url).host;
      expect(Signature).toBe(
        sdkSignV1({
          method: 'POST',
          host,
          path: '/',
          params: signed,
          secretKey: SECRET_KEY,
          signatureMethod: signMethod,
        }),
      );
    },
  );

  it('GETs the legacy gateway path with everything in the query', async () => {
    await createTencentClientFor('/v2/index.php').call(
      'DescribeInstances',
      { Limit: 1 },
      { region: 'ap-guangzhou' },
    );
    const { url, method } = only(server.received);
    expect(method).toBe('GET');
    const query = new URL(url, server.url);
    expect(query.pathname).toBe('/v2/index.php');
    const { Signature, ...signed } = Object.fromEntries(query.searchParams);
    const host = new URL(server.url).host;
    expect(Signature).toBe(
      sdkSignV1({
        method: 'GET',
        host,
        path: '/v2/index.php',
        params: signed,
        secretKey: SECRET_KEY,
        signatureMethod: 'HmacSHA1',
      }),
    );
  });

  function createTencentClientFor(path: string) {
    return client({ endpoint: `${server.url}${path}`, signMethod: 'HmacSHA1', httpMethod: 'GET' });
  }

  it('refuses a TC3 client on a path other than /', () => {
    expect(() => client({ endpoint: `${server.url}/v2/index.php` })).toThrow(/TC3-HMAC-SHA256/);
  });
});

describe('outcomes', () => {
  it.each([
    ['RequestLimitExceeded', true, 'transient'],
    ['InternalError', true, 'unknown'],
    ['InvalidParameterValue.Range', false, 'invalid'],
    ['ResourceInsufficient.SpecifiedInstanceType', false, 'capacity'],
    ['AuthFailure.SignatureFailure', false, 'credentials'],
  ])('turns Response.Error %s into a TencentApiError (retryable %s)', async (code, retryable, errorClass) => {
    server.reply = tencentReply({ Error: { Code: code, Message: 'refused' }, RequestId: 'req-err' });
    const error = await client()
      .call('RunInstances', RUN_PARAMS, { region: 'ap-guangzhou' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TencentApiError);
    expect(error).toMatchObject({ code, retryable, errorClass, requestId: 'req-err', message: 'refused' });
  });

  it("keeps a server's error message but redacts what the request held secret out of it", async () => {
    server.reply = tencentReply({
      Error: {
        Code: 'InvalidPassword',
        Message: 'password Hunter2-Hunter2 is too weak; key client-test-secret-key-0123456789',
      },
      RequestId: 'req-echo',
    });
    const error = await client()
      .call(
        'RunInstances',
        { ...RUN_PARAMS, LoginSettings: { Password: 'Hunter2-Hunter2' } },
        { region: 'ap-guangzhou' },
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'InvalidPassword', requestId: 'req-echo' });
    expect((error as Error).message).toBe('password [REDACTED] is too weak; key [REDACTED]');
  });

  it('cuts an overlong server message short', async () => {
    server.reply = tencentReply({
      Error: { Code: 'InternalError', Message: 'x'.repeat(5000) },
      RequestId: 'r',
    });
    const error = await client()
      .call('DescribeInstances', {}, { region: 'ap-guangzhou' })
      .catch((e: unknown) => e);
    expect((error as Error).message.length).toBeLessThanOrEqual(501);
  });

  it('turns a non-200 status into an unknown outcome carrying the status', async () => {
    server.reply = (_req, res) => {
      res.writeHead(502);
      res.end('bad gateway');
    };
    const error = await client()
      .call('RunInstances', RUN_PARAMS)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownOutcomeError);
    expect(error).toMatchObject({ code: 'HttpStatus', httpStatus: 502, retryable: true });
  });

  it('turns an unparsable 200 body into an unknown outcome', async () => {
    server.reply = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"Response": ');
    };
    await expect(client().call('RunInstances', RUN_PARAMS)).rejects.toMatchObject({
      code: 'UnparsableResponse',
    });
  });

  it('turns a hung server into an unknown outcome once the deadline passes', async () => {
    server.reply = () => {};
    const error = await client({ timeoutMs: 150 })
      .call('RunInstances', RUN_PARAMS)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownOutcomeError);
    expect(error).toMatchObject({ code: 'RequestTimeout' });
  });

  it('cuts an answer whose body trickles past the deadline: an unknown outcome, on time', async () => {
    const timers: NodeJS.Timeout[] = [];
    server.reply = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"Response": ');
      // A byte every 50 ms: never a pause as long as the body timeout, never the end.
      timers.push(setInterval(() => res.write(' '), 50));
    };
    const started = performance.now();
    try {
      const error = await client({ timeoutMs: 300 })
        .call('RunInstances', RUN_PARAMS)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnknownOutcomeError);
      expect(error).toMatchObject({ code: 'RequestTimeout', message: expect.stringContaining('timed out') });
      // Cut at the deadline, not after the many pauses the trickle could go on for.
      expect(performance.now() - started).toBeLessThan(3000);
    } finally {
      for (const timer of timers) clearInterval(timer);
    }
  });

  it('signs with the credentials a provider holds now (current()), without calling it', async () => {
    const held = staticCredentials(SECRET_ID, SECRET_KEY);
    let calls = 0;
    const provider = Object.assign(
      async () => {
        calls++;
        return held();
      },
      { current: () => held.current?.() },
    );
    await client({ credentials: provider }).call('RunInstances', RUN_PARAMS);
    expect(calls).toBe(0);
    expect(String(only(server.received).headers.authorization)).toContain(`Credential=${SECRET_ID}/`);
  });

  it('counts the wait for a free connection against the deadline too', async () => {
    server.reply = () => {};
    // One connection: the second call waits in the pool's queue behind the first, which never gets an answer.
    const pool = new Pool(server.url, { connections: 1 });
    try {
      const c = client({ dispatcher: pool });
      const first = c.call('RunInstances', RUN_PARAMS, { timeoutMs: 3000 }).catch((e: unknown) => e);
      const started = performance.now();
      const second = await c.call('RunInstances', RUN_PARAMS, { timeoutMs: 200 }).catch((e: unknown) => e);
      // Cut at its own deadline while still queued, not once the first call gives the connection up.
      expect(performance.now() - started).toBeLessThan(1500);
      expect(second).toMatchObject({ name: 'UnknownOutcomeError', code: 'RequestTimeout' });
      expect(await first).toMatchObject({ name: 'UnknownOutcomeError', code: 'RequestTimeout' });
    } finally {
      await pool.destroy();
    }
  });

  it('refuses a time budget that is not a number, sending nothing', async () => {
    const error = await client({ timeoutMs: Number.NaN })
      .call('RunInstances', RUN_PARAMS)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RequestNotSentError', code: 'InvalidTimeout', retryable: false });
    expect(server.received).toHaveLength(0);
  });

  it("honours the caller's abort signal as an unknown outcome", async () => {
    server.reply = () => {};
    const controller = new AbortController();
    const pending = client().call('RunInstances', RUN_PARAMS, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'UnknownOutcomeError', code: 'RequestTimeout' });
  });

  it('turns a connection dropped after the request into an unknown outcome', async () => {
    server.reply = (_req, res) => res.socket?.destroy();
    const error = await client()
      .call('RunInstances', RUN_PARAMS)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownOutcomeError);
    expect(error).toMatchObject({ code: 'ConnectionError', retryable: true });
  });

  it.each([
    [
      'a dropped connection',
      (_req: unknown, res: { socket: { destroy(): void } | null }) => res.socket?.destroy(),
    ],
    ['a hung server', () => {}],
  ])(
    'keeps the secret key and session token out of the error after %s, even with v1 (token in the body)',
    async (_what, reply) => {
      server.reply = reply;
      const c = client({
        signMethod: 'HmacSHA256',
        timeoutMs: 150,
        credentials: staticCredentials(SECRET_ID, SECRET_KEY, 'sts-session-token-secret'),
      });
      const error = (await c
        .call('DescribeInstances', { Limit: 1 }, { region: 'ap-guangzhou' })
        .catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(UnknownOutcomeError);
      expect(only(server.received).body.toString()).toContain('Token=sts-session-token-secret');
      const seen = JSON.stringify({
        error,
        message: error.message,
        stack: error.stack,
        cause: String(error.cause),
      });
      expect(seen).not.toContain(SECRET_KEY);
      expect(seen).not.toContain('sts-session-token-secret');
    },
  );

  it('reuses keep-alive connections across calls instead of opening one per call', async () => {
    const c = client();
    for (let i = 0; i < 5; i++) await c.call('DescribeInstances', { Limit: 1 }, { region: 'ap-guangzhou' });
    expect(server.received).toHaveLength(5);
    // undici may open a second socket while the first is being released; it must not open one per call.
    expect(new Set(server.received.map((r) => r.remotePort)).size).toBeLessThanOrEqual(2);
  });
});

describe('requests that never leave the process', () => {
  it('closing one client leaves another on the same endpoint working', async () => {
    const a = client();
    const b = client();
    await a.close();
    await expect(
      b.call('DescribeInstances', { Limit: 1 }, { region: 'ap-guangzhou' }),
    ).resolves.toMatchObject({
      RequestId: 'req-0001',
    });
  });

  it('refuses a call on a closed client as not sent and not retryable', async () => {
    const c = client();
    await c.close();
    const error = await c.call('DescribeInstances', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestNotSentError);
    expect(error).toMatchObject({ code: 'ClientClosed', retryable: false });
    expect(server.received).toHaveLength(0);
  });

  it('reports a refused connection as not sent (nothing can have been created)', async () => {
    const closedServer = await startLoopbackServer(tencentReply({}));
    const url = closedServer.url;
    await closedServer.close();
    const error = await client({ endpoint: url })
      .call('RunInstances', RUN_PARAMS)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestNotSentError);
    expect(error).toMatchObject({ code: 'RequestNotSent', retryable: true });
  });

  it('counts the credentials lookup against the deadline and sends nothing when it runs out', async () => {
    const slow = () => new Promise<never>(() => {});
    const error = await client({ credentials: slow, timeoutMs: 100 })
      .call('RunInstances', RUN_PARAMS)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestNotSentError);
    expect(server.received).toHaveLength(0);
  });

  it('sends nothing when the caller has already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await client()
      .call('RunInstances', RUN_PARAMS, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestNotSentError);
    expect(server.received).toHaveLength(0);
  });

  it('treats a negative time budget as already late, not as a crash', async () => {
    const error = await client()
      .call('RunInstances', RUN_PARAMS, { timeoutMs: -5 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestNotSentError);
  });

  it.each(['TC3-HMAC-SHA256', 'HmacSHA256'] as const)(
    'refuses GET (%s) for a call carrying a password: the URL would hold it',
    async (signMethod) => {
      const error = await client({ signMethod, httpMethod: 'GET' })
        .call(
          'RunInstances',
          { ...RUN_PARAMS, LoginSettings: { Password: 'Hunter2-Hunter2' } },
          { region: 'ap-guangzhou' },
        )
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'RequestNotSentError', code: 'SecretInUrl', retryable: false });
      expect(String((error as Error).message)).not.toContain('Hunter2');
      expect(server.received).toHaveLength(0);
    },
  );

  it('refuses v1 GET with a session token, which v1 would sign into the query', async () => {
    const error = await client({
      signMethod: 'HmacSHA256',
      httpMethod: 'GET',
      credentials: staticCredentials(SECRET_ID, SECRET_KEY, 'session-token-xyz'),
    })
      .call('DescribeInstances', { Limit: 1 }, { region: 'ap-guangzhou' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SecretInUrl' });
    expect(server.received).toHaveLength(0);
  });

  it('still GETs with TC3 and a session token: the token travels in a header there', async () => {
    await client({
      httpMethod: 'GET',
      credentials: staticCredentials(SECRET_ID, SECRET_KEY, 'session-token-xyz'),
    }).call('DescribeInstances', { Limit: 1 }, { region: 'ap-guangzhou' });
    const request = only(server.received);
    expect(request.url).not.toContain('session-token-xyz');
    expect(request.headers['x-tc-token']).toBe('session-token-xyz');
  });

  it('refuses a v1 business parameter that collides with a common one', async () => {
    const error = await client({ signMethod: 'HmacSHA256' })
      .call('DescribeInstances', { Region: 'ap-shanghai', Limit: 1 }, { region: 'ap-guangzhou' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RequestNotSentError', code: 'InvalidParameter', retryable: false });
    expect(server.received).toHaveLength(0);
  });

  it('refuses parameters no wire encoding can carry (a lone surrogate) without sending', async () => {
    const error = await client({ signMethod: 'HmacSHA1' })
      .call('RunInstances', { ...RUN_PARAMS, InstanceName: 'web-\ud800' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RequestNotSentError', code: 'InvalidParameter' });
    expect(server.received).toHaveLength(0);
  });
});

describe('serialisation', () => {
  it('drops null members from the JSON body, as the official SDK does, and signs what it sends', async () => {
    await client().call(
      'DescribeInstances',
      { Limit: null, Filters: [{ Name: 'zone', Values: ['ap-guangzhou-3', null] }] },
      {
        region: 'ap-guangzhou',
      },
    );
    const { body, headers } = only(server.received);
    expect(body.toString('utf8')).toBe('{"Filters":[{"Name":"zone","Values":["ap-guangzhou-3"]}]}');
    expect(headers.authorization).toBe(
      sdkSign3({
        method: 'POST',
        host: '127.0.0.1',
        contentType: 'application/json',
        payload: body,
        timestamp: 1551113065,
        service: 'cvm',
        secretId: SECRET_ID,
        secretKey: SECRET_KEY,
      }),
    );
  });

  it('drops null list members before flattening for v1, so no index gap is signed or sent', async () => {
    await client({ signMethod: 'HmacSHA256', httpMethod: 'GET' }).call(
      'DescribeInstances',
      { InstanceIds: [null, 'ins-abcdefgh'] },
      { region: 'ap-guangzhou' },
    );
    const query = new URL(only(server.received).url, server.url).searchParams;
    expect(query.get('InstanceIds.0')).toBe('ins-abcdefgh');
    expect(query.has('InstanceIds.1')).toBe(false);
  });

  it('returns a passing DryRun answered as DryRunOperation instead of throwing', async () => {
    server.reply = tencentReply({
      Error: { Code: 'DryRunOperation', Message: 'would succeed' },
      RequestId: 'req-dry',
    });
    await expect(client().call('RunInstances', { ...RUN_PARAMS, DryRun: true })).resolves.toEqual({
      RequestId: 'req-dry',
      DryRunOperation: true,
    });
  });
});
