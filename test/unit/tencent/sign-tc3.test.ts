import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signTc3, tc3Date, tc3SigningKey } from '../../../lib/tencent/sign-tc3.ts';
import { sdkSign3 } from '../../helpers/tencent-sdk.ts';

// docs/tencent.md, "Published test vectors": the literal 86-byte body with backslash-u escapes, as published.
const PUBLISHED_BODY =
  '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}';
const PUBLISHED = {
  method: 'POST',
  host: 'cvm.tencentcloudapi.com',
  contentType: 'application/json; charset=utf-8',
  payload: PUBLISHED_BODY,
  timestamp: 1551113065,
  service: 'cvm',
} as const;
const KEY_A = {
  secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
  secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
};

describe('signTc3 published vectors', () => {
  it('hashes the published body to the published payload hash', () => {
    expect(PUBLISHED_BODY).toHaveLength(86);
    expect(createHash('sha256').update(PUBLISHED_BODY).digest('hex')).toBe(
      '35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064',
    );
  });

  it('reproduces vector A (content-type;host) byte for byte', () => {
    const signed = signTc3({ ...PUBLISHED, ...KEY_A });
    expect(signed.canonicalRequest).toBe(
      'POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n' +
        '35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064',
    );
    expect(createHash('sha256').update(signed.canonicalRequest).digest('hex')).toBe(
      '5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031',
    );
    expect(tc3SigningKey(KEY_A.secretKey, '2019-02-25', 'cvm').toString('hex')).toBe(
      'ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1',
    );
    expect(signed.authorization).toBe(
      'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, ' +
        'SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
    );
  });

  it('reproduces the intermediate Chinese edition computed with masked keys', () => {
    const signed = signTc3({
      ...PUBLISHED,
      secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******',
      secretKey: 'Gu5t9xGARNpq86cd98joQYCN3*******',
    });
    expect(signed.signature).toBe('2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c');
  });

  it('reproduces vector B, which also signs x-tc-action (lower-cased value)', () => {
    const signed = signTc3({
      ...PUBLISHED,
      secretId: 'AKID********************************',
      secretKey: '********************************',
      extraSignedHeaders: { 'X-TC-Action': 'DescribeInstances' },
    });
    expect(signed.signedHeaders).toBe('content-type;host;x-tc-action');
    expect(signed.canonicalRequest).toContain('x-tc-action:describeinstances\n');
    expect(signed.stringToSign).toBe(
      'TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84',
    );
    expect(tc3SigningKey('********************************', '2019-02-25', 'cvm').toString('hex')).toBe(
      'b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af',
    );
    expect(signed.signature).toBe('10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f');
  });

  it('reproduces vector C, a RunInstances body signed SDK-style without charset', () => {
    const body =
      '{"Placement":{"Zone":"ap-guangzhou-3"},"ImageId":"img-pmqg1cw7","InstanceType":"S5.MEDIUM4",' +
      '"DataDisks":[{"DiskType":"CLOUD_PREMIUM","DiskSize":100}],"SecurityGroupIds":["sg-p1ezv4wz"],' +
      '"LoginSettings":{"KeyIds":["skey-b4vakk62"]},"InstanceName":"web {R:1}","ClientToken":"c0ffee00-0000-4000-8000-000000000001"}';
    const signed = signTc3({ ...PUBLISHED, ...KEY_A, contentType: 'application/json', payload: body });
    expect(createHash('sha256').update(body).digest('hex')).toBe(
      'faa6cccfccb40422ed5f172e4b6b24eab825e766deb474c397e59b9a59e14eb0',
    );
    expect(createHash('sha256').update(signed.canonicalRequest).digest('hex')).toBe(
      '485bbb19e5604fe11e7ecf12f1b204468c94c66aa4e006c6aff89255cbe9960c',
    );
    expect(signed.signature).toBe('49029860cbc09ec7d18e21f765e21b3c3946c81049686ec78bdaeed4d015e9ac');
  });

  it('signs the empty payload hash for GET', () => {
    const signed = signTc3({ ...PUBLISHED, ...KEY_A, method: 'GET', payload: '', query: 'Limit=1' });
    expect(signed.canonicalRequest.split('\n').at(-1)).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(signed.canonicalRequest.split('\n')[2]).toBe('Limit=1');
  });
});

describe('tc3Date', () => {
  it('uses the UTC date on both sides of UTC midnight', () => {
    expect(tc3Date(1551139199)).toBe('2019-02-25');
    expect(tc3Date(1551139200)).toBe('2019-02-26');
  });
});

const printable = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*+/='),
  minLength: 1,
  maxLength: 40,
});
const payloadValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary' }),
    fc.integer(),
    fc.boolean(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('signTc3 against the official SDK', () => {
  it('equals Sign.sign3 for 1,000 random POST requests (secrets, timestamps across midnight, unicode payloads)', () => {
    fc.assert(
      fc.property(
        printable,
        printable,
        // Days from 2019 to 2040, with the second of day biased toward midnight.
        fc.integer({ min: 17_897, max: 25_567 }),
        fc.oneof(
          fc.integer({ min: 0, max: 2 }),
          fc.integer({ min: 86_397, max: 86_399 }),
          fc.integer({ min: 0, max: 86_399 }),
        ),
        fc.constantFrom('cvm', 'cbs', 'vpc'),
        fc.constantFrom('application/json', 'application/json; charset=utf-8'),
        fc.dictionary(fc.constantFrom('Placement', 'InstanceName', 'Filters', 'Limit', 'Tags'), payloadValue),
        (secretId, secretKey, day, second, service, contentType, params) => {
          const timestamp = day * 86_400 + second;
          const payload = JSON.stringify(params);
          const host = `${service}.tencentcloudapi.com`;
          const ours = signTc3({
            method: 'POST',
            host,
            contentType,
            payload,
            timestamp,
            service,
            secretId,
            secretKey,
          });
          const sdk = sdkSign3({
            method: 'POST',
            host,
            contentType,
            payload,
            timestamp,
            service,
            secretId,
            secretKey,
          });
          expect(ours.authorization).toBe(sdk);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('equals Sign.sign3 for random GET requests with a query string', () => {
    fc.assert(
      fc.property(
        printable,
        printable,
        fc.integer({ min: 1_500_000_000, max: 2_200_000_000 }),
        (id, key, ts) => {
          const query = `Action=DescribeInstances&Limit=${ts % 100}&Filters.0.Name=zone`;
          const input = {
            method: 'GET' as const,
            host: 'cvm.tencentcloudapi.com',
            query,
            contentType: 'application/x-www-form-urlencoded',
            payload: '',
            timestamp: ts,
            service: 'cvm',
            secretId: id,
            secretKey: key,
          };
          expect(signTc3(input).authorization).toBe(sdkSign3(input));
        },
      ),
      { numRuns: 200 },
    );
  });
});
