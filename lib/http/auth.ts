import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiToken } from '../config.ts';
import { UnauthenticatedError } from '../errors.ts';
import { type HttpEvent, header } from './types.ts';

export type AuthSettings = { mode: 'iam' } | { mode: 'token'; tokens: readonly ApiToken[] };

/**
 * The auth scheme is case-insensitive (RFC 9110 §11.1); the token is a token68 of any length up to 512. No
 * minimum: how strong a token is, is the choice of whoever made it (README: `npm run token`), and a minimum
 * here would only make some configured tokens unusable.
 */
const AUTHORIZATION = /^(\S+)(?:\s+(.*))?$/;
const TOKEN68 = /^[A-Za-z0-9._~+/=-]{1,512}$/;

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
  const refuse = (detail: string) => new UnauthenticatedError(detail, challenge);
  const value = header(event, 'authorization');
  if (value === undefined || value.trim() === '')
    throw refuse('Send Authorization: Bearer <token> (a token whose SHA-256 is in API_TOKENS)');
  const [, scheme = '', token = ''] = AUTHORIZATION.exec(value.trim()) ?? [];
  if (scheme.toLowerCase() !== 'bearer')
    throw refuse(`Authorization uses the ${scheme.slice(0, 20)} scheme; send Authorization: Bearer <token>`);
  if (token === '')
    throw refuse('Authorization says Bearer but gives no token: send Authorization: Bearer <token>');
  if (!TOKEN68.test(token))
    throw refuse('The bearer token is malformed: 1-512 letters, digits and -._~+/= with no spaces');
  const presented = createHash('sha256').update(token).digest();
  let caller: string | undefined;
  // Compare against every entry, so the time taken does not tell which (if any) matched.
  for (const entry of settings.tokens) {
    if (timingSafeEqual(presented, Buffer.from(entry.sha256, 'hex')) && caller === undefined)
      caller = entry.name;
  }
  if (caller === undefined) throw refuse('The bearer token is not one of the configured tokens (API_TOKENS)');
  return caller;
}
