import { CODES, type Violation } from './codes.ts';
import { childSchema, leafKind, type SchemaNode } from './schema.ts';

/**
 * The flattened form of Tencent's v1 signing and the seed's examples: `Placement.Zone=ap-guangzhou-2`,
 * `DataDisks.0.DiskType=LOCAL_BASIC`, `SecurityGroupIds.0=sg-…` (reference §4.1 step 2).
 */
export const FORM_LIMITS = {
  /** A RunInstances request has well under a hundred leaves; a thousand leaves room for tags and ENIs. */
  maxPairs: 1000,
  /** The deepest real key is `TagSpecification.0.Tags.0.Key` (5 segments). */
  maxDepth: 8,
  /** Array indexes: DescribeInstances takes at most 100 ids; nothing in RunInstances comes near 1000. */
  maxIndex: 999,
} as const;

/** Segments that would reach Object.prototype if a naive decoder assigned them. */
const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const INDEX = /^(?:0|[1-9]\d*)$/;
const INTEGER = /^-?(?:0|[1-9]\d*)$/;
const BOOLEANS: Readonly<Record<string, boolean>> = { TRUE: true, true: true, FALSE: false, false: false };

type Node = { kind: 'leaf'; value: string } | { kind: 'object'; members: Map<string, Node> } | { kind: 'array'; items: Map<number, Node> };

export type DecodeResult = { ok: true; value: Record<string, unknown> } | { ok: false; errors: Violation[] };

function fail(param: string, message: string, code: Violation['code'] = CODES.invalidParameter): Violation {
  return { param, code, message };
}

function countPairs(body: string): number {
  let pairs = body.length > 0 ? 1 : 0;
  for (let i = body.indexOf('&'); i !== -1; i = body.indexOf('&', i + 1)) pairs++;
  return pairs;
}

/** Inserts one key into the tree; returns a violation when the key is malformed or collides with another. */
function insert(root: Node & { kind: 'object' }, key: string, value: string): Violation | undefined {
  const segments = key.split('.');
  if (segments.length > FORM_LIMITS.maxDepth) return fail(key, `nests deeper than ${FORM_LIMITS.maxDepth} levels`);
  let node: Node = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const last = i === segments.length - 1;
    if (segment === '') return fail(key, 'has an empty segment');
    if (FORBIDDEN_SEGMENTS.has(segment)) return fail(key, `uses the reserved name "${segment}"`);
    const isIndex = /^\d+$/.test(segment);
    if (isIndex && !INDEX.test(segment)) return fail(key, `has the index "${segment}" with a leading zero`);
    if (isIndex && Number(segment) > FORM_LIMITS.maxIndex) return fail(key, `has an index above ${FORM_LIMITS.maxIndex}`);
    if (i === 0 && isIndex) return fail(key, 'starts with an array index');
    const prefix = segments.slice(0, i).join('.');
    if (node.kind === 'leaf') return fail(key, `extends ${prefix}, which is given a value of its own`);
    if ((node.kind === 'array') !== isIndex) {
      return fail(key, `mixes array indexes and member names under ${prefix}`);
    }
    const children: Map<string | number, Node> = node.kind === 'array' ? node.items : node.members;
    const childKey = isIndex ? Number(segment) : segment;
    let child = children.get(childKey);
    if (last) {
      if (child) return fail(key, child.kind === 'leaf' ? 'is given more than once' : 'is given a value and members');
      children.set(childKey, { kind: 'leaf', value });
      return undefined;
    }
    if (!child) {
      const nextIsIndex = /^\d+$/.test(segments[i + 1] as string);
      child = nextIsIndex ? { kind: 'array', items: new Map() } : { kind: 'object', members: new Map() };
      children.set(childKey, child);
    }
    node = child;
  }
  return undefined;
}

/** Turns the tree into plain values, coercing leaves by the schema's types; reports gaps in array indexes. */
function materialise(node: Node, schema: SchemaNode | undefined, path: string, errors: Violation[]): unknown {
  if (node.kind === 'leaf') {
    const kind = leafKind(schema);
    if (kind === 'number' && INTEGER.test(node.value)) return Number(node.value);
    if (kind === 'boolean' && Object.hasOwn(BOOLEANS, node.value)) return BOOLEANS[node.value];
    return node.value;
  }
  if (node.kind === 'array') {
    const out: unknown[] = [];
    for (let i = 0; i < node.items.size; i++) {
      const item = node.items.get(i);
      if (!item) {
        errors.push(fail(`${path}.${i}`, `is missing: indexes of ${path} must run from 0 without gaps`));
        return out;
      }
      out.push(materialise(item, childSchema(schema, i), `${path}.${i}`, errors));
    }
    return out;
  }
  // Object.fromEntries defines own properties, so even a key named like a prototype member stays data.
  return Object.fromEntries(
    [...node.members].map(([key, child]) => [
      key,
      materialise(child, childSchema(schema, key), path ? `${path}.${key}` : key, errors),
    ]),
  );
}

/**
 * Parses a flattened form body (`a.b=1&c.0=x`) into the nested Tencent API 3.0 shape, coercing integers and
 * booleans (`TRUE`/`FALSE`/`true`/`false`) where the schema expects them. Never touches Object.prototype.
 */
export function decodeFlattened(body: string | URLSearchParams, schema?: SchemaNode): DecodeResult {
  const text = typeof body === 'string' ? body : body.toString();
  const pairs = countPairs(text);
  if (pairs > FORM_LIMITS.maxPairs) {
    return { ok: false, errors: [fail('(body)', `has ${pairs} parameters; at most ${FORM_LIMITS.maxPairs} are accepted`)] };
  }
  const root: Node & { kind: 'object' } = { kind: 'object', members: new Map() };
  const errors: Violation[] = [];
  for (const [key, value] of new URLSearchParams(text)) {
    if (key === '') {
      errors.push(fail('(body)', 'has a parameter without a name'));
      continue;
    }
    const error = insert(root, key, value);
    if (error) errors.push(error);
  }
  const value = materialise(root, schema, '', errors) as Record<string, unknown>;
  return errors.length ? { ok: false, errors } : { ok: true, value };
}

/**
 * Flattens a nested request into `[key, value]` pairs in insertion order (the v1 signer sorts them):
 * objects join with `.`, arrays use zero-based indexes, booleans become `true`/`false` as the SDKs send them.
 * Empty arrays and objects, null and undefined have no flattened form and are left out.
 */
export function flattenParams(value: Record<string, unknown>): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const walk = (node: unknown, prefix: string): void => {
    if (node === null || node === undefined) return;
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${prefix}.${i}`));
    } else if (typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) walk(child, prefix ? `${prefix}.${key}` : key);
    } else if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean' || typeof node === 'bigint') {
      pairs.push([prefix, String(node)]);
    }
  };
  walk(value, '');
  return pairs;
}

/** Encodes pairs as an `application/x-www-form-urlencoded` body with RFC 3986 percent-encoding. */
export function encodeForm(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([key, value]) => `${encodeRfc3986(key)}=${encodeRfc3986(value)}`).join('&');
}

/** RFC 3986 percent-encoding (upper-case hex, UTF-8), as Tencent's v1 signing expects on the wire. */
export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
