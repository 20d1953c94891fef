/**
 * The official Tencent Cloud SDK's own signing code, as a test oracle (a devDependency, never bundled).
 * Reached through its CommonJS modules, as the SDK exposes no public signing API.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface Sign3Input {
  method: 'POST' | 'GET';
  url: string;
  payload: Buffer | string;
  timestamp: number;
  service: string;
  secretId: string;
  secretKey: string;
  headers: Record<string, string>;
}

const Sign = (
  require('tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js') as {
    default: {
      sign3(input: Sign3Input): string;
      sign(secretKey: string, signStr: string, method: string): string;
    };
  }
).default;
const { AbstractClient } =
  require('tencentcloud-sdk-nodejs-common/tencentcloud/common/abstract_client.js') as {
    AbstractClient: {
      prototype: { formatSignString(this: unknown, params: Record<string, string>): string };
    };
  };

/** The SDK's TC3 Authorization header for exactly these bytes. */
export function sdkSign3(input: {
  method: 'POST' | 'GET';
  host: string;
  query?: string;
  contentType: string;
  payload: Buffer | string;
  timestamp: number;
  service: string;
  secretId: string;
  secretKey: string;
}): string {
  return Sign.sign3({
    method: input.method,
    url: `https://${input.host}/${input.query ? `?${input.query}` : ''}`,
    payload: input.method === 'GET' ? '' : Buffer.from(input.payload),
    timestamp: input.timestamp,
    service: input.service,
    secretId: input.secretId,
    secretKey: input.secretKey,
    headers: { 'Content-Type': input.contentType },
  });
}

/** The SDK's v1 signature: its own string-to-sign builder and HMAC over the same parameters. */
export function sdkSignV1(input: {
  method: 'POST' | 'GET';
  host: string;
  path: string;
  params: Record<string, string>;
  secretKey: string;
  signatureMethod: 'HmacSHA1' | 'HmacSHA256';
}): string {
  const client = {
    profile: { httpProfile: { reqMethod: input.method } },
    endpoint: input.host,
    path: input.path,
  };
  const signString = AbstractClient.prototype.formatSignString.call(client, input.params);
  return Sign.sign(input.secretKey, signString, input.signatureMethod);
}
