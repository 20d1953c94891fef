import { inspect } from 'node:util';
import fc from 'fast-check';
import { MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { createTencentClient } from '../../../lib/tencent/client.ts';
import { type CredentialsProvider, makeCredentials } from '../../../lib/tencent/credentials.ts';
import { createTc3KeyCache, signTc3, tc3Date, tc3SigningKey } from '../../../lib/tencent/sign-tc3.ts';
import { jsonWithoutNulls, withoutNulls } from '../../../lib/tencent/wire.ts';
import { sdkSign3 } from '../../helpers/tencent-sdk.ts';

const KEY_A = {
  secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
  secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
};
const KEY_B = {
  secretId: 'AKIDrotated00000000000000000000000000',
  secretKey: 'rotated-secret-key-0123456789abcd',
};
// 2019-02-25 23:59:59 UTC and the next second, 2019-02-26 00:00:00 UTC.
const BEFORE_MIDNIGHT = 1551139199;
const AFTER_MIDNIGHT = 1551139200;
const BODY = '{"Placement":{"Zone":"ap-guangzhou-3"},"ImageId":"img-pmqg1cw7"}';

const request = (timestamp: number, key: { secretId: string; secretKey: string }) =>
  ({
    method: 'POST',
    host: 'cvm.tencentcloudapi.com',
    contentType: 'application/json',
    payload: BODY,
    timestamp,
    service: 'cvm',
    ...key,
  }) as const;

/** Signs as the client does: the key from the cache. */
const signCached = (cache: ReturnType<typeof createTc3KeyCache>, input: ReturnType<typeof request>) =>
  signTc3(input, cache.get(input.secretKey, tc3Date(input.timestamp), input.service));

describe('createTc3KeyCache', () => {
  it('holds the same key bytes as the derivation', () => {
    const cache = createTc3KeyCache();
    expect(cache.get(KEY_A.secretKey, '2019-02-25', 'cvm').export().toString('hex')).toBe(
      'ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1',
    );
    expect(cache.get(KEY_A.secretKey, '2019-02-25', 'cvm').export()).toEqual(
      tc3SigningKey(KEY_A.secretKey, '2019-02-25', 'cvm'),
    );
  });

  it('derives once per secret, service and date, and signs byte-identically to the uncached signer', () => {
    const cache = createTc3KeyCache();
    for (let t = BEFORE_MIDNIGHT - 5; t <= BEFORE_MIDNIGHT; t++) {
      expect(signCached(cache, request(t, KEY_A)).authorization).toBe(
        signTc3(request(t, KEY_A)).authorization,
      );
    }
    expect(cache.derivations).toBe(1);
  });

  it('derives a new key at UTC midnight and signs both sides as the SDK does', () => {
    const cache = createTc3KeyCache();
    const before = signCached(cache, request(BEFORE_MIDNIGHT, KEY_A));
    const after = signCached(cache, request(AFTER_MIDNIGHT, KEY_A));
    expect(cache.derivations).toBe(2);
    expect(before.authorization).toContain('/2019-02-25/cvm/tc3_request');
    expect(after.authorization).toContain('/2019-02-26/cvm/tc3_request');
    expect(before.authorization).toBe(sdkSign3(request(BEFORE_MIDNIGHT, KEY_A)));
    expect(after.authorization).toBe(sdkSign3(request(AFTER_MIDNIGHT, KEY_A)));
    // Back across midnight (a clock stepped back): the earlier date's key again, never the later one.
    expect(signCached(cache, request(BEFORE_MIDNIGHT, KEY_A)).authorization).toBe(before.authorization);
  });

  it('keeps a key per secret: two secrets used in turn each sign with their own', () => {
    const cache = createTc3KeyCache();
    for (let round = 0; round < 3; round++) {
      for (const key of [KEY_A, KEY_B]) {
        expect(signCached(cache, request(BEFORE_MIDNIGHT, key)).authorization).toBe(
          sdkSign3(request(BEFORE_MIDNIGHT, key)),
        );
      }
    }
    expect(cache.derivations).toBe(2);
  });

  it('keeps a key per service for the same secret', () => {
    const cache = createTc3KeyCache();
    const cvm = cache.get(KEY_A.secretKey, '2019-02-25', 'cvm');
    const cbs = cache.get(KEY_A.secretKey, '2019-02-25', 'cbs');
    expect(cbs.equals(cvm)).toBe(false);
    expect(cbs.export()).toEqual(tc3SigningKey(KEY_A.secretKey, '2019-02-25', 'cbs'));
  });

  it('stays bounded: past its size the least recently derived key is dropped and derived again', () => {
    const cache = createTc3KeyCache(2);
    cache.get('secret-1', '2019-02-25', 'cvm');
    cache.get('secret-2', '2019-02-25', 'cvm');
    cache.get('secret-3', '2019-02-25', 'cvm');
    cache.get('secret-3', '2019-02-25', 'cvm');
    cache.get('secret-2', '2019-02-25', 'cvm');
    expect(cache.derivations).toBe(3);
    expect(cache.get('secret-1', '2019-02-25', 'cvm').export()).toEqual(
      tc3SigningKey('secret-1', '2019-02-25', 'cvm'),
    );
    expect(cache.derivations).toBe(4);
  });

  it('shows neither the key nor the secret when the cache or a key is printed or serialised', () => {
    const cache = createTc3KeyCache();
    const key = cache.get(KEY_A.secretKey, '2019-02-25', 'cvm');
    const printed = [
      inspect(cache, { depth: 5, showHidden: true }),
      inspect(key),
      JSON.stringify(key),
      JSON.stringify(cache),
    ];
    for (const text of printed) {
      expect(text).not.toContain('ac658d5d');
      expect(text).not.toContain(KEY_A.secretKey);
    }
  });
});

describe('tc3Date', () => {
  it('follows the timestamp back and forth across UTC midnight, whatever it formatted last', () => {
    expect([BEFORE_MIDNIGHT, AFTER_MIDNIGHT, BEFORE_MIDNIGHT, AFTER_MIDNIGHT + 86_400].map(tc3Date)).toEqual([
      '2019-02-25',
      '2019-02-26',
      '2019-02-25',
      '2019-02-27',
    ]);
  });
});

describe('jsonWithoutNulls', () => {
  it('equals JSON.stringify(withoutNulls(value)) for any JSON-like value, nulls and holes included', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.array(fc.oneof(fc.constant(null), fc.integer()), { maxLength: 4 }),
        (value, list) => {
          const sparse: unknown[] = [...list];
          sparse[list.length + 1] = 1;
          for (const input of [value, { value }, { list, sparse, when: new Date(0) }]) {
            expect(jsonWithoutNulls(input)).toBe(JSON.stringify(withoutNulls(input)));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('a TC3 client signing with its key cache', () => {
  const ORIGIN = 'http://127.0.0.1:9000';

  /** A client against a MockAgent that records each request's Authorization. */
  function recordingClient(credentials: CredentialsProvider, now: () => number) {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const seen: Array<{ authorization: string; body: string; timestamp: number }> = [];
    agent
      .get(ORIGIN)
      .intercept({ path: '/', method: 'POST' })
      .reply(200, (req) => {
        const headers = req.headers as Record<string, string>;
        seen.push({
          authorization: String(headers.authorization),
          body: String(req.body),
          timestamp: Number(headers['x-tc-timestamp']),
        });
        return { Response: { RequestId: 'r' } };
      })
      .persist();
    const client = createTencentClient({
      endpoint: ORIGIN,
      signMethod: 'TC3-HMAC-SHA256',
      credentials,
      dispatcher: agent,
      now,
    });
    const close = async () => {
      await client.close();
      await agent.close();
    };
    return { client, seen, close };
  }

  const sdkFor = (call: { body: string; timestamp: number }, key: { secretId: string; secretKey: string }) =>
    sdkSign3({
      method: 'POST',
      host: '127.0.0.1',
      contentType: 'application/json',
      payload: call.body,
      timestamp: call.timestamp,
      service: 'cvm',
      ...key,
    });

  it('signs with a rotated secret from the very next call', async () => {
    let current = makeCredentials(KEY_A.secretId, KEY_A.secretKey);
    const { client, seen, close } = recordingClient(
      async () => current,
      () => BEFORE_MIDNIGHT * 1000,
    );
    await client.call('DescribeInstances', { Limit: 1 });
    current = makeCredentials(KEY_B.secretId, KEY_B.secretKey);
    await client.call('DescribeInstances', { Limit: 1 });
    current = makeCredentials(KEY_A.secretId, KEY_A.secretKey);
    await client.call('DescribeInstances', { Limit: 1 });
    const keys = [KEY_A, KEY_B, KEY_A];
    expect(seen).toHaveLength(3);
    expect(seen.map((call) => call.authorization.split('/')[0])).toEqual(
      keys.map((key) => `TC3-HMAC-SHA256 Credential=${key.secretId}`),
    );
    expect(seen.map((call) => call.authorization)).toEqual(
      seen.map((call, at) => sdkFor(call, keys[at] ?? KEY_A)),
    );
    await close();
  });

  it('signs the first call after UTC midnight with the new date', async () => {
    let nowMs = BEFORE_MIDNIGHT * 1000 + 999;
    const credentials = makeCredentials(KEY_A.secretId, KEY_A.secretKey);
    const { client, seen, close } = recordingClient(
      async () => credentials,
      () => nowMs,
    );
    await client.call('DescribeInstances', { Limit: 1 });
    nowMs = AFTER_MIDNIGHT * 1000;
    await client.call('DescribeInstances', { Limit: 1 });
    expect(seen.map((s) => s.authorization.match(/\/(\d{4}-\d\d-\d\d)\//)?.[1])).toEqual([
      '2019-02-25',
      '2019-02-26',
    ]);
    for (const call of seen) expect(call.authorization).toBe(sdkFor(call, KEY_A));
    await close();
  });
});
