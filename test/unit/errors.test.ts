import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  ClaimHeldError,
  ClientTokenInUseError,
  ConfigError,
  CredentialsError,
  IdempotencyInProgressError,
  IdempotencyMismatchError,
  IllegalTransitionError,
  InvalidRequestError,
  isRetryable,
  JobConflictError,
  JobExistsError,
  mayHaveBeenApplied,
  NotFoundError,
  PayloadTooLargeError,
  PolicyDeniedError,
  ProvisionerError,
  RequestNotSentError,
  ServiceUnavailableError,
  TencentApiError,
  UnauthenticatedError,
  UnknownOutcomeError,
  UnsupportedMediaTypeError,
} from '../../lib/errors.ts';

const aws = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), {
    name,
    $metadata: status === undefined ? {} : { httpStatusCode: status },
    ...extra,
  });

const CASES: ReadonlyArray<readonly [string, ProvisionerError, string, boolean]> = [
  ['a refused request', new InvalidRequestError([]), 'InvalidParameter', false],
  ['a missing login', new UnauthenticatedError('no'), 'AuthFailure', false],
  ['a policy denial', new PolicyDeniedError([]), 'UnauthorizedOperation', false],
  ['an unknown job', new NotFoundError('no'), 'ResourceNotFound', false],
  ['a key in flight', new IdempotencyInProgressError(), 'IdempotencyKey.InProgress', true],
  ['a key reused', new IdempotencyMismatchError(), 'IdempotencyKey.PayloadMismatch', false],
  ['a ClientToken in use', new ClientTokenInUseError(), 'InvalidClientToken.InUse', false],
  ['a big body', new PayloadTooLargeError(1), 'RequestSizeLimitExceeded', false],
  ['a media type', new UnsupportedMediaTypeError('text/plain'), 'UnsupportedMediaType', false],
  ['a store outage', new ServiceUnavailableError('down', 5), 'ServiceUnavailable', true],
  ['bad configuration', new ConfigError(['X is required']), 'ConfigError', false],
  ['an existing job', new JobExistsError('j'), 'JobExists', false],
  ['an illegal move', new IllegalTransitionError('submit', 'QUEUED'), 'IllegalTransition', false],
  ['a lost race', new JobConflictError('j', { status: 'QUEUED', version: 1 }, null), 'JobConflict', false],
  ['a live claim', new ClaimHeldError('j', 'T'), 'ClaimHeld', true],
  [
    'a throttled Tencent call',
    new TencentApiError('RequestLimitExceeded', 'slow down', {
      requestId: 'r',
      retryable: true,
      errorClass: 'transient',
    }),
    'RequestLimitExceeded',
    true,
  ],
  [
    'a refused Tencent call',
    new TencentApiError('InvalidZone.MismatchRegion', 'no', {
      requestId: 'r',
      retryable: false,
      errorClass: 'invalid',
    }),
    'InvalidZone.MismatchRegion',
    false,
  ],
  ['an unknown outcome', new UnknownOutcomeError('RequestTimeout', 'late'), 'RequestTimeout', true],
  [
    'a request not sent, retryable',
    new RequestNotSentError('RequestNotSent', 'x', { retryable: true }),
    'RequestNotSent',
    true,
  ],
  ['missing credentials', new CredentialsError('none'), 'CredentialsError', false],
];

describe('the error family', () => {
  it.each(CASES)(
    'gives %s its stable code and says whether retrying can help',
    (_name, error, code, retryable) => {
      expect(error).toBeInstanceOf(ProvisionerError);
      expect(error.code).toBe(code);
      expect(error.name).toBe(error.constructor.name);
      expect(isRetryable(error)).toBe(retryable);
    },
  );

  it('keeps the cause', () => {
    const cause = new Error('underneath');
    expect(new ServiceUnavailableError('down', 5, cause).cause).toBe(cause);
    expect(new UnknownOutcomeError('X', 'y', { cause }).cause).toBe(cause);
    expect(new CredentialsError('none', { cause }).cause).toBe(cause);
  });

  it('exposes the message of a refusal only', () => {
    expect(new InvalidRequestError([]).expose).toBe(true);
    expect(new JobConflictError('j', { status: 'QUEUED', version: 1 }, null).expose).toBe(false);
  });
});

describe('isRetryable on what the AWS SDK throws', () => {
  it.each([
    ['throttling, whatever its status', aws('ThrottlingException', 400), true],
    ['DynamoDB over its throughput', aws('ProvisionedThroughputExceededException', 400), true],
    ['a 500', aws('InternalServerError', 500), true],
    ['a timeout, which never got a status', aws('TimeoutError'), true],
    ['an error the SDK marked retryable', aws('Whatever', 400, { $retryable: {} }), true],
    ['a validation error', aws('ValidationException', 400), false],
    ['a missing table', aws('ResourceNotFoundException', 400), false],
    [
      'a failed condition',
      new ConditionalCheckFailedException({ message: 'x', $metadata: { httpStatusCode: 400 } }),
      false,
    ],
  ])('answers %s: %s', (_name, error, retryable) => {
    expect(isRetryable(error)).toBe(retryable);
  });

  it.each([
    ['a plain Error', new Error('bug')],
    ['a TypeError', new TypeError('undefined is not a function')],
    ['a string', 'boom'],
    ['undefined', undefined],
  ])('answers no for %s: a bug is not retried in-process', (_name, error) => {
    expect(isRetryable(error)).toBe(false);
  });
});

describe('mayHaveBeenApplied', () => {
  it.each([
    ['a 4xx answer', aws('ValidationException', 400), false],
    ['throttling', aws('ThrottlingException', 400), false],
    ['a refused connection', aws('Error', undefined, { code: 'ECONNREFUSED' }), false],
    [
      'an error the SDK threw before sending (no $metadata: an item it could not marshal)',
      new Error('Unsupported type'),
      false,
    ],
    ['a 5xx', aws('InternalServerError', 500), true],
    ['a timeout after sending', aws('TimeoutError', undefined, { code: 'ETIMEDOUT' }), true],
    ['a reset connection', aws('Error', undefined, { code: 'ECONNRESET' }), true],
  ])('answers %s: %s', (_name, error, applied) => {
    expect(mayHaveBeenApplied(error)).toBe(applied);
  });
});
