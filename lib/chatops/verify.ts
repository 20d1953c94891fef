import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Who may post a slash command: Slack signs every request with the app's signing secret
 * (https://docs.slack.dev/authentication/verifying-requests-from-slack), Mattermost sends the command's
 * token (https://developers.mattermost.com/integrate/slash-commands/custom/). Pure: the handler passes
 * the headers as plain strings, the body as the bytes received, and the clock's time.
 */

/** Slack refuses a request whose timestamp is more than five minutes from now: a replay window of 300 s. */
export const SLACK_TOLERANCE_SECONDS = 300;

/** A Unix time in seconds: digits only (no sign, no fraction), and few enough to be a safe integer. */
const TIMESTAMP = /^\d{1,15}$/;
/** Slack's only signature version so far; any case of hex is accepted, compared in lower case. */
const SLACK_SIGNATURE = /^v0=[0-9a-fA-F]+$/;
/** `Authorization: Token <token>`, the scheme in any case (RFC 9110 §11.1: schemes are case-insensitive). */
const MATTERMOST_AUTHORIZATION = /^token\s+(\S+)$/i;

/** Equal bytes, in time that depends only on the lengths; different lengths are simply unequal. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether a request carries Slack's signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` under the
 * signing secret, over the body's bytes as received (decoding and re-encoding them would change what was
 * signed), with a timestamp at most SLACK_TOLERANCE_SECONDS from now either way.
 */
export function verifySlackSignature(input: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer;
  nowSeconds: number;
}): { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' } {
  const { timestamp, signature } = input;
  if (timestamp === undefined || timestamp === '' || signature === undefined || signature === '')
    return { ok: false, reason: 'missing' };
  if (!TIMESTAMP.test(timestamp) || !SLACK_SIGNATURE.test(signature))
    return { ok: false, reason: 'malformed' };
  // Checked before the HMAC, as Slack advises: a replayed request is refused without any work on its body.
  // Written as "not within", so a clock that reads NaN refuses rather than accepts.
  if (!(Math.abs(input.nowSeconds - Number(timestamp)) <= SLACK_TOLERANCE_SECONDS))
    return { ok: false, reason: 'stale' };
  // With no secret anyone can compute the HMAC: a missing secret must refuse everything, not accept it.
  if (input.signingSecret === '') return { ok: false, reason: 'mismatch' };
  const expected = createHmac('sha256', input.signingSecret)
    .update(`v0:${timestamp}:`)
    .update(input.rawBody)
    .digest('hex');
  const matches = sameBytes(Buffer.from(`v0=${expected}`), Buffer.from(signature.toLowerCase()));
  return matches ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/**
 * Whether a Mattermost request carries the slash command's token, as `Authorization: Token <token>` or as the
 * form field `token` (Mattermost sends both). Every token presented must match, and at least one must be;
 * both sides are hashed first so the comparison takes the same time whatever their lengths. An empty
 * expected token matches nothing (an unset setting must not open the endpoint).
 */
export function verifyMattermostToken(input: {
  expected: string;
  authorization: string | undefined;
  formToken: string | undefined;
}): boolean {
  if (input.expected === '') return false;
  const presented: string[] = [];
  const header = MATTERMOST_AUTHORIZATION.exec(input.authorization?.trim() ?? '')?.[1];
  if (header !== undefined) presented.push(header);
  if (input.formToken !== undefined && input.formToken !== '') presented.push(input.formToken);
  if (presented.length === 0) return false;
  const digest = (token: string) => createHash('sha256').update(token).digest();
  const expected = digest(input.expected);
  // Every token is compared, so the time taken does not tell which one failed.
  return presented.map((token) => timingSafeEqual(digest(token), expected)).every(Boolean);
}
