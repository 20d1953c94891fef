/**
 * The official Tencent Cloud SDK's signing code as a test oracle (a devDependency, never bundled): the same
 * wrappers the simulator verifies requests with, in the signer tests' terms.
 */
import { expectedTc3Authorization, expectedV1Signature } from '../../local/cvm-simulator/oracle.ts';

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
  return expectedTc3Authorization({
    method: input.method,
    hostname: input.host,
    query: input.query ?? '',
    contentType: input.contentType,
    body: Buffer.from(input.payload),
    timestamp: input.timestamp,
    service: input.service,
    secretId: input.secretId,
    secretKey: input.secretKey,
  });
}

/** The SDK's v1 signature: its own string-to-sign builder and HMAC over the same parameters. */
export const sdkSignV1 = expectedV1Signature;
