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

/** Tencent's nearest access point: for calls that name no region (DescribeRegions, the cvm CLI without one). */
export const DEFAULT_ENDPOINT = 'https://cvm.tencentcloudapi.com';

const REGION = /^[a-z]+(?:-[a-z0-9]+)+$/;

/**
 * A region's own host, `cvm.<region>.tencentcloudapi.com` (finance regions included: `cvm.ap-shanghai-fsi…`).
 * Rate limits count per access region, so calls for a region go to its host (docs/tencent.md, "Endpoints").
 */
export function regionalEndpoint(region: string | undefined): string {
  if (region === undefined) return DEFAULT_ENDPOINT;
  if (!REGION.test(region)) throw new Error(`${region} is not a region id`);
  return `https://cvm.${region}.tencentcloudapi.com`;
}

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
