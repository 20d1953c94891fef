import { createHmac } from 'node:crypto';

/**
 * The v1 signature methods (docs/tencent.md, "v1 signing"): HmacSHA256 is named in the parameters, HmacSHA1
 * may be implied.
 */
export const V1_METHODS = { HmacSHA1: 'sha1', HmacSHA256: 'sha256' } as const;
export type V1Method = keyof typeof V1_METHODS;

export interface V1Input {
  method: 'POST' | 'GET';
  /** Host as addressed, with a port only when one is in the URL (`cvm.tencentcloudapi.com`). */
  host: string;
  /** `/` for API 3.0, `/v2/index.php` for the legacy gateway. */
  path: string;
  /** Every parameter except Signature: common ones and the flattened business ones, raw (not encoded). */
  params: ReadonlyArray<readonly [string, string]>;
  secretKey: string;
  signatureMethod: V1Method;
}

/** Sorts parameters by raw key byte order (`InstanceIds.12` before `InstanceIds.2`; upper case first). */
export function sortParams(
  params: ReadonlyArray<readonly [string, string]>,
): Array<readonly [string, string]> {
  return [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The v1 string to sign: METHOD + host + path + `?` + sorted raw `key=value` pairs joined with `&`. */
export function v1StringToSign(input: Omit<V1Input, 'secretKey' | 'signatureMethod'>): string {
  const query = sortParams(input.params)
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  return `${input.method}${input.host}${input.path}?${query}`;
}

/** The v1 signature: base64 HMAC-SHA1 or HMAC-SHA256 of the string to sign, keyed with the secret key. */
export function signV1(input: V1Input): string {
  return createHmac(V1_METHODS[input.signatureMethod], input.secretKey)
    .update(v1StringToSign(input), 'utf8')
    .digest('base64');
}
