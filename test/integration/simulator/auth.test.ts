import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGN_METHODS } from '../../../lib/tencent/client.ts';
import { staticCredentials } from '../../../lib/tencent/credentials.ts';
import {
  BASE_RUN,
  codeOf,
  type Harness,
  rawTc3,
  rawV1,
  SECRET_ID,
  SECRET_KEY,
  simInstances,
  startHarness,
} from '../../helpers/simulator.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const seconds = () => Math.floor(h.clock.now() / 1000);

describe.each(SIGN_METHODS)('authentication of %s requests', (signMethod) => {
  it('refuses a request signed with the wrong key as AuthFailure.SignatureFailure', async () => {
    const client = h.client({ signMethod, credentials: staticCredentials(SECRET_ID, 'wrong-secret-key') });
    await expect(client.call('DescribeInstances')).rejects.toMatchObject({
      name: 'TencentApiError',
      code: 'AuthFailure.SignatureFailure',
    });
  });

  it('refuses an unknown SecretId as AuthFailure.SecretIdNotFound', async () => {
    const client = h.client({
      signMethod,
      credentials: staticCredentials('AKIDunknown000000000000000000000000', 'whatever'),
    });
    await expect(client.call('DescribeInstances')).rejects.toMatchObject({
      code: 'AuthFailure.SecretIdNotFound',
    });
  });

  it.each([301, -301, 3600])(
    'refuses a timestamp %i s away from server time as SignatureExpire',
    async (skew) => {
      const client = h.client({ signMethod, now: () => h.clock.now() + skew * 1000 });
      await expect(client.call('DescribeInstances')).rejects.toMatchObject({
        code: 'AuthFailure.SignatureExpire',
      });
    },
  );

  it.each([299, -299, 300, -300])('accepts a timestamp %i s away from server time', async (skew) => {
    const client = h.client({ signMethod, now: () => h.clock.now() + skew * 1000 });
    const response = await client.call('DescribeInstances');
    expect(response.TotalCount).toEqual(expect.any(Number));
  });

  it('creates nothing when the signature fails', async () => {
    const before = (await simInstances(h.sim)).length;
    const client = h.client({ signMethod, credentials: staticCredentials(SECRET_ID, 'wrong-secret-key') });
    await expect(client.call('RunInstances', { ...BASE_RUN })).rejects.toMatchObject({
      code: 'AuthFailure.SignatureFailure',
    });
    expect(await simInstances(h.sim)).toHaveLength(before);
  });
});

describe('hand-crafted TC3 requests', () => {
  it('accepts a request signed by the official SDK code (control for the tampering cases)', async () => {
    const { status, body } = await rawTc3(h.sim, { timestamp: seconds(), payload: '{"Limit":1}' });
    expect(status).toBe(200);
    expect(body.Response.Error).toBeUndefined();
    expect(body.Response.TotalCount).toEqual(expect.any(Number));
  });

  it('refuses a body altered after signing as AuthFailure.SignatureFailure, with HTTP 200 and a RequestId', async () => {
    const { status, body } = await rawTc3(h.sim, {
      timestamp: seconds(),
      payload: '{"Limit":1}',
      sentBody: '{"Limit":2}',
    });
    expect(status).toBe(200);
    expect(body.Response.Error?.Code).toBe('AuthFailure.SignatureFailure');
    expect(body.Response.RequestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a RunInstances body altered after signing without creating anything', async () => {
    const before = (await simInstances(h.sim)).length;
    const payload = JSON.stringify({ ...BASE_RUN, InstanceCount: 1 });
    const { body } = await rawTc3(h.sim, {
      action: 'RunInstances',
      timestamp: seconds(),
      payload,
      sentBody: payload.replace('"InstanceCount":1', '"InstanceCount":9'),
    });
    expect(body.Response.Error?.Code).toBe('AuthFailure.SignatureFailure');
    expect(await simInstances(h.sim)).toHaveLength(before);
  });

  it('refuses a signature with one hex digit changed as AuthFailure.SignatureFailure', async () => {
    const { body } = await rawTc3(h.sim, {
      timestamp: seconds(),
      authorization: (signed) => signed.replace(/.$/, (last) => (last === '0' ? '1' : '0')),
    });
    expect(body.Response.Error?.Code).toBe('AuthFailure.SignatureFailure');
  });

  it('refuses a credential scope dated another day as AuthFailure.SignatureFailure', async () => {
    const { body } = await rawTc3(h.sim, {
      timestamp: seconds(),
      authorization: (signed) => signed.replace(/\/\d{4}-\d{2}-\d{2}\//, '/2001-01-01/'),
    });
    expect(body.Response.Error?.Code).toBe('AuthFailure.SignatureFailure');
  });

  it('refuses a TC3 credential scope naming another service', async () => {
    const error = await codeOf(h.client({ service: 'cbs' }).call('DescribeInstances'));
    expect(error).toBe('AuthFailure.SignatureFailure');
  });

  it('refuses a request signed with the wrong key as AuthFailure.SignatureFailure', async () => {
    const { body } = await rawTc3(h.sim, { timestamp: seconds(), secretKey: 'not-the-simulator-key' });
    expect(body.Response.Error?.Code).toBe('AuthFailure.SignatureFailure');
  });

  it.each([
    ['no Signature part', (signed: string) => signed.replace(/, Signature=[0-9a-f]+$/, '')],
    ['a truncated signature', (signed: string) => signed.slice(0, -10)],
    ['garbage after the algorithm', () => 'TC3-HMAC-SHA256 garbage'],
    ['no SignedHeaders part', (signed: string) => signed.replace(' SignedHeaders=content-type;host,', '')],
  ])(
    'refuses a malformed Authorization (%s) as AuthFailure.InvalidAuthorization',
    async (_what, authorization) => {
      const { body } = await rawTc3(h.sim, { timestamp: seconds(), authorization });
      expect(body.Response.Error?.Code).toBe('AuthFailure.InvalidAuthorization');
    },
  );

  it.each(['garbage', 'TC3-HMAC-SHA1 Credential=x'])(
    'answers Authorization "%s" with AuthFailure.InvalidAuthorization',
    async (authorization) => {
      const response = await fetch(`${h.sim.url}/`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', 'x-tc-action': 'DescribeInstances' },
        body: '{}',
      });
      const body = (await response.json()) as { Response: { Error: { Code: string } } };
      expect(body.Response.Error.Code).toBe('AuthFailure.InvalidAuthorization');
    },
  );

  it('refuses a signed timestamp 301 s in the past as AuthFailure.SignatureExpire', async () => {
    const { body } = await rawTc3(h.sim, { timestamp: seconds() - 301 });
    expect(body.Response.Error?.Code).toBe('AuthFailure.SignatureExpire');
  });
});

describe('hand-crafted v1 requests', () => {
  it.each(['POST', 'GET'] as const)('accepts a %s signed by the official SDK code', async (method) => {
    const { body } = await rawV1(h.sim, { method, timestamp: seconds(), params: { Limit: '1' } });
    expect(body.Response.Error).toBeUndefined();
  });

  it.each(['POST', 'GET'] as const)(
    'refuses a %s parameter altered after signing as SignatureFailure',
    async (method) => {
      const { body } = await rawV1(h.sim, {
        method,
        timestamp: seconds(),
        params: { Limit: '1' },
        tamper: (signed) => ({ ...signed, Limit: '2' }),
      });
      expect(body.Response.Error?.Code).toBe('AuthFailure.SignatureFailure');
    },
  );

  it('refuses a parameter added after signing as AuthFailure.SignatureFailure', async () => {
    const { body } = await rawV1(h.sim, {
      method: 'POST',
      timestamp: seconds(),
      tamper: (signed) => ({ ...signed, Offset: '0' }),
    });
    expect(body.Response.Error?.Code).toBe('AuthFailure.SignatureFailure');
  });

  it('refuses an HmacSHA1 request signed as HmacSHA256 as AuthFailure.SignatureFailure', async () => {
    const { body } = await rawV1(h.sim, {
      method: 'POST',
      timestamp: seconds(),
      signatureMethod: 'HmacSHA256',
      tamper: (signed) => ({ ...signed, SignatureMethod: 'HmacSHA1' }),
    });
    expect(body.Response.Error?.Code).toBe('AuthFailure.SignatureFailure');
  });

  it('refuses an unknown SecretId as AuthFailure.SecretIdNotFound', async () => {
    const { body } = await rawV1(h.sim, {
      method: 'GET',
      timestamp: seconds(),
      secretId: 'AKIDnobody0000000000000000000000000',
    });
    expect(body.Response.Error?.Code).toBe('AuthFailure.SecretIdNotFound');
  });
});

describe('temporary credentials', () => {
  const TEMP_ID = 'AKIDTEMPORARY000000000000000000000000';
  const TEMP_KEY = 'temporary-secret-key';
  let temp: Harness;
  beforeAll(async () => {
    temp = await startHarness({
      credentials: { [SECRET_ID]: SECRET_KEY, [TEMP_ID]: { secretKey: TEMP_KEY, token: 'sts-token-1' } },
    });
  });
  afterAll(() => temp.close());

  it.each(SIGN_METHODS)('accepts a %s request carrying its session token', async (signMethod) => {
    const client = temp.client({
      signMethod,
      credentials: staticCredentials(TEMP_ID, TEMP_KEY, 'sts-token-1'),
    });
    expect(await codeOf(client.call('DescribeInstances'))).toBe('accepted');
  });

  it.each(SIGN_METHODS)(
    'refuses a %s request with another session token as AuthFailure.TokenFailure',
    async (signMethod) => {
      const client = temp.client({
        signMethod,
        credentials: staticCredentials(TEMP_ID, TEMP_KEY, 'sts-token-0'),
      });
      expect(await codeOf(client.call('DescribeInstances'))).toBe('AuthFailure.TokenFailure');
    },
  );

  it.each(SIGN_METHODS)('refuses a %s request of a temporary key without its token', async (signMethod) => {
    const client = temp.client({ signMethod, credentials: staticCredentials(TEMP_ID, TEMP_KEY) });
    expect(await codeOf(client.call('DescribeInstances'))).toBe('AuthFailure.TokenFailure');
  });

  it('refuses a token sent with a permanent key, and creates nothing', async () => {
    const client = temp.client({ credentials: staticCredentials(SECRET_ID, SECRET_KEY, 'sts-token-1') });
    expect(await codeOf(client.call('RunInstances', { ...BASE_RUN }))).toBe('AuthFailure.TokenFailure');
    expect(await simInstances(temp.sim)).toEqual([]);
  });
});
