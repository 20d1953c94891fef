/**
 * Arbitraries for hostile-input fuzzing of the entry points (test/e2e/fuzz.test.ts): JSON and flattened-form
 * RunInstances bodies mutated from the seed examples (events/seed), content types, bearer headers, job-route
 * path segments, listing queries and slash-command texts. Bodies are built as text here, not with
 * JSON.stringify, so that what JSON.stringify cannot write (-0, 1e400, duplicate and `__proto__` keys, lone
 * surrogates left unescaped) reaches the server too.
 */
import fc from 'fast-check';
import { seedExample, seedForm } from './requests.ts';

/** A JSON document as a tree that can hold what a JS object cannot: duplicate keys and raw number text. */
export type JsonTree =
  | { kind: 'raw'; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'array'; items: JsonTree[] }
  | { kind: 'object'; entries: Array<[string, JsonTree]> };

const raw = (text: string): JsonTree => ({ kind: 'raw', text });
const str = (value: string): JsonTree => ({ kind: 'string', value });

/** A JSON value as a tree (keys in order, numbers by their JSON text). */
export function treeOf(value: unknown): JsonTree {
  if (typeof value === 'string') return str(value);
  if (Array.isArray(value)) return { kind: 'array', items: value.map(treeOf) };
  if (typeof value === 'object' && value !== null)
    return { kind: 'object', entries: Object.entries(value).map(([k, v]) => [k, treeOf(v)]) };
  return raw(JSON.stringify(value) ?? 'null');
}

/** The tree's JSON text; a string is escaped as JSON.stringify escapes it (lone surrogates as `\udXXX`). */
export function jsonText(tree: JsonTree): string {
  switch (tree.kind) {
    case 'raw':
      return tree.text;
    case 'string':
      return JSON.stringify(tree.value);
    case 'array':
      return `[${tree.items.map(jsonText).join(',')}]`;
    case 'object':
      return `{${tree.entries.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`;
  }
}

/** The names of Object.prototype and of the prototype chain, and others that have bitten parsers. */
export const RESERVED_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
] as const;

/** RunInstances parameters and control fields, top level and nested, so pollution would be visible. */
export const PARAM_KEYS = [
  'Placement',
  'Zone',
  'ImageId',
  'InstanceType',
  'InstanceCount',
  'InstanceChargeType',
  'DataDisks',
  'DiskSize',
  'DiskType',
  'LoginSettings',
  'Password',
  'KeyIds',
  'SecurityGroupIds',
  'ClientToken',
  'DryRun',
  'TagSpecification',
  'metadata',
  'webhookUrl',
  'minCount',
  'Region',
  'Action',
  'Version',
] as const;

/** Characters that break naive handling: bidi controls, zero-width, lone surrogates, NUL, BOM, non-BMP. */
const TRICKY_CHARS = [
  '\u202E',
  '\u202D',
  '\u2066',
  '\u2069',
  '\u200B',
  '\u200D',
  '\uFEFF',
  '\uD800',
  '\uDFFF',
  '\uDBFF\uDFFF',
  '\u0000',
  '\u001F',
  '\u007F',
  '\u0085',
  '\u2028',
  '\uFFFD',
  '😀',
  'é',
  '中',
  '"',
  '\\',
  '%',
  '&',
  '=',
  '+',
  '.',
] as const;

/** Strings a validator may mistake for something else. */
const TRICKY_STRINGS = [
  '',
  ' ',
  'NaN',
  '-NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '0x10',
  '1e400',
  '9007199254740993',
  'true',
  'TRUE',
  'null',
  'undefined',
  '[object Object]',
  '__proto__',
  'constructor',
  'ap-guangzhou-3\u0000',
  'ap-guangzhou-3 ',
  'AP-GUANGZHOU-3',
  'img-pmqg1cw7\u202E',
  'cvmp-00000000',
  'https://127.0.0.1/hook',
  'javascript:alert(1)',
] as const;

/** Strings of any code point (lone surrogates included), tricky characters, and tricky whole values. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...TRICKY_CHARS), maxLength: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom(...TRICKY_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 5000 }).map((n) => 'x'.repeat(n)) },
);

/** Number texts JSON allows but JS does not round-trip: -0, overflow, underflow, huge integers. */
const NUMBER_TEXTS = [
  '-0',
  '0',
  '-1',
  '1e400',
  '-1e400',
  '1e-400',
  '1.0',
  '1.5',
  '2e0',
  '123456789012345678901234567890',
  '9007199254740993',
  '-9007199254740993',
  '4294967296',
  '0.0000000000000000000001',
  '1E2',
] as const;

const hostileLeaf: fc.Arbitrary<JsonTree> = fc.oneof(
  { weight: 3, arbitrary: hostileString.map(str) },
  { weight: 2, arbitrary: fc.constantFrom(...NUMBER_TEXTS).map(raw) },
  { weight: 1, arbitrary: fc.double().map((n) => raw(Number.isFinite(n) ? String(n) : 'null')) },
  { weight: 1, arbitrary: fc.integer().map((n) => raw(String(n))) },
  { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null', '{}', '[]').map(raw) },
);

const anyKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...RESERVED_KEYS),
  fc.constantFrom(...PARAM_KEYS),
  hostileString,
);

/** A hostile JSON value: leaves, small arrays and objects (reserved keys included), nested a few levels. */
export const hostileValue: fc.Arbitrary<JsonTree> = fc.letrec<{ value: JsonTree }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileLeaf,
    fc.array(tie('value'), { maxLength: 4 }).map((items): JsonTree => ({ kind: 'array', items })),
    fc
      .array(fc.tuple(anyKey, tie('value')), { maxLength: 4 })
      .map((entries): JsonTree => ({ kind: 'object', entries })),
  ),
})).value;

/** One edit of a JSON tree, its targets chosen by index (modulo what the tree has), so it shrinks well. */
export type JsonMutation =
  | { op: 'replace'; at: number; value: JsonTree }
  | { op: 'insert'; at: number; key: string; value: JsonTree }
  | { op: 'duplicate'; at: number; value: JsonTree }
  | { op: 'delete'; at: number }
  | { op: 'nest'; at: number; depth: number; array: boolean }
  | { op: 'widen'; at: number; keys: number; reserved: boolean };

const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('replace'), at: fc.nat(), value: hostileValue }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('insert'), at: fc.nat(), key: anyKey, value: hostileValue }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate'), at: fc.nat(), value: hostileValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete'), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('nest'),
      at: fc.nat(),
      depth: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1000, max: 6000 })),
      array: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('widen'),
      at: fc.nat(),
      keys: fc.integer({ min: 100, max: 3000 }),
      reserved: fc.boolean(),
    }),
  },
);

/** Every node of a tree with a way to replace it (the root cannot be replaced: it stays an object). */
function nodesOf(tree: JsonTree): Array<{ node: JsonTree; set?: (value: JsonTree) => void }> {
  const found: Array<{ node: JsonTree; set?: (value: JsonTree) => void }> = [{ node: tree }];
  const walk = (node: JsonTree) => {
    if (node.kind === 'array')
      node.items.forEach((item, i) => {
        found.push({
          node: item,
          set: (value) => {
            node.items[i] = value;
          },
        });
        walk(item);
      });
    if (node.kind === 'object')
      for (const entry of node.entries) {
        found.push({
          node: entry[1],
          set: (value) => {
            entry[1] = value;
          },
        });
        walk(entry[1]);
      }
  };
  walk(tree);
  return found;
}

/** A value nested `depth` levels deep, as raw text: thousands of levels would overflow a recursive walk here. */
function nested(depth: number, array: boolean, inner: JsonTree): JsonTree {
  const [open, close] = array ? ['[', ']'] : ['{"a":', '}'];
  return raw(`${open.repeat(depth)}${jsonText(inner)}${close.repeat(depth)}`);
}

/** Applies mutations to a copy of a tree. */
export function mutateTree(tree: JsonTree, mutations: readonly JsonMutation[]): JsonTree {
  const copy = structuredClone(tree);
  for (const mutation of mutations) {
    const nodes = nodesOf(copy);
    const target = nodes[mutation.at % nodes.length] ?? { node: copy };
    const objects = nodes.filter(({ node }) => node.kind === 'object');
    const object = objects[mutation.at % objects.length]?.node;
    switch (mutation.op) {
      case 'replace':
        target.set?.(mutation.value);
        break;
      case 'insert':
        if (object?.kind === 'object') object.entries.push([mutation.key, mutation.value]);
        break;
      case 'duplicate':
        if (object?.kind === 'object' && object.entries.length) {
          const [key = ''] = object.entries[mutation.at % object.entries.length] ?? [];
          object.entries.push([key, mutation.value]);
        }
        break;
      case 'delete':
        if (object?.kind === 'object' && object.entries.length)
          object.entries.splice(mutation.at % object.entries.length, 1);
        break;
      case 'nest':
        target.set?.(nested(mutation.depth, mutation.array, target.node));
        break;
      case 'widen':
        if (object?.kind === 'object')
          for (let i = 0; i < mutation.keys; i++)
            object.entries.push([
              mutation.reserved ? (RESERVED_KEYS[i % RESERVED_KEYS.length] ?? '__proto__') : `K${i}\u202E`,
              raw(String(i)),
            ]);
        break;
    }
  }
  return copy;
}

export const seedNumber = fc.constantFrom(1 as const, 2 as const, 3 as const);

/**
 * A seed example in JSON with one to three hostile edits: near-valid, mostly refused. Sometimes a tricky
 * character goes into the text unescaped (a lone surrogate then becomes U+FFFD as the body is encoded).
 */
export const mutatedSeedJson: fc.Arbitrary<string> = fc
  .tuple(
    seedNumber,
    fc.array(jsonMutation, { minLength: 1, maxLength: 3 }),
    fc.option(fc.tuple(fc.nat(), fc.constantFrom(...TRICKY_CHARS)), { freq: 4 }),
  )
  .map(([n, mutations, insert]) => {
    const text = jsonText(mutateTree(treeOf(seedExample(n)), mutations));
    if (!insert) return text;
    const at = insert[0] % (text.length + 1);
    return `${text.slice(0, at)}${insert[1]}${text.slice(at)}`;
  });

/** Arbitrary JSON text: not necessarily an object, not necessarily valid JSON. */
export const arbitraryJsonText: fc.Arbitrary<string> = fc.oneof(
  hostileValue.map(jsonText),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value) ?? 'null'),
  // Truncated JSON: a prefix of a seed example.
  fc.tuple(seedNumber, fc.nat()).map(([n, cut]) => {
    const text = JSON.stringify(seedExample(n));
    return text.slice(0, cut % text.length);
  }),
);

/** Percent-encodes a string's UTF-8 bytes (lone surrogates become U+FFFD's bytes, as any encoder does). */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.~-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Escapes that decode to no UTF-8 (or to nothing at all): a strict decoder must refuse each. */
const BAD_ESCAPES = [
  '%FF',
  '%C0%80',
  '%ED%A0%80',
  '%E4%B8',
  '%F8%88%80%80%80',
  '%zz',
  '%',
  '%4',
  '%%41',
] as const;

/** Segments of a form key: parameter names, reserved names (also percent-encoded), odd indexes. */
const formSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PARAM_KEYS) },
  { weight: 3, arbitrary: fc.constantFrom(...RESERVED_KEYS) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('%5F%5Fproto%5F%5F', '%5f%5fproto%5f%5f', '__pro%74o__', 'constructor%00'),
  },
  { weight: 2, arbitrary: fc.constantFrom('0', '1', '01', '-1', '999', '1000', '99999999999', '1e3', '') },
  { weight: 2, arbitrary: hostileString.map(percentEncode) },
);

const formKey: fc.Arbitrary<string> = fc
  .array(formSegment, { minLength: 1, maxLength: 10 })
  .map((segments) => segments.join('.'));

const formValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: hostileString.map(percentEncode) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_ESCAPES) },
  { weight: 1, arbitrary: fc.constantFrom('TRUE', 'false', '1', '-0', '1e400', 'NaN', '+', '++', '%2B', '') },
  { weight: 1, arbitrary: hostileString.map((s) => s.replace(/[&=%]/g, '')) },
);

/** One edit of a form's pairs (`key=value` as sent, still encoded). */
export type FormMutation =
  | { op: 'value'; at: number; value: string }
  | { op: 'key'; at: number; key: string }
  | { op: 'add'; key: string; value: string }
  | { op: 'duplicate'; at: number; value: string }
  | { op: 'bare'; at: number }
  | { op: 'many'; pairs: number; duplicate: boolean }
  | { op: 'truncate'; cut: number }
  | { op: 'badEscape'; at: number; escape: string };

const formMutation: fc.Arbitrary<FormMutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('value'), at: fc.nat(), value: formValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('key'), at: fc.nat(), key: formKey }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('add'), key: formKey, value: formValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('duplicate'), at: fc.nat(), value: formValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('bare'), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('many'),
      pairs: fc.integer({ min: 900, max: 3000 }),
      duplicate: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate'), cut: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('badEscape'),
      at: fc.nat(),
      escape: fc.constantFrom(...BAD_ESCAPES),
    }),
  },
);

/** Applies mutations to a form body. */
export function mutateForm(form: string, mutations: readonly FormMutation[]): string {
  let pairs = form.split('&');
  for (const mutation of mutations) {
    const i = 'at' in mutation ? mutation.at % Math.max(pairs.length, 1) : 0;
    const [key = '', ...rest] = (pairs[i] ?? '').split('=');
    const value = rest.join('=');
    switch (mutation.op) {
      case 'value':
        pairs[i] = `${key}=${mutation.value}`;
        break;
      case 'key':
        pairs[i] = `${mutation.key}=${value}`;
        break;
      case 'add':
        pairs.push(`${mutation.key}=${mutation.value}`);
        break;
      case 'duplicate':
        pairs.push(`${key}=${mutation.value}`);
        break;
      case 'bare':
        pairs[i] = key;
        break;
      case 'many':
        for (let n = 0; n < mutation.pairs; n++)
          pairs.push(
            mutation.duplicate ? `Placement.Zone=ap-guangzhou-${n % 7}` : `DataDisks.${n}.DiskSize=50`,
          );
        break;
      case 'truncate': {
        const text = pairs.join('&');
        pairs = [text.slice(0, mutation.cut % (text.length + 1))];
        break;
      }
      case 'badEscape':
        pairs[i] = `${pairs[i] ?? ''}${mutation.escape}`;
        break;
    }
  }
  return pairs.join('&');
}

/** A seed example's flattened form with one to three hostile edits. */
export const mutatedSeedForm: fc.Arbitrary<string> = fc
  .tuple(seedNumber, fc.array(formMutation, { minLength: 1, maxLength: 3 }))
  .map(([n, mutations]) => mutateForm(seedForm(n), mutations));

/** Arbitrary form text: pairs of hostile keys and values, and plain arbitrary strings. */
export const arbitraryFormText: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(fc.tuple(formKey, formValue), { maxLength: 8 })
    .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

/** Bytes that are not UTF-8: a stray continuation, an overlong NUL, an encoded surrogate, a cut sequence. */
const BAD_UTF8 = [
  [0xff],
  [0x80],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xe4, 0xb8],
  [0xf4, 0x90, 0x80, 0x80],
] as const;

/** A body's bytes with invalid UTF-8 put in at some position. */
export const withBadBytes = (text: string): fc.Arbitrary<Buffer> =>
  fc.tuple(fc.nat(), fc.constantFrom(...BAD_UTF8)).map(([at, bad]) => {
    const bytes = Buffer.from(text, 'utf8');
    const cut = at % (bytes.length + 1);
    return Buffer.concat([bytes.subarray(0, cut), Buffer.from(bad), bytes.subarray(cut)]);
  });

export const JSON_TYPE = 'application/json';
export const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Content types: right, right with odd spellings and charsets, wrong, malformed; undefined sends none. */
export const contentTypeFor = (right: string): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(right) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        right.toUpperCase(),
        `${right}; charset=utf-8`,
        `${right};charset="UTF8"`,
        `${right}; charset=`,
        `${right}; charset=latin1`,
        `${right}; charset=utf-16le`,
        `${right}; charset="utf-8`,
        `${right}; boundary=x; charset=utf-8; charset=ascii`,
        `${right};;;`,
        ` ${right} `,
        `${right}+x`,
        `${right}/x`,
        `${right}\t; q=1`,
      ),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        undefined,
        '',
        'text/plain',
        'text/json',
        'application/xml',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        right === JSON_TYPE ? FORM_TYPE : JSON_TYPE,
        '*/*',
        ';',
        'application/json, application/x-www-form-urlencoded',
      ),
    },
  );

/** A header value undici will send: visible ASCII, spaces and tabs. */
export const headerText = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.oneof(
      { weight: 20, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
      { weight: 2, arbitrary: fc.constantFrom(' ', '\t') },
    ),
    maxLength,
  });

/** Path segments for the job routes: ids near a UUID, reserved names, dot segments, arbitrary encoded text. */
export const pathSegment = (realIds: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...realIds) },
    { weight: 1, arbitrary: fc.constantFrom(...realIds).map((id) => id.toUpperCase()) },
    { weight: 1, arbitrary: fc.constantFrom(...realIds).map((id) => `${id}%00`) },
    { weight: 1, arbitrary: fc.constantFrom(...realIds).map((id) => ` ${id}`.replace(' ', '%20')) },
    { weight: 2, arbitrary: fc.uuid().map(String) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        '.',
        '..',
        '%2E%2E',
        '%2F',
        '%5C',
        '%00',
        '%FF',
        '%E0%A4%A',
        '%',
        'evt_x_submitted',
        'undefined',
        'null',
        '0',
        '-1',
        'x'.repeat(2000),
      ),
    },
    { weight: 3, arbitrary: hostileString.map(percentEncode).filter((s) => s.length > 0) },
  );
