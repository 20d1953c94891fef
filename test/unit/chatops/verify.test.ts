import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  SLACK_TOLERANCE_SECONDS,
  verifyMattermostToken,
  verifySlackSignature,
} from '../../../lib/chatops/verify.ts';

/** Slack's published example (https://docs.slack.dev/authentication/verifying-requests-from-slack). */
const SLACK = {
  signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
    '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
    '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
    '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
} as const;
const SIGNED_AT = Number(SLACK.timestamp);

function slack(overrides: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) {
  return verifySlackSignature({
    signingSecret: SLACK.signingSecret,
    timestamp: SLACK.timestamp,
    signature: SLACK.signature,
    rawBody: Buffer.from(SLACK.body),
    nowSeconds: SIGNED_AT,
    ...overrides,
  });
}

/** A signature made the way Slack makes one, over exactly these bytes. */
const sign = (timestamp: string, body: Buffer, secret: string = SLACK.signingSecret) =>
  `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;

describe('verifySlackSignature', () => {
  it("verifies Slack's published example", () => {
    expect(slack()).toEqual({ ok: true });
  });

  it('accepts the signature in upper-case hex', () => {
    expect(slack({ signature: `v0=${SLACK.signature.slice(3).toUpperCase()}` })).toEqual({ ok: true });
  });

  it('refuses a forged signature (one character changed) as a mismatch', () => {
    const forged = `${SLACK.signature.slice(0, -1)}${SLACK.signature.endsWith('3') ? '4' : '3'}`;
    expect(slack({ signature: forged })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a body changed by one character', () => {
    expect(slack({ rawBody: Buffer.from(SLACK.body.replace('foobar', 'foobaz')) })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('refuses a body re-encoded differently (the same form, other bytes)', () => {
    // Decoding the form and encoding it again gives `+`/`%2F` choices and a charset of its own.
    const reencoded = new URLSearchParams(SLACK.body).toString().replace('%2Fwebhook', '/webhook');
    expect(reencoded).not.toBe(SLACK.body);
    expect(slack({ rawBody: Buffer.from(reencoded) })).toEqual({ ok: false, reason: 'mismatch' });
    const latin1 = Buffer.from('text=caf\u00e9', 'latin1');
    const utf8 = Buffer.from('text=caf\u00e9', 'utf8');
    expect(slack({ rawBody: utf8, signature: sign(SLACK.timestamp, latin1) })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(slack({ rawBody: latin1, signature: sign(SLACK.timestamp, latin1) })).toEqual({ ok: true });
  });

  it('signs the raw bytes, even ones that are not UTF-8', () => {
    const body = Buffer.from([0x74, 0x3d, 0xff, 0xfe, 0x00, 0x80]);
    expect(slack({ rawBody: body, signature: sign(SLACK.timestamp, body) })).toEqual({ ok: true });
  });

  it('refuses a signature under another secret', () => {
    const body = Buffer.from(SLACK.body);
    expect(slack({ signature: sign(SLACK.timestamp, body, 'another-secret') })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('refuses everything when the signing secret is empty', () => {
    const body = Buffer.from(SLACK.body);
    expect(slack({ signingSecret: '', signature: sign(SLACK.timestamp, body, '') })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it.each([
    ['a shorter signature', SLACK.signature.slice(0, -2)],
    ['a longer signature', `${SLACK.signature}00`],
    ['an odd-length signature', `${SLACK.signature}0`],
  ])('refuses %s as a mismatch, without throwing', (_name, signature) => {
    expect(slack({ signature })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it.each([
    ['no timestamp', { timestamp: undefined }],
    ['no signature', { signature: undefined }],
    ['an empty timestamp', { timestamp: '' }],
    ['an empty signature', { signature: '' }],
  ])('refuses %s as missing', (_name, overrides) => {
    expect(slack(overrides)).toEqual({ ok: false, reason: 'missing' });
  });

  it.each([
    ['a v1 signature', { signature: `v1=${SLACK.signature.slice(3)}` }],
    ['a signature that is not hex', { signature: `v0=${'g'.repeat(64)}` }],
    ['a signature without its version', { signature: SLACK.signature.slice(3) }],
    ['a bare v0=', { signature: 'v0=' }],
    ['a timestamp with a fraction', { timestamp: `${SLACK.timestamp}.5` }],
    ['a negative timestamp', { timestamp: `-${SLACK.timestamp}` }],
    ['a timestamp in words', { timestamp: 'yesterday' }],
    ['a timestamp with spaces', { timestamp: ` ${SLACK.timestamp}` }],
    ['a huge timestamp', { timestamp: '9'.repeat(400) }],
  ])('refuses %s as malformed', (_name, overrides) => {
    expect(slack(overrides)).toEqual({ ok: false, reason: 'malformed' });
  });

  it.each([-299, 299, -SLACK_TOLERANCE_SECONDS, SLACK_TOLERANCE_SECONDS])(
    'accepts a timestamp %i s from now',
    (offset) => {
      expect(slack({ nowSeconds: SIGNED_AT - offset })).toEqual({ ok: true });
    },
  );

  it.each([-301, 301, -86_400, 86_400])('refuses a timestamp %i s from now as stale', (offset) => {
    expect(slack({ nowSeconds: SIGNED_AT - offset })).toEqual({ ok: false, reason: 'stale' });
  });

  it('refuses when the clock reads NaN', () => {
    expect(slack({ nowSeconds: Number.NaN })).toEqual({ ok: false, reason: 'stale' });
  });

  it('checks the timestamp before the signature: a replay is stale, whatever it carries', () => {
    expect(slack({ nowSeconds: SIGNED_AT + 3600, signature: `v0=${'0'.repeat(64)}` })).toEqual({
      ok: false,
      reason: 'stale',
    });
  });
});

describe('verifyMattermostToken', () => {
  const expected = 'xr3j5x3p4pfo8pizyqyuoux6ga';
  const verify = (authorization: string | undefined, formToken: string | undefined, want = expected) =>
    verifyMattermostToken({ expected: want, authorization, formToken });

  it('accepts the token in the Authorization header', () => {
    expect(verify(`Token ${expected}`, undefined)).toBe(true);
  });

  it.each(['token', 'TOKEN', 'ToKeN'])('reads the %s scheme whatever its case', (scheme) => {
    expect(verify(`${scheme} ${expected}`, undefined)).toBe(true);
  });

  it('accepts the token in the form field', () => {
    expect(verify(undefined, expected)).toBe(true);
  });

  it('accepts the header and the form field together, as Mattermost sends them', () => {
    expect(verify(`Token ${expected}`, expected)).toBe(true);
  });

  it.each([
    ['a wrong header token', `Token ${expected.slice(0, -1)}x`, undefined],
    ['a wrong form token', undefined, 'wrong'],
    ['a longer form token', undefined, `${expected}x`],
    ['a right header with a wrong form token', `Token ${expected}`, 'wrong'],
    ['a wrong header with a right form token', 'Token wrong', expected],
    ['nothing at all', undefined, undefined],
    ['an empty form token', undefined, ''],
    ['the token under another scheme', `Bearer ${expected}`, undefined],
    ['the scheme without a token', 'Token', undefined],
    ['the bare token as the header', expected, undefined],
  ])('refuses %s', (_name, authorization, formToken) => {
    expect(verify(authorization, formToken)).toBe(false);
  });

  it('never matches an empty expected token, not even an empty one presented', () => {
    expect(verify(undefined, '', '')).toBe(false);
    expect(verify('Token ', '', '')).toBe(false);
    expect(verify(undefined, 'anything', '')).toBe(false);
  });
});
