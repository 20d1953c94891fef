import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signV1, sortParams, v1StringToSign } from '../../../lib/tencent/sign-v1.ts';
import { encodeForm, encodeRfc3986 } from '../../../lib/tencent/wire.ts';
import { sdkSignV1 } from '../../helpers/tencent-sdk.ts';

const KEY_D = {
  secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
  secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
};
const VECTOR_D: Array<[string, string]> = [
  ['Action', 'DescribeInstances'],
  ['InstanceIds.0', 'ins-09dx96dg'],
  ['Limit', '20'],
  ['Nonce', '11886'],
  ['Offset', '0'],
  ['Region', 'ap-guangzhou'],
  ['SecretId', KEY_D.secretId],
  ['Timestamp', '1465185768'],
  ['Version', '2017-03-12'],
];
const API3 = { host: 'cvm.tencentcloudapi.com', path: '/' };

describe('signV1 published vectors', () => {
  it('reproduces vector D (API 3.0, GET, HmacSHA1) and its string to sign', () => {
    const input = { ...API3, method: 'GET' as const, params: VECTOR_D };
    expect(v1StringToSign(input)).toBe(
      'GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886&Offset=0' +
        '&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768&Version=2017-03-12',
    );
    const signature = signV1({ ...input, secretKey: KEY_D.secretKey, signatureMethod: 'HmacSHA1' });
    expect(signature).toBe('EliP9YW3pW28FpsEdkXt/+WcGeI=');
    expect(encodeRfc3986(signature)).toBe('EliP9YW3pW28FpsEdkXt%2F%2BWcGeI%3D');
  });

  it('reproduces vector D with SignatureMethod=HmacSHA256 sorted between SecretId and Timestamp', () => {
    const params: Array<[string, string]> = [...VECTOR_D, ['SignatureMethod', 'HmacSHA256']];
    const input = { ...API3, method: 'GET' as const, params };
    expect(v1StringToSign(input)).toContain(
      '&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA256&Timestamp=',
    );
    expect(signV1({ ...input, secretKey: KEY_D.secretKey, signatureMethod: 'HmacSHA256' })).toBe(
      'A8uy2/o7WBZXYCTWEFpMrVGhGBVlEGIOioeqRM+fzFs=',
    );
  });

  const legacy = {
    host: 'cvm.api.qcloud.com',
    path: '/v2/index.php',
    secretKey: 'Gu5t9xGARNpq86cd98joQYCN3Cozk1qA',
    signatureMethod: 'HmacSHA1' as const,
  };
  const legacyParams: Array<[string, string]> = [
    ['Action', 'DescribeInstances'],
    ['Nonce', '345122'],
    ['Region', 'gz'],
    ['SecretId', 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA'],
    ['Timestamp', '1408704141'],
  ];

  it('reproduces vector E on the legacy gateway path, GET and POST', () => {
    expect(v1StringToSign({ ...legacy, method: 'GET', params: legacyParams })).toBe(
      'GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=345122&Region=gz' +
        '&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&Timestamp=1408704141',
    );
    expect(signV1({ ...legacy, method: 'GET', params: legacyParams })).toBe('HgIYOPcx5lN6gz8JsCFBNAWp2oQ=');
    expect(signV1({ ...legacy, method: 'POST', params: legacyParams })).toBe('qiEVyAdhwHvQFCCpU5dDef3S8PA=');
  });

  it('reproduces the corrected vector E, with the instance ids signed after Timestamp (lower case sorts last)', () => {
    const params: Array<[string, string]> = [
      ['instanceIds.1', 'qcvm56789'],
      ...legacyParams,
      ['instanceIds.0', 'qcvm12345'],
    ];
    expect(
      v1StringToSign({ ...legacy, method: 'GET', params }).endsWith(
        '&Timestamp=1408704141&instanceIds.0=qcvm12345&instanceIds.1=qcvm56789',
      ),
    ).toBe(true);
    expect(signV1({ ...legacy, method: 'GET', params })).toBe('66prolcgMqz0pm5B52x1Z5ulz/Q=');
  });

  it('reproduces vector F (RunInstances, v1 POST form, HmacSHA256) and its wire encoding', () => {
    const params: Array<[string, string]> = [
      ['Placement.Zone', 'ap-guangzhou-3'],
      ['ImageId', 'img-pmqg1cw7'],
      ['InstanceType', 'S5.MEDIUM4'],
      ['DataDisks.0.DiskType', 'CLOUD_PREMIUM'],
      ['DataDisks.0.DiskSize', '100'],
      ['SecurityGroupIds.0', 'sg-p1ezv4wz'],
      ['LoginSettings.KeyIds.0', 'skey-b4vakk62'],
      ['InstanceName', 'web {R:1}'],
      ['ClientToken', 'c0ffee00-0000-4000-8000-000000000001'],
      ['Action', 'RunInstances'],
      ['Version', '2017-03-12'],
      ['Region', 'ap-guangzhou'],
      ['Timestamp', '1551113065'],
      ['Nonce', '11886'],
      ['SecretId', KEY_D.secretId],
      ['SignatureMethod', 'HmacSHA256'],
    ];
    const input = { ...API3, method: 'POST' as const, params };
    expect(v1StringToSign(input)).toBe(
      'POSTcvm.tencentcloudapi.com/?Action=RunInstances&ClientToken=c0ffee00-0000-4000-8000-000000000001' +
        '&DataDisks.0.DiskSize=100&DataDisks.0.DiskType=CLOUD_PREMIUM&ImageId=img-pmqg1cw7&InstanceName=web {R:1}' +
        '&InstanceType=S5.MEDIUM4&LoginSettings.KeyIds.0=skey-b4vakk62&Nonce=11886&Placement.Zone=ap-guangzhou-3' +
        '&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SecurityGroupIds.0=sg-p1ezv4wz' +
        '&SignatureMethod=HmacSHA256&Timestamp=1551113065&Version=2017-03-12',
    );
    const signature = signV1({ ...input, secretKey: KEY_D.secretKey, signatureMethod: 'HmacSHA256' });
    expect(signature).toBe('odlgZ7KUq6az/sVklUhBUMQvHF9vzOG5KHOBwrMby+s=');
    const body = encodeForm([...params, ['Signature', signature]]);
    expect(body).toContain('InstanceName=web%20%7BR%3A1%7D');
    expect(body).toContain('Signature=odlgZ7KUq6az%2FsVklUhBUMQvHF9vzOG5KHOBwrMby%2Bs%3D');
  });

  it('sorts by raw byte order, not natural order', () => {
    const sorted = sortParams([
      ['InstanceIds.2', 'b'],
      ['InstanceIds.12', 'a'],
      ['instanceIds.0', 'c'],
      ['Timestamp', '1'],
    ]).map(([k]) => k);
    expect(sorted).toEqual(['InstanceIds.12', 'InstanceIds.2', 'Timestamp', 'instanceIds.0']);
  });
});

describe('signV1 against the official SDK', () => {
  const key = fc.string({
    unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
    minLength: 1,
    maxLength: 40,
  });
  const paramName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,12}(\.[0-9]{1,2}|\.[A-Z][a-z]{1,8}){0,3}$/);
  const paramValue = fc.string({ unit: 'grapheme', maxLength: 30 });

  it('equals the SDK signature over the same parameters for 1,000 random requests', () => {
    fc.assert(
      fc.property(
        key,
        fc.dictionary(paramName, paramValue, { minKeys: 1, maxKeys: 20 }),
        fc.constantFrom('HmacSHA1' as const, 'HmacSHA256' as const),
        fc.constantFrom('POST' as const, 'GET' as const),
        fc.constantFrom(
          API3,
          { host: 'cvm.api.qcloud.com', path: '/v2/index.php' },
          { host: '127.0.0.1:3001', path: '/' },
        ),
        (secretKey, params, signatureMethod, method, target) => {
          const ours = signV1({
            ...target,
            method,
            params: Object.entries(params),
            secretKey,
            signatureMethod,
          });
          const sdk = sdkSignV1({ ...target, method, params, secretKey, signatureMethod });
          expect(ours).toBe(sdk);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
