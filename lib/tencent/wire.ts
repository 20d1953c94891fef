/**
 * Tencent Cloud API 3.0 on the wire (docs/tencent.md): the CVM API version, and the flattened form that v1
 * signing and GET requests use (`Placement.Zone=…&DataDisks.0.DiskSize=…`). The request model (lib/run-instances)
 * builds on these; nothing here imports it. No HTTP client here either, so the API's bundle stays small.
 */

/** The one CVM API version this project speaks (every request, and the `Version` a caller may send). */
export const CVM_API_VERSION = '2017-03-12';

/** Removes null members recursively, as the official SDK does before serialising (undefined vanishes anyway). */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== null).map(withoutNulls);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
}

/**
 * Whether `value` holds something withoutNulls would change or JSON.stringify would read differently from a
 * plain copy: a null, an array hole, an object that is not plain, or a `toJSON` member. Walks without copying.
 */
function needsNullStrip(value: unknown): boolean {
  if (value === null) return true;
  if (typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value) || needsNullStrip(value[i])) return true;
    }
    return false;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return true;
  if ('toJSON' in value) return true;
  for (const child of Object.values(value)) if (needsNullStrip(child)) return true;
  return false;
}

/**
 * `JSON.stringify(withoutNulls(value))`, byte for byte, without copying a request that holds no null (the
 * common case): one serialisation per request and no intermediate objects.
 */
export function jsonWithoutNulls(value: unknown): string {
  return typeof value === 'object' && value !== null && !needsNullStrip(value)
    ? JSON.stringify(value)
    : JSON.stringify(withoutNulls(value));
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
      for (let i = 0; i < node.length; i++) walk(node[i], `${prefix}.${i}`);
    } else if (typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) walk(child, prefix ? `${prefix}.${key}` : key);
    } else if (
      typeof node === 'string' ||
      typeof node === 'number' ||
      typeof node === 'boolean' ||
      typeof node === 'bigint'
    ) {
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
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
