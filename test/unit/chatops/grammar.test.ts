import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALIASES,
  type ChatCommand,
  MAX_TEXT_LENGTH,
  parseCommand,
  tokenize,
  VERBS,
} from '../../../lib/chatops/grammar.ts';
import { JOB_STATUSES } from '../../../lib/jobs/model.ts';
import { CODES } from '../../../lib/run-instances/index.ts';

const JOB_ID = '3f2c9a8e-1b7d-4c5e-9f0a-2b6d8e4c1a3f';

/** The pairs of a run command, failing the test with its errors otherwise. */
function pairsOf(text: string): Array<[string, string]> {
  const command = parseCommand(`run ${text}`);
  if (command.kind !== 'run') throw new Error(`expected run, got ${JSON.stringify(command)}`);
  return command.pairs;
}

/** The errors of an invalid command, failing the test otherwise. */
function errorsOf(text: string) {
  const command = parseCommand(text);
  if (command.kind !== 'invalid') throw new Error(`expected invalid, got ${JSON.stringify(command)}`);
  return command.errors;
}

describe('the verbs', () => {
  it('parses run into flattened pairs, in order', () => {
    expect(parseCommand('run zone=ap-guangzhou-2 image=img-pmqg1cw7 type=S5.MEDIUM2')).toEqual({
      kind: 'run',
      pairs: [
        ['Placement.Zone', 'ap-guangzhou-2'],
        ['ImageId', 'img-pmqg1cw7'],
        ['InstanceType', 'S5.MEDIUM2'],
      ],
    });
  });

  it('parses check like run', () => {
    expect(parseCommand('check zone=ap-guangzhou-2 count=2')).toEqual({
      kind: 'check',
      pairs: [
        ['Placement.Zone', 'ap-guangzhou-2'],
        ['InstanceCount', '2'],
      ],
    });
  });

  it('reads the verb whatever its case', () => {
    expect(parseCommand('RUN zone=a').kind).toBe('run');
    expect(parseCommand('Check zone=a').kind).toBe('check');
    expect(parseCommand(`STATUS ${JOB_ID}`).kind).toBe('status');
    expect(parseCommand('HeLp').kind).toBe('help');
  });

  it('leaves a run without parameters to the validator (it names every missing one)', () => {
    expect(parseCommand('run')).toEqual({ kind: 'run', pairs: [] });
  });

  it('parses status with its job id, in lower case', () => {
    expect(parseCommand(`status ${JOB_ID}`)).toEqual({ kind: 'status', jobId: JOB_ID });
    expect(parseCommand(`status ${JOB_ID.toUpperCase()}`)).toEqual({ kind: 'status', jobId: JOB_ID });
  });

  it('parses help with and without a topic', () => {
    expect(parseCommand('help')).toEqual({ kind: 'help' });
    expect(parseCommand('help Aliases')).toEqual({ kind: 'help', topic: 'aliases' });
  });

  it.each(['', '   ', '\u00a0\t\n', '\u3000'])('answers an empty text %j with help', (text) => {
    expect(parseCommand(text)).toEqual({ kind: 'help' });
  });

  it('refuses an unknown verb, naming the verbs and the near miss', () => {
    const [error, ...rest] = errorsOf('rnu zone=a');
    expect(rest).toEqual([]);
    expect(error).toMatchObject({ param: '(command)', code: CODES.invalidAction });
    for (const verb of VERBS) expect(error?.message).toContain(verb);
    expect(error?.message).toContain('did you mean run?');
  });

  it('parses list alone as every status, no time bound', () => {
    expect(parseCommand('list')).toEqual({ kind: 'list', statuses: [] });
    expect(parseCommand('LIST').kind).toBe('list');
  });

  it('parses list with statuses in any case, by commas or spaces, once each and in order', () => {
    expect(parseCommand('list failed,TIMED_OUT')).toEqual({
      kind: 'list',
      statuses: ['FAILED', 'TIMED_OUT'],
    });
    expect(parseCommand('list partially-failed Queued failed,queued')).toEqual({
      kind: 'list',
      statuses: ['PARTIALLY_FAILED', 'QUEUED', 'FAILED'],
    });
  });

  it('parses list before=<time> into a UTC ISO time, a date or a time with its zone', () => {
    expect(parseCommand('list before=2026-12-02T12:00:00Z')).toEqual({
      kind: 'list',
      statuses: [],
      before: '2026-12-02T12:00:00.000Z',
    });
    expect(parseCommand('list succeeded before=2026-12-02T20:00:00.5+08:00')).toEqual({
      kind: 'list',
      statuses: ['SUCCEEDED'],
      before: '2026-12-02T12:00:00.500Z',
    });
    expect(parseCommand('list Before=2026-12-01')).toEqual({
      kind: 'list',
      statuses: [],
      before: '2026-12-01T00:00:00.000Z',
    });
  });

  it('suggests nothing for a word far from every verb', () => {
    const [error] = errorsOf('launch zone=a');
    expect(error?.message).toContain('"launch" is not a command');
    expect(error?.message).not.toContain('did you mean');
  });
});

describe('aliases', () => {
  it.each([
    ['zone', 'ap-guangzhou-2', 'Placement.Zone'],
    ['image', 'img-pmqg1cw7', 'ImageId'],
    ['type', 'S5.MEDIUM2', 'InstanceType'],
    ['count', '2', 'InstanceCount'],
    ['name', 'web', 'InstanceName'],
    ['hostname', 'web-1', 'HostName'],
    ['project', '0', 'Placement.ProjectId'],
    ['charge', 'PREPAID', 'InstanceChargeType'],
    ['period', '1', 'InstanceChargePrepaid.Period'],
    ['vpc', 'vpc-abc', 'VirtualPrivateCloud.VpcId'],
    ['subnet', 'subnet-abc', 'VirtualPrivateCloud.SubnetId'],
    ['disk', '100', 'SystemDisk.DiskSize'],
    ['disktype', 'CLOUD_SSD', 'SystemDisk.DiskType'],
    ['bandwidth', '10', 'InternetAccessible.InternetMaxBandwidthOut'],
    ['publicip', 'true', 'InternetAccessible.PublicIpAssigned'],
    ['token', 'abc-123', 'ClientToken'],
    ['dryrun', 'true', 'DryRun'],
    ['webhook', 'https://hooks.example.com/x', 'webhookUrl'],
  ])('expands %s to %s', (alias, value, name) => {
    expect(pairsOf(`${alias}=${value}`)).toEqual([[name, value]]);
    expect(pairsOf(`${alias.toUpperCase()}=${value}`)).toEqual([[name, value]]);
  });

  it.each([
    ['sg', 'sg-a,sg-b', 'SecurityGroupIds', ['sg-a', 'sg-b']],
    ['key', 'skey-a', 'LoginSettings.KeyIds', ['skey-a']],
    [
      'ip',
      '10.0.0.4,10.0.0.5,10.0.0.6',
      'VirtualPrivateCloud.PrivateIpAddresses',
      ['10.0.0.4', '10.0.0.5', '10.0.0.6'],
    ],
    ['sg', '"sg-a, sg-b"', 'SecurityGroupIds', ['sg-a', 'sg-b']],
  ])('expands the list %s=%s into indexed %s names', (alias, value, name, items) => {
    expect(pairsOf(`${alias}=${value}`)).toEqual(items.map((item, i) => [`${name}.${i}`, item]));
  });

  it('covers every alias the table lists in the tests above', () => {
    expect(Object.keys(ALIASES).sort()).toEqual(
      [
        'zone',
        'image',
        'type',
        'count',
        'name',
        'hostname',
        'project',
        'charge',
        'period',
        'vpc',
        'subnet',
        'ip',
        'sg',
        'key',
        'disk',
        'disktype',
        'bandwidth',
        'publicip',
        'token',
        'dryrun',
        'webhook',
      ].sort(),
    );
  });

  it.each([
    ['sg=sg-a,,sg-b', 2],
    ['sg=sg-a,', 2],
    ['key=', 1],
    ['ip=,10.0.0.4', 1],
  ])('refuses the empty list item in %s', (text, number) => {
    const [error, ...rest] = errorsOf(`run ${text}`);
    expect(rest).toEqual([]);
    expect(error).toMatchObject({ code: CODES.invalidValue });
    expect(error?.message).toContain(`number ${number}`);
  });

  it.each([
    'SystemDisk.DiskSize=100',
    'DataDisks.0.DiskType=CLOUD_SSD',
    'Placement.Zone=ap-guangzhou-2',
    'SecurityGroupIds.0=sg-a',
    'metadata.team=web',
    'webhookUrl=https://hooks.example.com/x',
    'InstanceCoutn=2',
    'Placement..Zone=x',
    'TagSpecification.0.Tags.0.Key=env',
  ])('passes the flattened name in %s through unchanged (the decoder judges it)', (pair) => {
    const [key = '', value = ''] = pair.split(/=(.*)/s);
    expect(pairsOf(pair)).toEqual([[key, value]]);
  });

  it('keeps everything after the first = as the value', () => {
    expect(pairsOf('webhook=https://x.example/?a=b&c=d')).toEqual([
      ['webhookUrl', 'https://x.example/?a=b&c=d'],
    ]);
    expect(pairsOf('name=')).toEqual([['InstanceName', '']]);
  });

  it('refuses a lower-case word that is no alias, suggesting the nearest one', () => {
    const [error] = errorsOf('run zoen=ap-guangzhou-2');
    expect(error).toMatchObject({ param: 'zoen', code: CODES.unknownParameter });
    expect(error?.message).toContain('did you mean zone?');
  });
});

describe('quotes and escapes', () => {
  it.each([
    ['double quotes', 'name="web server"'],
    ['single quotes', "name='web server'"],
    ['typographic double quotes', 'name=\u201cweb server\u201d'],
    ['typographic single quotes', 'name=\u2018web server\u2019'],
    ['a quote over the whole word', '"name=web server"'],
    ['a quote over part of the value', 'name=web" "server'],
    ['quotes that meet', 'name="web"\' \'\u201cserver\u201d'],
  ])('keeps the spaces inside %s', (_name, text) => {
    expect(pairsOf(text)).toEqual([['InstanceName', 'web server']]);
  });

  it('keeps quotes of one kind inside quotes of another', () => {
    expect(pairsOf(`name="it's" hostname='say "hi"' project=\u201c'0'\u201d`)).toEqual([
      ['InstanceName', "it's"],
      ['HostName', 'say "hi"'],
      ['Placement.ProjectId', "'0'"],
    ]);
  });

  it('reads the typographic apostrophe inside a word as a letter', () => {
    expect(pairsOf('name=O\u2019Brien')).toEqual([['InstanceName', 'O\u2019Brien']]);
  });

  it('unescapes \\" and \\\\ inside double quotes, and nothing else', () => {
    expect(pairsOf(String.raw`name="a \"b\" c\\d\n"`)).toEqual([['InstanceName', String.raw`a "b" c\d\n`]]);
    expect(pairsOf('name=\u201ca \\\u201d b\u201d')).toEqual([['InstanceName', 'a \u201d b']]);
  });

  it('leaves backslashes alone outside double quotes', () => {
    expect(pairsOf(String.raw`name=a\b hostname='c\'`)).toEqual([
      ['InstanceName', String.raw`a\b`],
      ['HostName', 'c\\'],
    ]);
  });

  it('separates words by any Unicode space', () => {
    expect(tokenize('run\u00a0zone=a\u2003image=b\u3000\u202ftype=c\n\tcount=1').tokens).toEqual([
      'run',
      'zone=a',
      'image=b',
      'type=c',
      'count=1',
    ]);
  });

  it('keeps an empty quoted word', () => {
    expect(tokenize(`a "" ''`).tokens).toEqual(['a', '', '']);
  });

  it.each([
    ['"', 'name="web server', 6],
    ["'", "zone=a name='web", 13],
    ['\u201c', 'name=\u201cweb', 6],
    ['\u2018', 'name=\u2018web', 6],
    ['"', 'name="ends in a backslash\\', 6],
  ])('refuses an unterminated %s, naming where it opened', (quote, text, at) => {
    const { tokens, errors } = tokenize(text);
    expect(errors).toEqual([
      {
        param: 'text',
        code: CODES.invalidParameter,
        message: expect.stringContaining(`${quote} opened at character ${at}`),
      },
    ]);
    expect(tokens.length).toBeGreaterThan(0);
    expect(errorsOf(`run ${text}`)).toHaveLength(1);
  });

  it('counts the position in characters, not UTF-16 units', () => {
    const { errors } = tokenize('name=\u{1f680}\u{1f680} "x');
    expect(errors[0]?.message).toContain('opened at character 9');
  });
});

describe('mistakes', () => {
  it('lists every mistake of a text at once', () => {
    const errors = errorsOf('run zone=a zone=b nokey =value image=img-1');
    expect(errors.map((e) => [e.param, e.code])).toEqual([
      ['zone', CODES.duplicate],
      ['nokey', CODES.invalidParameter],
      ['(command)', CODES.missing],
    ]);
  });

  it('lists a quoting mistake with the others', () => {
    const errors = errorsOf('run password=x __proto__.a=1 name="open');
    expect(errors.map((e) => e.param)).toEqual(['text', 'password', '__proto__.a']);
  });

  it('refuses a word without =, hinting at the alias it names', () => {
    const [error] = errorsOf('run dryrun');
    expect(error).toMatchObject({ param: 'dryrun', code: CODES.invalidParameter });
    expect(error?.message).toContain('dryrun=');
  });

  it.each([
    ['an alias and its flattened name', 'zone=a Placement.Zone=b', 'Placement.Zone'],
    ['a flattened name and its alias', 'Placement.Zone=a ZONE=b', 'ZONE'],
    ['a top-level name and its alias', 'ImageId=a image=b', 'image'],
    ['the same flattened name in another case', 'Placement.Zone=a placement.zone=b', 'placement.zone'],
    ['a list alias and an item of it', 'sg=sg-a SecurityGroupIds.1=sg-b', 'SecurityGroupIds.1'],
    ['an item of a list and its alias', 'SecurityGroupIds.0=sg-a sg=sg-b', 'sg'],
    ['a list alias twice', 'key=a key=b', 'key'],
    ['the same alias twice', 'count=1 count=1', 'count'],
  ])('refuses %s as a duplicate', (_name, text, param) => {
    const errors = errorsOf(`run ${text}`);
    expect(errors).toEqual([
      { param, code: CODES.duplicate, message: expect.stringContaining('more than once') },
    ]);
  });

  it.each([
    'password=hunter2',
    'PASSWORD=hunter2',
    'LoginSettings.Password=hunter2',
    'loginsettings.password=hunter2',
  ])('refuses a password typed in chat (%s), pointing at key pairs', (pair) => {
    const [error, ...rest] = errorsOf(`run ${pair}`);
    expect(rest).toEqual([]);
    expect(error?.message).toContain('LoginSettings.KeyIds');
    expect(error?.message).toContain('key=');
    expect(JSON.stringify(error)).not.toContain('hunter2');
  });

  it.each([
    '__proto__=x',
    '__proto__.polluted=x',
    'constructor=x',
    'constructor.prototype.polluted=x',
    'Placement.__proto__=x',
    'metadata.prototype=x',
    'DataDisks.0.constructor=x',
  ])('refuses the reserved segment in %s', (pair) => {
    const [error, ...rest] = errorsOf(`run ${pair}`);
    expect(rest).toEqual([]);
    expect(error).toMatchObject({
      code: CODES.invalidParameter,
      message: expect.stringContaining('reserved name'),
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a key-less =value', () => {
    expect(errorsOf('run =ap-guangzhou-2')).toEqual([
      { param: '(command)', code: CODES.missing, message: expect.stringContaining('no key') },
    ]);
  });

  it.each([
    ['no job id', 'status', 'jobId', CODES.missing],
    ['a job id that is no UUID', 'status job-1', 'jobId', CODES.invalidValue],
    ['a UUID with a character too many', `status ${JOB_ID}0`, 'jobId', CODES.invalidValue],
    ['two job ids', `status ${JOB_ID} ${JOB_ID}`, '(command)', CODES.invalidParameter],
  ])('refuses status with %s', (_name, text, param, code) => {
    expect(errorsOf(text)).toEqual([{ param, code, message: expect.any(String) }]);
  });

  it('refuses status with an extra word that is no UUID either, listing both', () => {
    expect(errorsOf(`status nope extra`).map((e) => e.param)).toEqual(['(command)', 'jobId']);
  });

  it('refuses list with an unknown status, naming every valid one and the near miss', () => {
    const [error, ...rest] = errorsOf('list faild');
    expect(rest).toEqual([]);
    expect(error).toMatchObject({ param: 'status', code: CODES.invalidValue });
    for (const status of JOB_STATUSES) expect(error?.message).toContain(status);
    expect(error?.message).toContain('"faild" is not a status');
    expect(error?.message).toContain('did you mean FAILED?');
  });

  it.each([
    ['a word that is no status', 'list mine', ['status']],
    ['two unknown statuses in one list', 'list failed,nope,running', ['status', 'status']],
    ['a time that is no time', 'list before=yesterday', ['before']],
    ['a time without its zone', 'list before=2026-12-01T10:00', ['before']],
    ['an impossible date', 'list before=2026-02-30T00:00:00Z', ['before']],
    ['before twice', 'list before=2026-12-01 before=2026-11-01', ['before']],
    ['another key', 'list limit=5', ['limit']],
    ['a job id', `list ${JOB_ID}`, ['status']],
  ])('refuses list with %s', (_name, text, params) => {
    expect(errorsOf(text).map((e) => e.param)).toEqual(params);
  });

  it('refuses help with more than one topic', () => {
    expect(errorsOf('help run check')).toEqual([
      { param: '(command)', code: CODES.invalidParameter, message: expect.any(String) },
    ]);
  });

  it('refuses a text over the limit with one error, without reading it', () => {
    const text = `run ${'name=x '.repeat(MAX_TEXT_LENGTH)}`;
    expect(errorsOf(text)).toEqual([{ param: 'text', code: CODES.tooLarge, message: expect.any(String) }]);
    expect(parseCommand(`run name=${'x'.repeat(MAX_TEXT_LENGTH - 9)}`).kind).toBe('run');
  });

  it('counts the limit in characters: 4,000 emoji pass', () => {
    const command = parseCommand(`run name=${'\u{1f680}'.repeat(MAX_TEXT_LENGTH - 9)}`);
    expect(command.kind).toBe('run');
  });

  it('repeats at most about 64 characters of user text in a message, invisible ones written out', () => {
    const long = 'x'.repeat(3000);
    const messages = [
      ...errorsOf(`${long}`),
      ...errorsOf(`run ${long}`),
      ...errorsOf(`status ${long}`),
      ...errorsOf(`run a${long}=1`),
    ];
    expect(messages).toHaveLength(4);
    for (const error of messages) {
      expect(error.message.length).toBeLessThan(200);
      expect(error.param.length).toBeLessThan(80);
    }
    const [bidi] = errorsOf('\u202erun');
    expect(bidi?.message).toContain('\\u{202e}');
    expect(bidi?.message).not.toContain('\u202e');
  });
});

describe('properties', () => {
  const isKnown = (command: ChatCommand) =>
    ['run', 'check', 'status', 'cancel', 'list', 'help', 'invalid'].includes(command.kind);

  it('never throws on any string, and never touches Object.prototype', () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const pieces = fc.constantFrom(
      'run ',
      'check ',
      'status ',
      'list ',
      'failed,',
      'before=',
      'help ',
      '=',
      '.',
      ',',
      '"',
      "'",
      '\\',
      '\u201c',
      '\u201d',
      '\u2018',
      '\u2019',
      '\u00a0',
      ' ',
      '__proto__',
      'constructor',
      'prototype',
      'zone',
      'sg',
      'password',
      'Placement.Zone',
      '\ud800',
    );
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc
        .array(fc.oneof(pieces, fc.string({ unit: 'binary-ascii', maxLength: 5 })), { maxLength: 40 })
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(text, (input) => {
        const command = parseCommand(input);
        expect(isKnown(command)).toBe(true);
        if (command.kind === 'invalid') {
          expect(command.errors.length).toBeGreaterThan(0);
          for (const error of command.errors) expect(error.message.length).toBeLessThan(300);
        }
      }),
      { numRuns: 2000 },
    );
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  /** A value as a user would quote it: in ASCII double quotes, with `"` and `\` escaped. */
  const quoted = (value: string) => `"${value.replace(/["\\]/g, (ch) => `\\${ch}`)}"`;

  it('gives back the pairs it was given, however their values are quoted', () => {
    const flattened = fc.constantFrom(
      'ImageId',
      'Placement.Zone',
      'InstanceName',
      'HostName',
      'DataDisks.0.DiskSize',
      'metadata.team',
      'webhookUrl',
    );
    const value = fc.string({
      unit: fc.oneof(
        fc.constantFrom(
          ' ',
          '\u00a0',
          '"',
          "'",
          '\\',
          '=',
          ',',
          '\u201c',
          '\u201d',
          '\u2018',
          '\u2019',
          '\t',
        ),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
      ),
      maxLength: 30,
    });
    const pairs = fc.uniqueArray(fc.tuple(flattened, value), {
      selector: ([key]) => key.toLowerCase(),
      maxLength: 7,
    });
    fc.assert(
      fc.property(pairs, fc.constantFrom(' ', '  ', '\u00a0', '\n'), (given, separator) => {
        const text = ['run', ...given.map(([key, v]) => `${key}=${quoted(v)}`)].join(separator);
        expect(parseCommand(text)).toEqual({ kind: 'run', pairs: given });
      }),
      { numRuns: 500 },
    );
  });

  it('gives back the words it was given, quoted whole', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { maxLength: 10 }), (words) => {
        expect(tokenize(words.map(quoted).join(' ')).tokens).toEqual(words);
      }),
      { numRuns: 500 },
    );
  });
});
