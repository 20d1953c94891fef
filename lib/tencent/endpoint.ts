import { isIP } from 'node:net';

/** Tencent API endpoint: https always; plain http only to a loopback address (the local simulator). */
export interface Endpoint {
  origin: string;
  /** Host as addressed, port included when the URL names one (signed by v1). */
  host: string;
  /** Host without port (signed by TC3, as the official SDK does). */
  hostname: string;
  /** `/` for API 3.0; `/v2/index.php` for the legacy gateway (v1 signing only). */
  path: string;
}

export const DEFAULT_ENDPOINT = 'https://cvm.tencentcloudapi.com';

function isLoopback(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

/** Parses and checks an endpoint URL; throws a plain Error naming what is wrong (config reports it). */
export function parseEndpoint(url: string): Endpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${url} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopback(parsed.hostname))) {
    throw new Error(`${url} must use https (plain http is allowed only for a loopback address)`);
  }
  if (parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw new Error(`${url} must not carry a query, fragment or credentials`);
  }
  return {
    origin: parsed.origin,
    host: parsed.host,
    hostname: parsed.hostname,
    path: parsed.pathname || '/',
  };
}
