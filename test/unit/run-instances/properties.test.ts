import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CODES,
  decodeFlattened,
  PROFILE_NAMES,
  schemaFor,
  validateFlattenedRunInstances,
  validateRunInstances,
} from '../../../lib/run-instances/index.ts';
import { encodeForm, flattenParams } from '../../../lib/tencent/wire.ts';
import { validRequest } from '../../helpers/requests.ts';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(CODES));
const profile = fc.constantFrom(...PROFILE_NAMES);

/** Top-level and nested RunInstances names, common parameters, and names that reach Object.prototype. */
const TOP_LEVEL_KEYS = [
  'Action',
  'Version',
  'Region',
  'Placement',
  'ImageId',
  'InstanceType',
  'InstanceChargeType',
  'InstanceChargePrepaid',
  'SystemDisk',
  'DataDisks',
  'VirtualPrivateCloud',
  'InternetAccessible',
  'InstanceCount',
  'MinCount',
  'InstanceName',
  'LoginSettings',
  'SecurityGroupIds',
  'EnhancedService',
  'ClientToken',
  'HostName',
  'ActionTimer',
  'TagSpecification',
  'UserData',
  'CpuTopology',
  'LaunchTemplate',
  'DryRun',
  'InstanceCoutn',
  '__proto__',
  'constructor',
  'toString',
] as const;
const NESTED_KEYS = [
  'Zone',
  'HostIds',
  'ProjectId',
  'Period',
  'RenewFlag',
  'DiskType',
  'DiskSize',
  'DeleteWithInstance',
  'SnapshotId',
  'VpcId',
  'SubnetId',
  'PrivateIpAddresses',
  'InternetMaxBandwidthOut',
  'PublicIpAssigned',
  'Password',
  'KeyIds',
  'KeepImageLogin',
  'SecurityService',
  'Enabled',
  'TimerAction',
  'ActionTime',
  'ResourceType',
  'Tags',
  'Key',
  'Value',
  'CoreCount',
  'ThreadPerCore',
  'LaunchTemplateId',
  '__proto__',
  'constructor',
] as const;

const nestedLike = fc.dictionary(fc.constantFrom(...NESTED_KEYS), fc.jsonValue({ maxDepth: 2 }), {
  maxKeys: 6,
});
const runInstancesLike = fc.dictionary(
  fc.constantFrom(...TOP_LEVEL_KEYS),
  fc.oneof(fc.jsonValue({ maxDepth: 2 }), nestedLike, fc.array(nestedLike, { maxLength: 3 })),
  { maxKeys: 12 },
);
/** The helper's valid request with one parameter replaced by an arbitrary JSON value. */
const mutatedValidRequest = fc
  .tuple(fc.constantFrom(...TOP_LEVEL_KEYS), fc.oneof(fc.jsonValue({ maxDepth: 3 }), nestedLike))
  .map(([key, value]) => ({ ...validRequest(), [key]: value }));

function answersWithoutThrowing(input: unknown, profileName: (typeof PROFILE_NAMES)[number]): void {
  const result = validateRunInstances(input, { profile: profileName, now: NOW });
  if (result.ok) {
    expect(typeof result.region).toBe('string');
  } else {
    expect(result.errors.length).toBeGreaterThan(0);
    expect(result.errors.every((e) => KNOWN_CODES.has(e.code))).toBe(true);
  }
}

describe('validateRunInstances on arbitrary input', () => {
  it('answers ok or a non-empty list of known codes for any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), profile, answersWithoutThrowing), { numRuns: 1000 });
  });

  it('answers ok or a non-empty list of known codes for objects of RunInstances-like keys', () => {
    fc.assert(fc.property(runInstancesLike, profile, answersWithoutThrowing), { numRuns: 1000 });
  });

  it('answers ok or a non-empty list of known codes for a valid request with one parameter replaced', () => {
    fc.assert(fc.property(mutatedValidRequest, profile, answersWithoutThrowing), { numRuns: 1000 });
  });
});

const SEGMENTS = [
  'Placement',
  'Zone',
  'DataDisks',
  'DiskSize',
  'SecurityGroupIds',
  'LoginSettings',
  'KeyIds',
  'TagSpecification',
  'Tags',
  'InstanceCount',
  'EnhancedService',
  'Enabled',
  'polluted',
  '0',
  '1',
  '2',
  '10',
  '01',
  '999',
  '1000',
  '__proto__',
  'constructor',
  'prototype',
  '%5F%5Fproto%5F%5F',
  '%5f%5fproto%5f%5f',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '',
] as const;
const segment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SEGMENTS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const flatKey = fc.array(segment, { minLength: 1, maxLength: 10 }).map((segments) => segments.join('.'));
const flatValue = fc.oneof(
  fc.constantFrom('1', '0', 'TRUE', 'false', 'polluted', '{}', ''),
  fc.string({ maxLength: 8 }),
);
const flatPair = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(flatKey, flatValue).map(([key, value]) => `${key}=${value}`) },
  { weight: 1, arbitrary: flatKey },
);
const flatBody = fc.array(flatPair, { maxLength: 12 }).map((pairs) => pairs.join('&'));

/** Every own member of an object with its value or accessors, compared by identity below. */
function membersOf(target: object): Map<PropertyKey, unknown[]> {
  return new Map(
    Reflect.ownKeys(target).map((key) => {
      const d = Object.getOwnPropertyDescriptor(target, key);
      return [key, [d?.value, d?.get, d?.set, d?.writable, d?.enumerable, d?.configurable]];
    }),
  );
}

function sameMembers(a: Map<PropertyKey, unknown[]>, b: Map<PropertyKey, unknown[]>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, parts] of a) {
    const other = b.get(key);
    if (!other || parts.some((part, i) => !Object.is(part, other[i]))) return false;
  }
  return true;
}

describe('decoding flattened input and the prototype chain', () => {
  it('leaves Object.prototype unchanged for 10,000 random flattened bodies', () => {
    // Descriptors, not just names: overwriting an existing member (toString, valueOf) must show too.
    const objectBefore = membersOf(Object.prototype);
    const arrayBefore = membersOf(Array.prototype);
    fc.assert(
      fc.property(flatBody, profile, (body, profileName) => {
        decodeFlattened(body);
        decodeFlattened(body, schemaFor(profileName));
        validateFlattenedRunInstances(body, { profile: profileName, now: NOW });
        expect(sameMembers(membersOf(Object.prototype), objectBefore)).toBe(true);
        expect(sameMembers(membersOf(Array.prototype), arrayBefore)).toBe(true);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 10_000 },
    );
  });
});

const resourceId = (prefix: string) =>
  fc.stringMatching(/^[0-9a-z]{8}$/).map((suffix) => `${prefix}-${suffix}`);
const nonEmpty = <T extends object>(value: T) => Object.keys(value).length > 0;
/** Characters that the form encoding must escape, mixed with multi-byte ones. */
const formSensitive = fc.constantFrom(
  ' ',
  '&',
  '=',
  '+',
  '%',
  '.',
  '{',
  '}',
  ':',
  '#',
  '?',
  'é',
  '中',
  '😀',
  'a',
  'Z',
  '0',
);
const instanceName = fc
  .oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: formSensitive, maxLength: 60 }),
    // Values the decoder coerces for boolean and integer fields must stay strings in a string field.
    fc.constantFrom('TRUE', 'false', '123', '-0', ''),
  )
  .filter((name) => [...name].length <= 128);
const printableAscii = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));
const dataDisk = fc.record(
  {
    DiskSize: fc.integer({ min: 10, max: 200 }).map((tens) => tens * 10),
    DiskType: fc.constantFrom('CLOUD_BASIC', 'CLOUD_PREMIUM', 'CLOUD_SSD', 'CLOUD_HSSD'),
    DeleteWithInstance: fc.boolean(),
  },
  { requiredKeys: ['DiskSize'] },
);
const internetAccessible = fc
  .record(
    {
      InternetChargeType: fc.constantFrom('TRAFFIC_POSTPAID_BY_HOUR', 'BANDWIDTH_POSTPAID_BY_HOUR'),
      InternetMaxBandwidthOut: fc.integer({ min: 0, max: 100 }),
      PublicIpAssigned: fc.boolean(),
    },
    { requiredKeys: [] },
  )
  // Empty objects have no flattened form, and a public IP needs bandwidth.
  .filter((ia) => nonEmpty(ia) && !(ia.PublicIpAssigned === true && !ia.InternetMaxBandwidthOut));
const enabled = fc.record({ Enabled: fc.boolean() });
const enhancedService = fc
  .record(
    { SecurityService: enabled, MonitorService: enabled, AutomationService: enabled },
    { requiredKeys: [] },
  )
  .filter(nonEmpty);
/** Valid requests for the `current` profile. */
const currentRequest = fc.record(
  {
    Placement: fc
      .constantFrom('ap-guangzhou-3', 'ap-shanghai-fsi-1', 'na-siliconvalley-2')
      .map((Zone) => ({ Zone })),
    ImageId: resourceId('img'),
    InstanceCount: fc.integer({ min: 1, max: 20 }),
    InstanceName: instanceName,
    DataDisks: fc.array(dataDisk, { minLength: 1, maxLength: 20 }),
    SecurityGroupIds: fc.uniqueArray(resourceId('sg'), { minLength: 1, maxLength: 5 }),
    InternetAccessible: internetAccessible,
    EnhancedService: enhancedService,
    ClientToken: fc.string({ unit: printableAscii, minLength: 1, maxLength: 64 }),
  },
  { requiredKeys: ['Placement', 'ImageId'] },
);

describe('flattening and parsing', () => {
  it('generates only requests the current profile accepts', () => {
    fc.assert(
      fc.property(currentRequest, (request) => {
        expect(validateRunInstances(request, { profile: 'current', now: NOW })).toMatchObject({ ok: true });
      }),
      { numRuns: 500 },
    );
  });

  it('parses a flattened, form-encoded valid request back to the same request', () => {
    fc.assert(
      fc.property(currentRequest, (request) => {
        const encoded = encodeForm(flattenParams(request));
        expect(decodeFlattened(encoded, schemaFor('current'))).toEqual({ ok: true, value: request });
      }),
      { numRuns: 500 },
    );
  });

  it('validates a flattened, form-encoded valid request to the same result as the JSON', () => {
    fc.assert(
      fc.property(currentRequest, (request) => {
        const options = { profile: 'current', now: NOW } as const;
        const encoded = encodeForm(flattenParams(request));
        expect(validateFlattenedRunInstances(encoded, options)).toEqual(
          validateRunInstances(request, options),
        );
      }),
      { numRuns: 500 },
    );
  });
});
