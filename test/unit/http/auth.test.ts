import { describe, expect, it } from 'vitest';
import { UnauthenticatedError } from '../../../lib/errors.ts';
import { authenticate } from '../../../lib/http/auth.ts';
import { ALICE_ROLE, getJobEvent, iamIdentity, TOKENS, tokenAuth } from '../../helpers/events.ts';

const JOB_ID = '00000000-0000-4000-8000-000000000001';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('authenticate in token mode', () => {
  it('returns the configured name of a valid bearer token', () => {
    expect(authenticate(getJobEvent(JOB_ID, { bearer: TOKENS.alice.token }), tokenAuth())).toBe('alice');
  });

  it('accepts a token matching the second configured entry', () => {
    expect(authenticate(getJobEvent(JOB_ID, { bearer: TOKENS.bob.token }), tokenAuth())).toBe('bob');
  });

  it('reads the Authorization header whatever its case', () => {
    const event = getJobEvent(JOB_ID, {
      bearer: null,
      headers: { Authorization: `Bearer ${TOKENS.bob.token}` },
    });
    expect(authenticate(event, tokenAuth())).toBe('bob');
  });

  it.each([
    ['no Authorization header', null],
    ['a token nobody was given', 'zzzzzzzzzzzzzzzzzzzzzzzz'],
    ['a short token nobody was given', 'short-token'],
    ['a token with a space inside', 'alice-token 0123456789abcdef'],
  ])('refuses %s with 401 and a Bearer challenge', (_name, bearer) => {
    const error = thrown(() => authenticate(getJobEvent(JOB_ID, { bearer }), tokenAuth()));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error).toMatchObject({ kind: 'unauthenticated', challenge: 'Bearer realm="cvm-provisioner"' });
  });

  it('refuses a Basic Authorization header, naming the scheme to use', () => {
    const event = getJobEvent(JOB_ID, {
      bearer: null,
      headers: { authorization: `Basic ${Buffer.from(`alice:${TOKENS.alice.token}`).toString('base64')}` },
    });
    expect(() => authenticate(event, tokenAuth())).toThrow(
      'uses the Basic scheme; send Authorization: Bearer',
    );
  });

  it.each([
    ['no Authorization header', null, 'Send Authorization: Bearer <token>'],
    ['a token nobody was given', 'zzzzzzzzzzzzzzzzzzzzzzzz', 'not one of the configured tokens'],
    ['a malformed token', 'alice-token 0123456789abcdef', 'malformed'],
  ])('tells %s apart from the other refusals', (_name, bearer, message) => {
    expect(() => authenticate(getJobEvent(JOB_ID, { bearer }), tokenAuth())).toThrow(message);
  });

  it("authenticates a configured token of any length: a short one is its maker's choice, not unusable", () => {
    const auth = tokenAuth([{ name: 'carol', token: 'abc' }]);
    expect(authenticate(getJobEvent(JOB_ID, { bearer: 'abc' }), auth)).toBe('carol');
  });

  it('refuses a valid token of a caller that is not configured', () => {
    const event = getJobEvent(JOB_ID, { bearer: TOKENS.bob.token });
    expect(() => authenticate(event, tokenAuth([TOKENS.alice]))).toThrow(UnauthenticatedError);
  });

  it('ignores an IAM identity in token mode', () => {
    const event = getJobEvent(JOB_ID, { bearer: null, iam: iamIdentity() });
    expect(() => authenticate(event, tokenAuth())).toThrow(UnauthenticatedError);
  });
});

describe('authenticate in iam mode', () => {
  it('returns the role of an assumed-role userArn, not its session', () => {
    expect(authenticate(getJobEvent(JOB_ID, { bearer: null, iam: iamIdentity() }), { mode: 'iam' })).toBe(
      ALICE_ROLE,
    );
  });

  it('keeps the same caller across credential refreshes (new session names)', () => {
    const refreshed = iamIdentity(
      'arn:aws:sts::123456789012:assumed-role/platform-ci/aws-sdk-js-1795694400000',
    );
    expect(authenticate(getJobEvent(JOB_ID, { bearer: null, iam: refreshed }), { mode: 'iam' })).toBe(
      ALICE_ROLE,
    );
  });

  it('returns an IAM user ARN as it is', () => {
    const user = iamIdentity('arn:aws:iam::123456789012:user/ci-bot');
    expect(authenticate(getJobEvent(JOB_ID, { bearer: null, iam: user }), { mode: 'iam' })).toBe(
      'arn:aws:iam::123456789012:user/ci-bot',
    );
  });

  it('falls back to accountId:role id when the context has no userArn', () => {
    const event = getJobEvent(JOB_ID, {
      bearer: null,
      iam: { accountId: '123456789012', callerId: 'AROAX:bot' },
    });
    expect(authenticate(event, { mode: 'iam' })).toBe('123456789012:AROAX');
  });

  it('challenges a 401 in iam mode with the SigV4 scheme', () => {
    const error = thrown(() => authenticate(getJobEvent(JOB_ID, { bearer: null }), { mode: 'iam' }));
    expect(error).toMatchObject({ challenge: 'AWS4-HMAC-SHA256' });
  });

  it('refuses a request without authorizer context with 401', () => {
    const error = thrown(() => authenticate(getJobEvent(JOB_ID, { bearer: null }), { mode: 'iam' }));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error).toMatchObject({ kind: 'unauthenticated' });
  });

  it('refuses an empty iam context', () => {
    expect(() => authenticate(getJobEvent(JOB_ID, { bearer: null, iam: {} }), { mode: 'iam' })).toThrow(
      UnauthenticatedError,
    );
  });

  it('does not accept a bearer token in iam mode', () => {
    expect(() => authenticate(getJobEvent(JOB_ID, { bearer: TOKENS.alice.token }), { mode: 'iam' })).toThrow(
      UnauthenticatedError,
    );
  });
});
