import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkControlFields, METADATA_LIMITS, splitControlFields } from '../../../lib/jobs/control-fields.ts';
import { decodeFlattened, RESERVED_NAMES } from '../../../lib/run-instances/index.ts';

/** Splits a body and checks its control fields, as acceptJob does. */
function checkBody(body: Record<string, unknown>) {
  const { request, control: raw } = splitControlFields(body);
  const { control, errors } = checkControlFields(raw);
  return { tencent: request, control, errors };
}

describe('splitControlFields and checkControlFields', () => {
  it('separates webhookUrl, metadata and minCount from the Tencent parameters', () => {
    const split = checkBody({
      ImageId: 'img-pmqg1cw7',
      webhookUrl: 'https://hooks.example.com/cvm',
      metadata: { team: 'web' },
      minCount: 2,
    });
    expect(split).toEqual({
      tencent: { ImageId: 'img-pmqg1cw7' },
      control: { webhookUrl: 'https://hooks.example.com/cvm', metadata: { team: 'web' }, minCount: 2 },
      errors: [],
    });
  });

  it('defaults to no webhook, empty metadata and no minCount', () => {
    expect(checkBody({ ImageId: 'img-pmqg1cw7' }).control).toEqual({
      webhookUrl: null,
      metadata: {},
      minCount: null,
    });
  });

  it.each([
    ['2', 'InvalidParameter'],
    [1.5, 'InvalidParameter'],
    [0, 'InvalidParameterValue.Range'],
    [-1, 'InvalidParameterValue.Range'],
  ])('refuses minCount %j with %s', (minCount, code) => {
    const { errors, control } = checkBody({ minCount });
    expect(errors).toEqual([expect.objectContaining({ param: 'minCount', code })]);
    expect(control.minCount).toBeNull();
  });

  it('normalizes an https webhookUrl', () => {
    expect(checkBody({ webhookUrl: 'https://Hooks.Example.com' }).control.webhookUrl).toBe(
      'https://hooks.example.com/',
    );
  });

  it.each([
    ['an http URL', 'http://hooks.example.com/cvm', 'InvalidParameterValue'],
    ['a URL with credentials', 'https://user:pass@hooks.example.com/cvm', 'InvalidParameterValue'],
    ['a URL with a user name only', 'https://user@hooks.example.com/cvm', 'InvalidParameterValue'],
    ['text that is not a URL', 'hooks.example.com/cvm', 'InvalidParameterValue'],
    ['a relative path', '/cvm', 'InvalidParameterValue'],
    ['a URL over 2048 characters', `https://hooks.example.com/${'a'.repeat(2048)}`, 'InvalidParameterValue'],
    ['a number', 42, 'InvalidParameter'],
  ])('refuses %s as webhookUrl', (_name, webhookUrl, code) => {
    const split = checkBody({ webhookUrl });
    expect(split.control.webhookUrl).toBeNull();
    expect(split.errors).toEqual([{ param: 'webhookUrl', code, message: expect.any(String) }]);
  });

  it('does not echo credentials of a refused webhookUrl', () => {
    const split = checkBody({ webhookUrl: 'https://user:s3cr3t-pw@hooks.example.com/' });
    expect(JSON.stringify(split.errors)).not.toContain('s3cr3t-pw');
  });

  it.each([
    ['a non-string value', { team: 7 }, 'metadata.team', 'InvalidParameter'],
    ['a key with a space', { 'my team': 'web' }, 'metadata.my team', 'InvalidParameterValue'],
    ['an empty key', { '': 'web' }, 'metadata.', 'InvalidParameterValue'],
    [
      'a key over 64 characters',
      { ['k'.repeat(65)]: 'web' },
      `metadata.${'k'.repeat(65)}`,
      'InvalidParameterValue',
    ],
    ['a value over 256 characters', { team: 'w'.repeat(257) }, 'metadata.team', 'InvalidParameterValue'],
    ['a value with a lone surrogate', { team: '\ud800' }, 'metadata.team', 'InvalidParameterValue'],
    ['a nested object', { team: { name: 'web' } }, 'metadata.team', 'InvalidParameter'],
  ])('refuses metadata with %s', (_name, metadata, param, code) => {
    expect(checkBody({ metadata }).errors).toEqual([{ param, code, message: expect.any(String) }]);
  });

  it.each([
    ['an array', ['web']],
    ['a string', 'team=web'],
    ['null', null],
  ])('refuses metadata that is %s', (_name, metadata) => {
    expect(checkBody({ metadata }).errors).toEqual([
      { param: 'metadata', code: 'InvalidParameter', message: expect.any(String) },
    ]);
  });

  it('refuses more than 20 metadata entries', () => {
    const metadata = Object.fromEntries(
      Array.from({ length: METADATA_LIMITS.maxEntries + 1 }, (_, i) => [`k${i}`, 'v']),
    );
    expect(checkBody({ metadata }).errors).toContainEqual({
      param: 'metadata',
      code: 'InvalidParameterValue.LimitExceeded',
      message: expect.stringContaining('21'),
    });
  });

  it('accepts exactly 20 metadata entries', () => {
    const metadata = Object.fromEntries(
      Array.from({ length: METADATA_LIMITS.maxEntries }, (_, i) => [`k${i}`, 'v']),
    );
    expect(checkBody({ metadata }).errors).toEqual([]);
  });

  it.each(['__proto__', 'constructor', 'prototype'])(
    'refuses the reserved name %s as a metadata key, as the form decoder refuses it as a name',
    (key) => {
      const body = JSON.parse(`{"metadata":{"${key}":"x"}}`) as Record<string, unknown>;
      const { control, errors } = checkBody(body);
      expect(errors).toEqual([
        { param: `metadata.${key}`, code: 'InvalidParameter', message: `uses the reserved name "${key}"` },
      ]);
      expect(Object.getPrototypeOf(control.metadata)).toBe(Object.prototype);
      expect(Object.keys(control.metadata)).toEqual([]);
    },
  );

  it.each([
    ['a dotted key', 'app.name'],
    ['an all-digit key', '0'],
  ])('refuses %s in JSON, as a flattened form could not carry it', (_name, key) => {
    const { errors } = checkBody({ metadata: { [key]: 'x' } });
    expect(errors).toEqual([
      expect.objectContaining({ param: `metadata.${key}`, code: 'InvalidParameterValue' }),
    ]);
  });

  it('refuses a reserved metadata key with the same message in a form body', () => {
    const form = decodeFlattened('metadata.constructor=x');
    expect(form).toEqual({
      ok: false,
      errors: [
        {
          param: 'metadata.constructor',
          code: 'InvalidParameter',
          message: 'uses the reserved name "constructor"',
        },
      ],
    });
  });

  it('accepts every flat map of short strings under valid keys unchanged (property)', () => {
    const key = fc
      .stringMatching(/^[A-Za-z0-9_:-]{1,64}$/)
      .filter((k) => !RESERVED_NAMES.has(k) && !/^\d+$/.test(k));
    const value = fc
      .string({ maxLength: METADATA_LIMITS.maxValueLength, unit: 'grapheme' })
      .filter((v) => v.length <= METADATA_LIMITS.maxValueLength);
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: METADATA_LIMITS.maxEntries }), (metadata) => {
        const split = checkBody({ metadata });
        expect(split.errors).toEqual([]);
        expect(split.control.metadata).toEqual(metadata);
      }),
    );
  });

  it('refuses every webhookUrl scheme other than https (property)', () => {
    const scheme = fc.constantFrom('http', 'ftp', 'ws', 'wss', 'file', 'gopher', 'data', 'javascript');
    fc.assert(
      fc.property(scheme, fc.domain(), (s, host) => {
        expect(checkBody({ webhookUrl: `${s}://${host}/hook` }).errors).toHaveLength(1);
      }),
    );
  });
});
