import type { IncomingHttpHeaders } from 'node:http';
import { SimError } from './errors.ts';
import { expectedTc3Authorization, expectedV1Signature } from './oracle.ts';

/** Allowed clock skew between the signed timestamp and the server (docs/tencent.md, "TC3-HMAC-SHA256"). */
export const MAX_SKEW_SECONDS = 300;

const AUTHORIZATION =
  /^TC3-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{4}-\d{2}-\d{2})\/([^/,\s]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

export interface RawRequest {
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function checkTimestamp(raw: string | undefined, nowSeconds: number): number {
  if (raw === undefined || !/^\d+$/.test(raw))
    throw new SimError('MissingParameter', 'The request is missing a valid Timestamp');
  const timestamp = Number(raw);
  if (Math.abs(nowSeconds - timestamp) > MAX_SKEW_SECONDS) {
    throw new SimError(
      'AuthFailure.SignatureExpire',
      'The signature has expired: the timestamp is more than 300 s from server time',
    );
  }
  return timestamp;
}

function keyFor(keys: ReadonlyMap<string, string>, secretId: string): string {
  const key = keys.get(secretId);
  if (key === undefined) throw new SimError('AuthFailure.SecretIdNotFound', 'The SecretId is not found');
  return key;
}

/** Verifies a TC3-HMAC-SHA256 request with the official SDK's signing code; returns the SecretId. */
export function verifyTc3(
  request: RawRequest,
  keys: ReadonlyMap<string, string>,
  nowSeconds: number,
): string {
  const authorization = String(request.headers.authorization ?? '');
  const match = AUTHORIZATION.exec(authorization);
  if (!match) throw new SimError('AuthFailure.InvalidAuthorization', 'The Authorization header is malformed');
  const [, secretId = '', , service = '', signedHeaders] = match;
  if (signedHeaders !== 'content-type;host') {
    // The oracle signs exactly content-type;host, as every official SDK does.
    throw new SimError(
      'AuthFailure.InvalidAuthorization',
      'This simulator verifies SignedHeaders=content-type;host only',
    );
  }
  const secretKey = keyFor(keys, secretId);
  const timestamp = checkTimestamp(request.headers['x-tc-timestamp'] as string | undefined, nowSeconds);
  const host = String(request.headers.host ?? '');
  // The service is `cvm`; the official SDK names it after the endpoint's first label, which for an IP
  // endpoint is `127` — accept that too, and nothing else.
  if (service !== 'cvm' && service !== host.split('.')[0]) {
    throw new SimError(
      'AuthFailure.SignatureFailure',
      `The credential scope names the service \`${service}\`, not cvm`,
    );
  }
  const expected = expectedTc3Authorization({
    method: request.method,
    hostname: host.replace(/:\d+$/, ''),
    query: request.query,
    contentType: String(request.headers['content-type'] ?? ''),
    body: request.body,
    timestamp,
    service,
    secretId,
    secretKey,
  });
  if (expected !== authorization)
    throw new SimError('AuthFailure.SignatureFailure', 'The provided credentials could not be validated');
  return secretId;
}

/** Verifies a v1 (HmacSHA1 / HmacSHA256) request with the official SDK's signing code; returns the SecretId. */
export function verifyV1(
  request: RawRequest,
  params: Record<string, string>,
  keys: ReadonlyMap<string, string>,
  nowSeconds: number,
): string {
  const { Signature: signature, ...signed } = params;
  if (!signature) throw new SimError('MissingParameter', 'The request is missing Signature');
  const secretId = params.SecretId;
  if (!secretId) throw new SimError('MissingParameter', 'The request is missing SecretId');
  const method = params.SignatureMethod ?? 'HmacSHA1';
  if (method !== 'HmacSHA1' && method !== 'HmacSHA256') {
    throw new SimError('AuthFailure.InvalidAuthorization', `SignatureMethod ${method} is not supported`);
  }
  const secretKey = keyFor(keys, secretId);
  checkTimestamp(params.Timestamp, nowSeconds);
  if (!params.Nonce || !/^\d+$/.test(params.Nonce))
    throw new SimError('MissingParameter', 'The request is missing a Nonce');
  const expected = expectedV1Signature({
    method: request.method,
    host: String(request.headers.host ?? ''),
    path: request.path,
    params: signed,
    secretKey,
    signatureMethod: method,
  });
  if (expected !== signature)
    throw new SimError('AuthFailure.SignatureFailure', 'The provided credentials could not be validated');
  return secretId;
}
