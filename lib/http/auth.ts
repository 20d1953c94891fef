import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiToken } from '../config.ts';
import { UnauthenticatedError } from '../errors.ts';
import { type HttpEvent, header } from './types.ts';

export type AuthSettings = { mode: 'iam' } | { mode: 'token'; tokens: readonly ApiToken[] };

/** The auth scheme is case-insensitive (RFC 9110 §11.1); the token is a token68. */
const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]{16,512})$/i;

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/;

/**
 * The caller behind an IAM ARN. An assumed-role ARN ends in a session name that SDKs often make up per
 * credential refresh (`aws-sdk-js-1700000000000`): the caller is the role, so a refresh keeps its jobs and keys.
 */
export function stableIdentity(userArn: string): string {
  const match = ASSUMED_ROLE.exec(userArn);
  return match ? `arn:${match[1]}:iam::${match[2]}:role/${match[3]}` : userArn;
}

/**
 * The caller of a request. `iam`: API Gateway's IAM authorizer has already verified the SigV4 signature; the
 * caller is its user (or, for an assumed role, the role) ARN. `token`: `Authorization: Bearer …`, whose SHA-256 is compared in constant time with
 * every configured hash; the matching entry's name is the caller.
 */
export function authenticate(event: HttpEvent, settings: AuthSettings): string {
  if (settings.mode === 'iam') {
    const iam = event.requestContext.authorizer?.iam;
    const caller = iam?.userArn
      ? stableIdentity(iam.userArn)
      : iam?.accountId && iam.callerId
        ? `${iam.accountId}:${iam.callerId.split(':')[0]}`
        : undefined;
    if (!caller) {
      throw new UnauthenticatedError('The request carries no IAM identity', 'AWS4-HMAC-SHA256');
    }
    return caller;
  }
  const challenge = 'Bearer realm="cvm-provisioner"';
  const match = BEARER.exec(header(event, 'authorization') ?? '');
  if (!match?.[1]) throw new UnauthenticatedError('Send Authorization: Bearer <token>', challenge);
  const presented = createHash('sha256').update(match[1]).digest();
  let caller: string | undefined;
  // Compare against every entry, so the time taken does not tell which (if any) matched.
  for (const token of settings.tokens) {
    if (timingSafeEqual(presented, Buffer.from(token.sha256, 'hex')) && caller === undefined)
      caller = token.name;
  }
  if (caller === undefined) throw new UnauthenticatedError('The bearer token is not valid', challenge);
  return caller;
}
