import { createHmac, createSecretKey, hash, type KeyObject } from 'node:crypto';

/** Everything TC3-HMAC-SHA256 signs (docs/tencent.md, "TC3-HMAC-SHA256"). Pure: the timestamp is an input. */
export interface Tc3Input {
  method: 'POST' | 'GET';
  /** Host without port, as signed (`cvm.tencentcloudapi.com`). */
  host: string;
  /** The exact query string after `?` for GET; empty for POST. */
  query?: string;
  /** Sent and signed byte-identical (docs/tencent.md, "TC3-HMAC-SHA256"). */
  contentType: string;
  /** The exact body bytes; empty for GET. */
  payload: string | Uint8Array;
  /** Unix seconds, the value of X-TC-Timestamp. */
  timestamp: number;
  service: string;
  secretId: string;
  secretKey: string;
  /** Extra headers to sign besides content-type and host, e.g. `{ 'X-TC-Action': 'DescribeInstances' }`. */
  extraSignedHeaders?: Readonly<Record<string, string>>;
}

export interface Tc3Signature {
  authorization: string;
  signature: string;
  signedHeaders: string;
  canonicalRequest: string;
  stringToSign: string;
}

export const TC3_ALGORITHM = 'TC3-HMAC-SHA256';
/** SHA-256 of the empty payload (docs/tencent.md, "TC3-HMAC-SHA256" step 1). */
export const EMPTY_PAYLOAD_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// One-shot `hash()` is the same SHA-256 as createHash().update().digest() without the stream object.
const sha256Hex = (data: string | Uint8Array) => hash('sha256', data, 'hex');
const hmac = (key: string | Uint8Array, data: string) => createHmac('sha256', key).update(data).digest();

const SECONDS_PER_DAY = 86_400;
let lastDay = Number.NaN;
let lastDate = '';

/**
 * The credential-scope date: the UTC date of the timestamp, never local time (docs/tencent.md,
 * "TC3-HMAC-SHA256"). The last day's string is remembered: every call of a day formats the same date.
 */
export function tc3Date(timestamp: number): string {
  const day = Math.floor(timestamp / SECONDS_PER_DAY);
  if (day !== lastDay) {
    lastDate = new Date(timestamp * 1000).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastDate;
}

/** The TC3 signing key for a date and service (three chained HMACs); cacheable per (key, date, service). */
export function tc3SigningKey(secretKey: string, date: string, service: string): Buffer {
  return hmac(hmac(hmac(`TC3${secretKey}`, date), service), 'tc3_request');
}

/** Derived TC3 signing keys, reused while their date, service and secret stay the same. */
export interface Tc3KeyCache {
  /** The signing key as a KeyObject (its bytes do not print or serialise), derived only on a miss. */
  get(secretKey: string, date: string, service: string): KeyObject;
  /** How many keys were derived so far (for tests and the benchmark; never the keys themselves). */
  readonly derivations: number;
}

/** Entries a cache keeps: one per secret and service; a rotation or a second service adds one. */
export const TC3_KEY_CACHE_ENTRIES = 4;

/**
 * A tiny signing-key cache (docs/tencent.md, "Signing-key cache"): one entry per (secret, service) holding
 * the current date's key, at most `maxEntries` of them, the least recently derived dropped first. A new date or
 * a new secret misses and derives at once, so no stale key is ever used. Held as a KeyObject: Node's HMAC
 * takes it without re-importing raw key bytes on every signature.
 */
export function createTc3KeyCache(maxEntries = TC3_KEY_CACHE_ENTRIES): Tc3KeyCache {
  // A short array, searched in order: with at most a handful of entries this beats building a Map key.
  const entries: Array<{ secretKey: string; service: string; date: string; key: KeyObject }> = [];
  let derivations = 0;
  return {
    get(secretKey, date, service) {
      const at = entries.findIndex((e) => e.secretKey === secretKey && e.service === service);
      const entry = entries[at];
      if (entry && entry.date === date) return entry.key;
      const key = createSecretKey(tc3SigningKey(secretKey, date, service));
      derivations++;
      if (at >= 0) entries.splice(at, 1);
      if (entries.length >= maxEntries) entries.shift();
      entries.push({ secretKey, service, date, key });
      return key;
    },
    get derivations() {
      return derivations;
    },
  };
}

/**
 * Signs one request with TC3-HMAC-SHA256 and builds its Authorization header. `signingKey`, when given, must
 * be the key for this request's secret, date and service (from a Tc3KeyCache); without it the key is derived.
 */
export function signTc3(input: Tc3Input, signingKey?: Uint8Array | KeyObject): Tc3Signature {
  const contentType = input.contentType.trim().toLowerCase();
  const host = input.host.trim().toLowerCase();
  let signedHeaders = 'content-type;host';
  let canonicalHeaders = `content-type:${contentType}\nhost:${host}\n`;
  if (input.extraSignedHeaders) {
    const headers: Array<[string, string]> = [
      ['content-type', contentType],
      ['host', host],
    ];
    for (const [name, value] of Object.entries(input.extraSignedHeaders)) {
      headers.push([name.trim().toLowerCase(), value.trim().toLowerCase()]);
    }
    headers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    signedHeaders = headers.map(([name]) => name).join(';');
    canonicalHeaders = headers.map(([name, value]) => `${name}:${value}\n`).join('');
  }
  const payloadHash = input.payload.length === 0 ? EMPTY_PAYLOAD_SHA256 : sha256Hex(input.payload);
  const canonicalRequest = `${input.method}\n/\n${input.query ?? ''}\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
  const date = tc3Date(input.timestamp);
  const scope = `${date}/${input.service}/tc3_request`;
  const stringToSign = `${TC3_ALGORITHM}\n${input.timestamp}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const key = signingKey ?? tc3SigningKey(input.secretKey, date, input.service);
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return {
    authorization: `${TC3_ALGORITHM} Credential=${input.secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    signature,
    signedHeaders,
    canonicalRequest,
    stringToSign,
  };
}
