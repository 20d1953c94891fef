/**
 * The official Tencent Cloud SDK's signing code, used by the simulator to verify signatures. It is an
 * implementation nobody here wrote, so the simulator and the project's own signer can disagree — which is
 * what makes the simulator a test of that signer. (A devDependency: the simulator never ships in a Lambda.)
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface SdkSign {
  sign(secretKey: string, signString: string, method: 'HmacSHA1' | 'HmacSHA256'): string;
  sign3(input: {
    method: string;
    url: string;
    payload: Buffer | string;
    timestamp: number;
    service: string;
    secretId: string;
    secretKey: string;
    headers: Record<string, string>;
  }): string;
}

const Sign = (require('tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js') as { default: SdkSign })
  .default;
const { AbstractClient } =
  require('tencentcloud-sdk-nodejs-common/tencentcloud/common/abstract_client.js') as {
    AbstractClient: {
      prototype: { formatSignString(this: unknown, params: Record<string, string>): string };
    };
  };

/** The Authorization header the SDK computes for this request (it signs content-type;host). */
export function expectedTc3Authorization(input: {
  method: string;
  hostname: string;
  query: string;
  contentType: string;
  body: Buffer;
  timestamp: number;
  service: string;
  secretId: string;
  secretKey: string;
}): string {
  return Sign.sign3({
    method: input.method,
    url: `http://${input.hostname}/${input.query ? `?${input.query}` : ''}`,
    // The SDK hashes a Buffer as-is; GET signs the empty payload.
    payload: input.method === 'GET' ? '' : input.body,
    timestamp: input.timestamp,
    service: input.service,
    secretId: input.secretId,
    secretKey: input.secretKey,
    headers: { 'Content-Type': input.contentType },
  });
}

/** The v1 signature the SDK computes over these parameters (Signature excluded). */
export function expectedV1Signature(input: {
  method: string;
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
  return Sign.sign(
    input.secretKey,
    AbstractClient.prototype.formatSignString.call(client, input.params),
    input.signatureMethod,
  );
}
