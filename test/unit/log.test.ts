import { describe, expect, it } from 'vitest';
import { JobConflictError, ServiceUnavailableError, TencentApiError } from '../../lib/errors.ts';
import { createLogger, redactForLog } from '../../lib/log.ts';

describe('redactForLog', () => {
  it('replaces secret-looking members at any depth, keeping identifiers', () => {
    expect(
      redactForLog({
        request: { LoginSettings: { Password: 'p4ss' }, ClientToken: 'ct-1' },
        headers: { authorization: 'Bearer x', 'x-tc-token': 't' },
        SecretId: 'AKID1',
        SecretKey: 'k',
      }),
    ).toEqual({
      request: { LoginSettings: { Password: '[REDACTED]' }, ClientToken: 'ct-1' },
      headers: { authorization: '[REDACTED]', 'x-tc-token': '[REDACTED]' },
      SecretId: 'AKID1',
      SecretKey: '[REDACTED]',
    });
  });

  it('keeps an error its name, code, message, retryability, stack and chain of causes', () => {
    const root = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const error = new ServiceUnavailableError('down', 5, root);
    expect(redactForLog(error)).toMatchObject({
      name: 'ServiceUnavailableError',
      message: 'down',
      code: 'ServiceUnavailable',
      retryable: true,
      retryAfterSeconds: 5,
      stack: error.stack,
      cause: { name: 'Error', message: 'socket hang up', code: 'ECONNRESET', stack: root.stack },
    });
  });

  it("keeps what the project's errors carry for an operator: Tencent's RequestId, the states of a lost race", () => {
    const tencent = new TencentApiError('InternalError', 'x', {
      requestId: 'req-9',
      retryable: true,
      errorClass: 'transient',
    });
    expect(redactForLog(tencent)).toMatchObject({ requestId: 'req-9', errorClass: 'transient' });
    const race = new JobConflictError(
      'j',
      { status: 'QUEUED', version: 1 },
      { status: 'SUBMITTING', version: 2 },
    );
    expect(redactForLog(race)).toMatchObject({ expected: { version: 1 }, current: { status: 'SUBMITTING' } });
  });

  it("keeps an AWS SDK error's status and request id", () => {
    const error = Object.assign(new Error('Throttled'), {
      $metadata: { httpStatusCode: 400, requestId: 'aws-1' },
    });
    expect(redactForLog(error)).toMatchObject({ httpStatus: 400, awsRequestId: 'aws-1' });
  });

  it('keeps only those members, so what else an error carries does not reach a line', () => {
    const error = Object.assign(
      new TencentApiError('X', 'refused', { requestId: 'r', retryable: false, errorClass: 'invalid' }),
      {
        params: { LoginSettings: { Password: 'p4ss' } },
      },
    );
    expect(JSON.stringify(redactForLog(error))).not.toContain('p4ss');
  });

  it('stops following a circular cause chain', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.defineProperty(a, 'cause', { value: b });
    expect(() => JSON.stringify(redactForLog(a))).not.toThrow();
  });

  it('writes one JSON line per entry, with the error redacted', () => {
    const lines: string[] = [];
    createLogger({ sink: (line) => lines.push(line) }).error('failed', {
      error: new Error('boom'),
      password: 'p4ss',
    });
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] ?? '{}');
    expect(record).toMatchObject({
      level: 'error',
      message: 'failed',
      password: '[REDACTED]',
      error: { message: 'boom' },
    });
  });
});
