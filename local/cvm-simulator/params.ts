import { BOOLEAN_PARAMETERS } from './catalog.ts';
import { SimError } from './errors.ts';

/**
 * Every request, JSON or flattened form, becomes one flat map of dotted keys to strings
 * (`Placement.Zone`, `DataDisks.0.DiskSize`). Rules read from it, and the ClientToken fingerprint is taken
 * from it, so the same request means the same thing whichever way it was encoded.
 */
export type FlatParams = Map<string, string>;

/** Flattens a JSON body; booleans become `true`/`false` and numbers decimal, as the v1 encoding writes them. */
export function flattenJson(body: unknown): FlatParams {
  const flat: FlatParams = new Map();
  const walk = (node: unknown, prefix: string) => {
    if (node === null || node === undefined) return;
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        walk(item, `${prefix}.${i}`);
      });
    } else if (typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) walk(value, prefix ? `${prefix}.${key}` : key);
    } else {
      flat.set(prefix, String(node));
    }
  };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SimError('InvalidParameter', 'the request body must be a JSON object');
  }
  walk(body, '');
  return flat;
}

/** The shape of a dotted key with indexes replaced by `N`, for looking it up in a parameter table. */
export function keyShape(key: string): string {
  return key
    .split('.')
    .map((part) => (/^\d+$/.test(part) ? 'N' : part))
    .join('.');
}

export function unknownParameters(params: FlatParams, known: ReadonlySet<string>): string[] {
  return [...params.keys()].filter((key) => !known.has(keyShape(key)));
}

export function getString(params: FlatParams, key: string): string | undefined {
  return params.get(key);
}

export function getInteger(params: FlatParams, key: string, fallback?: number): number | undefined {
  const raw = params.get(key);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw))
    throw new SimError('InvalidParameterValue', `${key} must be an integer, got "${raw}"`);
  return Number(raw);
}

export function getBoolean(params: FlatParams, key: string): boolean | undefined {
  const raw = params.get(key);
  if (raw === undefined) return undefined;
  const lower = raw.toLowerCase();
  if (lower !== 'true' && lower !== 'false')
    throw new SimError('InvalidParameterValue', `${key} must be a boolean`);
  return lower === 'true';
}

/** The indexes present under `prefix.` (`prefix.N` or `prefix.N.*`); a gap is refused, as an array cannot have one. */
function indexesOf(params: FlatParams, prefix: string): number {
  const found = new Set<number>();
  const head = `${prefix}.`;
  for (const key of params.keys()) {
    if (!key.startsWith(head)) continue;
    const segment = key.slice(head.length).split('.')[0] ?? '';
    if (/^\d+$/.test(segment)) found.add(Number(segment));
  }
  for (let i = 0; i < found.size; i++) {
    if (!found.has(i))
      throw new SimError('InvalidParameter', `${prefix}.${i} is missing: list indexes must run from 0`);
  }
  return found.size;
}

/** The values of `prefix.0`, `prefix.1`, … (a list of scalars), in index order. */
export function getList(params: FlatParams, prefix: string): string[] {
  const count = indexesOf(params, prefix);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const value = params.get(`${prefix}.${i}`);
    if (value === undefined) throw new SimError('InvalidParameter', `${prefix}.${i} must be a value`);
    out.push(value);
  }
  return out;
}

/** How many `prefix.N.*` entries there are (a list of structures). */
export function countEntries(params: FlatParams, prefix: string): number {
  return indexesOf(params, prefix);
}

/**
 * An order-independent fingerprint of the business parameters (ClientToken excluded). Only boolean members
 * fold `TRUE` and `true` together; in a string member (InstanceName) the case is part of the value.
 */
export function fingerprint(params: FlatParams): string {
  return [...params]
    .filter(([key]) => key !== 'ClientToken')
    .map(([key, value]) => `${key}=${BOOLEAN_PARAMETERS.has(keyShape(key)) ? value.toLowerCase() : value}`)
    .sort()
    .join('&');
}
