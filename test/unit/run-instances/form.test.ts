import { describe, expect, it } from 'vitest';
import { type DecodeResult, decodeFormComponent } from '../../../lib/run-instances/form.ts';
import {
  CODES,
  decodeFlattened,
  FORM_LIMITS,
  schemaFor,
  validateFlattenedRunInstances,
} from '../../../lib/run-instances/index.ts';
import { encodeForm, encodeRfc3986, flattenParams } from '../../../lib/tencent/wire.ts';
import { seedBusinessRequest } from '../../helpers/requests.ts';

const schema = schemaFor('current');
const decode = (body: string) => decodeFlattened(body, schema);
const decodedValue = (result: DecodeResult) => (result.ok ? result.value : undefined);
const errorsOf = (result: DecodeResult) => (result.ok ? [] : result.errors);
const rejected = (param: string) => ({
  ok: false,
  errors: [expect.objectContaining({ param, code: CODES.invalidParameter })],
});

describe('decodeFlattened coercion', () => {
  it('turns an integer leaf into a number where the schema expects an integer', () => {
    expect(decodedValue(decode('InstanceCount=3'))).toEqual({ InstanceCount: 3 });
  });

  it('turns nested integer leaves into numbers', () => {
    expect(
      decodedValue(decode('DataDisks.0.DiskSize=100&InternetAccessible.InternetMaxBandwidthOut=10')),
    ).toEqual({
      DataDisks: [{ DiskSize: 100 }],
      InternetAccessible: { InternetMaxBandwidthOut: 10 },
    });
  });

  it.each([
    ['TRUE', true],
    ['true', true],
    ['FALSE', false],
    ['false', false],
  ])('turns the boolean spelling %s into %s where the schema expects a boolean', (text, expected) => {
    expect(decodedValue(decode(`DryRun=${text}`))).toEqual({ DryRun: expected });
  });

  it('turns deeply nested boolean leaves into booleans', () => {
    expect(decodedValue(decode('EnhancedService.MonitorService.Enabled=FALSE'))).toEqual({
      EnhancedService: { MonitorService: { Enabled: false } },
    });
  });

  it('keeps InstanceName=TRUE as the string TRUE', () => {
    expect(decodedValue(decode('InstanceName=TRUE'))).toEqual({ InstanceName: 'TRUE' });
  });

  it('keeps InstanceName=123 as the string 123', () => {
    expect(decodedValue(decode('InstanceName=123'))).toEqual({ InstanceName: '123' });
  });

  it('keeps the string-typed KeepImageLogin=TRUE as a string', () => {
    expect(decodedValue(decode('LoginSettings.KeepImageLogin=TRUE'))).toEqual({
      LoginSettings: { KeepImageLogin: 'TRUE' },
    });
  });

  it('keeps SecurityGroupIds elements as strings', () => {
    expect(decodedValue(decode('SecurityGroupIds.0=123'))).toEqual({ SecurityGroupIds: ['123'] });
  });

  it('does not coerce an integer with a leading zero', () => {
    expect(decodedValue(decode('InstanceCount=03'))).toEqual({ InstanceCount: '03' });
  });

  it('does not coerce yes into a boolean', () => {
    expect(decodedValue(decode('DryRun=yes'))).toEqual({ DryRun: 'yes' });
  });

  it('leaves values of unknown parameters as strings', () => {
    expect(decodedValue(decode('InstanceCoutn=3&Bogus.0=TRUE'))).toEqual({
      InstanceCoutn: '3',
      Bogus: ['TRUE'],
    });
  });

  it('coerces nothing without a schema', () => {
    expect(decodedValue(decodeFlattened('InstanceCount=3&DryRun=true'))).toEqual({
      InstanceCount: '3',
      DryRun: 'true',
    });
  });

  it('accepts a URLSearchParams body', () => {
    expect(
      decodedValue(decodeFlattened(new URLSearchParams({ 'Placement.Zone': 'ap-guangzhou-3' }), schema)),
    ).toEqual({
      Placement: { Zone: 'ap-guangzhou-3' },
    });
  });

  it('decodes percent-encoded values and + as a space', () => {
    expect(decodedValue(decode('InstanceName=web%20%7BR%3A1%7D&LoginSettings.Password=a+b%2B'))).toEqual({
      InstanceName: 'web {R:1}',
      LoginSettings: { Password: 'a b+' },
    });
  });

  it('decodes an empty body to an empty object', () => {
    expect(decode('')).toEqual({ ok: true, value: {} });
  });

  it('reports an uncoercible integer as InvalidParameter once validated', () => {
    const body = 'Placement.Zone=ap-guangzhou-3&ImageId=img-pmqg1cw7&InstanceCount=03';
    expect(validateFlattenedRunInstances(body, { profile: 'current' })).toEqual({
      ok: false,
      errors: [expect.objectContaining({ param: 'InstanceCount', code: CODES.invalidParameter })],
    });
  });
});

describe('decodeFlattened arrays', () => {
  it('builds arrays from contiguous indexes starting at 0', () => {
    expect(decodedValue(decode('SecurityGroupIds.0=sg-p1ezv4wz&SecurityGroupIds.1=sg-5v9qe2k1'))).toEqual({
      SecurityGroupIds: ['sg-p1ezv4wz', 'sg-5v9qe2k1'],
    });
  });

  it('orders array items by index, not by position in the body', () => {
    expect(decodedValue(decode('SecurityGroupIds.1=sg-5v9qe2k1&SecurityGroupIds.0=sg-p1ezv4wz'))).toEqual({
      SecurityGroupIds: ['sg-p1ezv4wz', 'sg-5v9qe2k1'],
    });
  });

  it('rejects DataDisks.1 without DataDisks.0', () => {
    expect(decode('DataDisks.1.DiskSize=100')).toEqual(rejected('DataDisks.0'));
  });

  it('rejects a gap between indexes', () => {
    expect(decode('DataDisks.0.DiskSize=100&DataDisks.2.DiskSize=100')).toEqual(rejected('DataDisks.1'));
  });

  it.each(['00', '01', '007'])('rejects the index %s with a leading zero', (index) => {
    expect(decode(`DataDisks.${index}.DiskSize=100`)).toEqual(rejected(`DataDisks.${index}.DiskSize`));
  });

  it(`rejects an index above ${FORM_LIMITS.maxIndex}`, () => {
    expect(decode('DataDisks.1000.DiskSize=100')).toEqual(rejected('DataDisks.1000.DiskSize'));
  });

  it('rejects a key that starts with an array index', () => {
    expect(decode('0=sg-p1ezv4wz')).toEqual(rejected('0'));
  });

  it('rejects mixing indexes and member names under one parameter', () => {
    expect(decode('SecurityGroupIds.0=sg-p1ezv4wz&SecurityGroupIds.Id=sg-5v9qe2k1')).toEqual(
      rejected('SecurityGroupIds.Id'),
    );
  });
});

describe('decodeFlattened limits and malformed keys', () => {
  it(`accepts keys ${FORM_LIMITS.maxDepth} segments deep`, () => {
    expect(decode('a.b.c.d.e.f.g.h=1')).toMatchObject({ ok: true });
  });

  it(`rejects keys deeper than ${FORM_LIMITS.maxDepth} segments`, () => {
    expect(decode('a.b.c.d.e.f.g.h.i=1')).toEqual(rejected('a.b.c.d.e.f.g.h.i'));
  });

  it(`accepts ${FORM_LIMITS.maxPairs} pairs`, () => {
    const body = Array.from({ length: FORM_LIMITS.maxPairs }, (_, i) => `Tag${i}=x`).join('&');
    expect(decode(body)).toMatchObject({ ok: true });
  });

  it(`rejects more than ${FORM_LIMITS.maxPairs} pairs`, () => {
    const body = Array.from({ length: FORM_LIMITS.maxPairs + 1 }, (_, i) => `Tag${i}=x`).join('&');
    expect(decode(body)).toEqual(rejected('(body)'));
  });

  it('rejects a key given twice', () => {
    expect(decode('InstanceName=web&InstanceName=api')).toEqual(rejected('InstanceName'));
  });

  it('rejects Placement=x followed by Placement.Zone=y', () => {
    expect(decode('Placement=x&Placement.Zone=ap-guangzhou-3')).toEqual(rejected('Placement.Zone'));
  });

  it('rejects Placement.Zone=y followed by Placement=x', () => {
    expect(decode('Placement.Zone=ap-guangzhou-3&Placement=x')).toEqual(rejected('Placement'));
  });

  it.each(['Placement..Zone', '.Placement', 'Placement.'])('rejects the empty segment in %s', (key) => {
    expect(decode(`${key}=ap-guangzhou-3`)).toEqual(rejected(key));
  });

  it('rejects a pair without a name', () => {
    expect(decode('=ap-guangzhou-3')).toEqual(rejected('(body)'));
  });

  it('reports every malformed key of a body', () => {
    expect(
      errorsOf(decode('a..b=1&DataDisks.01.DiskSize=1&x.y.z.1.2.3.4.5.6=1')).map((e) => e.param),
    ).toEqual(['a..b', 'DataDisks.01.DiskSize', 'x.y.z.1.2.3.4.5.6']);
  });
});

describe('decodeFlattened and the prototype chain', () => {
  it.each([
    ['__proto__.polluted=1', '__proto__.polluted'],
    ['%5F%5Fproto%5F%5F.polluted=1', '__proto__.polluted'],
    ['constructor.prototype.polluted=1', 'constructor.prototype.polluted'],
    ['Placement.__proto__.polluted=1', 'Placement.__proto__.polluted'],
    ['Placement.constructor=1', 'Placement.constructor'],
    ['DataDisks.0.prototype=1', 'DataDisks.0.prototype'],
    ['__proto__=1', '__proto__'],
    ['%5f%5fproto%5f%5f=1', '__proto__'],
  ])('rejects the reserved segment in %s', (body, param) => {
    expect(decode(body)).toEqual(rejected(param));
  });

  it('leaves Object.prototype untouched after decoding reserved segments', () => {
    const before = Object.getOwnPropertyNames(Object.prototype);
    decode('__proto__.polluted=1&%5F%5Fproto%5F%5F.polluted=1&constructor.prototype.polluted=1');
    expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps names of Object.prototype members as plain own data', () => {
    const value = decodedValue(decode('toString=1&hasOwnProperty=2&valueOf.x=3'));
    expect(value).toEqual({ toString: '1', hasOwnProperty: '2', valueOf: { x: '3' } });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });
});

describe('flattenParams', () => {
  it('flattens seed example 2 into the dotted keys of the 2017 document', () => {
    expect(flattenParams(seedBusinessRequest(2))).toEqual([
      ['Placement.Zone', 'ap-guangzhou-2'],
      ['InstanceChargeType', 'PREPAID'],
      ['InstanceChargePrepaid.Period', '1'],
      ['InstanceChargePrepaid.RenewFlag', 'NOTIFY_AND_AUTO_RENEW'],
      ['ImageId', 'img-pmqg1cw7'],
      ['InstanceType', 'S1.SMALL1'],
      ['SystemDisk.DiskType', 'LOCAL_BASIC'],
      ['SystemDisk.DiskSize', '50'],
      ['DataDisks.0.DiskType', 'LOCAL_BASIC'],
      ['DataDisks.0.DiskSize', '100'],
      ['InternetAccessible.InternetChargeType', 'TRAFFIC_POSTPAID_BY_HOUR'],
      ['InternetAccessible.InternetMaxBandwidthOut', '10'],
      ['InternetAccessible.PublicIpAssigned', 'true'],
      ['InstanceName', 'QCLOUD-TEST'],
      ['LoginSettings.Password', 'Qcloud@TestApi123++'],
      ['EnhancedService.SecurityService.Enabled', 'true'],
      ['EnhancedService.MonitorService.Enabled', 'true'],
      ['InstanceCount', '1'],
    ]);
  });

  it('uses zero-based indexes for arrays of strings', () => {
    expect(flattenParams({ SecurityGroupIds: ['sg-p1ezv4wz', 'sg-5v9qe2k1'] })).toEqual([
      ['SecurityGroupIds.0', 'sg-p1ezv4wz'],
      ['SecurityGroupIds.1', 'sg-5v9qe2k1'],
    ]);
  });

  it('writes booleans as true and false', () => {
    expect(flattenParams({ DryRun: false, DisableApiTermination: true })).toEqual([
      ['DryRun', 'false'],
      ['DisableApiTermination', 'true'],
    ]);
  });

  it('leaves out null, undefined, empty arrays and empty objects', () => {
    expect(flattenParams({ A: null, B: undefined, C: [], D: {}, E: 'kept' })).toEqual([['E', 'kept']]);
  });
});

describe('encodeForm and encodeRfc3986', () => {
  it('percent-encodes web {R:1} as web%20%7BR%3A1%7D', () => {
    expect(encodeRfc3986('web {R:1}')).toBe('web%20%7BR%3A1%7D');
  });

  it("percent-encodes !'()* which encodeURIComponent leaves alone", () => {
    expect(encodeRfc3986("!'()*")).toBe('%21%27%28%29%2A');
  });

  it('leaves the RFC 3986 unreserved characters as they are', () => {
    expect(encodeRfc3986('AZaz09-._~')).toBe('AZaz09-._~');
  });

  it('encodes non-ASCII text as upper-case UTF-8 percent escapes', () => {
    expect(encodeRfc3986('é')).toBe('%C3%A9');
  });

  it('joins pairs with & and = and encodes + so it does not decode as a space', () => {
    expect(
      encodeForm([
        ['InstanceName', 'a+b c'],
        ['LoginSettings.Password', 'Qcloud@TestApi123++'],
      ]),
    ).toBe('InstanceName=a%2Bb%20c&LoginSettings.Password=Qcloud%40TestApi123%2B%2B');
  });

  it('encodes seed example 2 so that decoding gives the request back', () => {
    const request = seedBusinessRequest(2);
    expect(decode(encodeForm(flattenParams(request)))).toEqual({ ok: true, value: request });
  });
});

describe('decodeFormComponent (strict UTF-8)', () => {
  it.each([
    ['a+b', 'a b'],
    ['%E6%9C%AA%E5%91%BD%E5%90%8D', '未命名'],
    ['100%', '100%'],
    ['%zz', '%zz'],
    ['plain', 'plain'],
  ])('decodes %s as URLSearchParams would', (text, decoded) => {
    expect(decodeFormComponent(text)).toBe(decoded);
    expect(new URLSearchParams(`k=${text}`).get('k')).toBe(decoded);
  });

  it.each(['%FF', '%C3', '%E6%9C', '%ED%A0%80'])('refuses %s: bytes that are not UTF-8', (text) => {
    expect(decodeFormComponent(text)).toBeUndefined();
  });

  it('reports a value that is not UTF-8 by its parameter, and a name by the body', () => {
    expect(decodeFlattened('ImageId=%FF&%FE=x')).toEqual({
      ok: false,
      errors: [
        {
          param: 'ImageId',
          code: CODES.invalidParameter,
          message: 'percent-encodes its value in bytes that are not UTF-8',
        },
        {
          param: '(body)',
          code: CODES.invalidParameter,
          message: 'percent-encodes a parameter name in bytes that are not UTF-8',
        },
      ],
    });
  });
});
