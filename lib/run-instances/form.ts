import { CODES, type Violation } from './codes.ts';
import { childSchema, leafKind, type SchemaNode } from './schema.ts';

/**
 * The flattened form of Tencent's v1 signing and the seed's examples: `Placement.Zone=ap-guangzhou-2`,
 * `DataDisks.0.DiskType=LOCAL_BASIC`, `SecurityGroupIds.0=sg-…` (docs/tencent.md, "v1 signing").
 */
export const FORM_LIMITS = {
  /** A RunInstances request has well under a hundred leaves; a thousand leaves room for tags and ENIs. */
  maxPairs: 1000,
  /** The deepest real key is `TagSpecification.0.Tags.0.Key` (5 segments). */
  maxDepth: 8,
  /** Array indexes: DescribeInstances takes at most 100 ids; nothing in RunInstances comes near 1000. */
  maxIndex: 999,
} as const;

/**
 * Names that would reach Object.prototype if a naive decoder assigned them, and that the AWS SDK's marshaller
 * misreads: refused as member names wherever a caller names one (form keys, metadata keys).
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const INDEX = /^(?:0|[1-9]\d*)$/;
const INTEGER = /^-?(?:0|[1-9]\d*)$/;
const BOOLEANS: Readonly<Record<string, boolean>> = { TRUE: true, true: true, FALSE: false, false: false };

type Node =
  | { kind: 'leaf'; value: string }
  | { kind: 'object'; members: Map<string, Node> }
  | { kind: 'array'; items: Node[] };

export type DecodeResult = { ok: true; value: Record<string, unknown> } | { ok: false; errors: Violation[] };

function fail(param: string, message: string, code: Violation['code'] = CODES.invalidParameter): Violation {
  return { param, code, message };
}

function countPairs(body: string): number {
  let pairs = body.length > 0 ? 1 : 0;
  for (let i = body.indexOf('&'); i !== -1; i = body.indexOf('&', i + 1)) pairs++;
  return pairs;
}

const prefixOf = (segments: string[], end: number) => segments.slice(0, end).join('.');

function isDigits(segment: string): boolean {
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return segment.length > 0;
}

/** Inserts one key into the tree; returns a violation when the key is malformed or collides with another. */
function insert(root: Node & { kind: 'object' }, key: string, value: string): Violation | undefined {
  const segments = key.split('.');
  if (segments.length > FORM_LIMITS.maxDepth)
    return fail(key, `nests deeper than ${FORM_LIMITS.maxDepth} levels`);
  let node: Node = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const last = i === segments.length - 1;
    if (segment === '') return fail(key, 'has an empty segment');
    if (RESERVED_NAMES.has(segment)) return fail(key, `uses the reserved name "${segment}"`);
    const isIndex = isDigits(segment);
    if (isIndex && !INDEX.test(segment)) return fail(key, `has the index "${segment}" with a leading zero`);
    if (isIndex && Number(segment) > FORM_LIMITS.maxIndex)
      return fail(key, `has an index above ${FORM_LIMITS.maxIndex}`);
    if (i === 0 && isIndex) return fail(key, 'starts with an array index');
    if (node.kind === 'leaf')
      return fail(key, `extends ${prefixOf(segments, i)}, which is given a value of its own`);
    if ((node.kind === 'array') !== isIndex) {
      return fail(key, `mixes array indexes and member names under ${prefixOf(segments, i)}`);
    }
    const index = isIndex ? Number(segment) : -1;
    let child = node.kind === 'array' ? node.items[index] : node.members.get(segment);
    if (last) {
      if (child)
        return fail(key, child.kind === 'leaf' ? 'is given more than once' : 'is given a value and members');
      child = { kind: 'leaf', value };
    } else if (!child) {
      child = isDigits(segments[i + 1] as string)
        ? { kind: 'array', items: [] }
        : { kind: 'object', members: new Map() };
    } else {
      node = child;
      continue;
    }
    if (node.kind === 'array') node.items[index] = child;
    else node.members.set(segment, child);
    if (last) return undefined;
    node = child;
  }
  return undefined;
}

/** Turns the tree into plain values, coercing leaves by the schema's types; reports gaps in array indexes. */
function materialise(
  node: Node,
  schema: SchemaNode | undefined,
  path: string[],
  errors: Violation[],
): unknown {
  if (node.kind === 'leaf') {
    const kind = leafKind(schema);
    if (kind === 'number' && INTEGER.test(node.value)) return Number(node.value);
    if (kind === 'boolean' && Object.hasOwn(BOOLEANS, node.value)) return BOOLEANS[node.value];
    return node.value;
  }
  if (node.kind === 'array') {
    const out: unknown[] = [];
    for (let i = 0; i < node.items.length; i++) {
      const item = node.items[i];
      if (!item) {
        const name = path.join('.');
        errors.push(fail(`${name}.${i}`, `is missing: indexes of ${name} must run from 0 without gaps`));
        return out;
      }
      path.push(String(i));
      out.push(materialise(item, childSchema(schema, i), path, errors));
      path.pop();
    }
    return out;
  }
  // Plain assignment is safe: insert() has refused __proto__, constructor and prototype segments.
  const out: Record<string, unknown> = {};
  for (const [key, child] of node.members) {
    path.push(key);
    out[key] = materialise(child, childSchema(schema, key), path, errors);
    path.pop();
  }
  return out;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const ENCODER = new TextEncoder();
const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * `application/x-www-form-urlencoded` decoding of one name or value (WHATWG URL: `+` is a space, `%XX` a
 * byte, a `%` not followed by two hex digits stays as it is), except that the bytes must be UTF-8:
 * undefined where URLSearchParams would silently put U+FFFD.
 */
export function decodeFormComponent(text: string): string | undefined {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    // The native decoder is strict about UTF-8; it also refuses a literal `%`, which the slow path keeps.
    return decodeURIComponent(spaced);
  } catch {
    return decodeBytewise(spaced);
  }
}

function decodeBytewise(text: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '%' && HEX.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      const code = text.codePointAt(i) ?? 0;
      const char = String.fromCodePoint(code);
      for (const byte of ENCODER.encode(char)) bytes.push(byte);
      i += char.length - 1;
    }
  }
  try {
    return STRICT_UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/** The `name=value` pairs of a form body, strictly decoded; a component that is not UTF-8 is a violation. */
function formPairs(text: string, errors: Violation[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (text === '') return pairs;
  for (const part of text.split('&')) {
    if (part === '') continue;
    const at = part.indexOf('=');
    const rawName = at === -1 ? part : part.slice(0, at);
    const name = decodeFormComponent(rawName);
    const value = decodeFormComponent(at === -1 ? '' : part.slice(at + 1));
    if (name === undefined) {
      errors.push(fail('(body)', 'percent-encodes a parameter name in bytes that are not UTF-8'));
    } else if (value === undefined) {
      errors.push(fail(name, 'percent-encodes its value in bytes that are not UTF-8'));
    } else pairs.push([name, value]);
  }
  return pairs;
}

/**
 * Parses a flattened form body (`a.b=1&c.0=x`) into the nested Tencent API 3.0 shape, coercing integers and
 * booleans (`TRUE`/`FALSE`/`true`/`false`) where the schema expects them. Never touches Object.prototype.
 */
export function decodeFlattened(body: string | URLSearchParams, schema?: SchemaNode): DecodeResult {
  const text = typeof body === 'string' ? body : body.toString();
  const pairs = countPairs(text);
  if (pairs > FORM_LIMITS.maxPairs) {
    return {
      ok: false,
      errors: [fail('(body)', `has ${pairs} parameters; at most ${FORM_LIMITS.maxPairs} are accepted`)],
    };
  }
  const root: Node & { kind: 'object' } = { kind: 'object', members: new Map() };
  const errors: Violation[] = [];
  for (const [key, value] of formPairs(text, errors)) {
    if (key === '') {
      errors.push(fail('(body)', 'has a parameter without a name'));
      continue;
    }
    const error = insert(root, key, value);
    if (error) errors.push(error);
  }
  const value = materialise(root, schema, [], errors) as Record<string, unknown>;
  return errors.length ? { ok: false, errors } : { ok: true, value };
}
