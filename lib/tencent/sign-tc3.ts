import { createHash, createHmac } from 'node:crypto';

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

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Uint8Array, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * The credential-scope date: the UTC date of the timestamp, never local time (docs/tencent.md,
 * "TC3-HMAC-SHA256").
 */
export function tc3Date(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

/** The TC3 signing key for a date and service; cacheable per (key, date, service). */
export function tc3SigningKey(secretKey: string, date: string, service: string): Buffer {
  return hmac(hmac(hmac(`TC3${secretKey}`, date), service), 'tc3_request');
}

/** Signs one request with TC3-HMAC-SHA256 and builds its Authorization header. */
export function signTc3(input: Tc3Input, signingKey?: Uint8Array): Tc3Signature {
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
