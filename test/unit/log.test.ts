import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobConflictError, ServiceUnavailableError, TencentApiError } from '../../lib/errors.ts';
import { createLogger, jobLogger, redactForLog, withFields } from '../../lib/log.ts';
import { lambdaContext } from '../helpers/events.ts';

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

describe('the lines written through Powertools', () => {
  const lambda = (awsRequestId: string): Context => ({
    ...lambdaContext('cvm-provisioner-dev-submit', 90_000),
    awsRequestId,
  });
  const capture = (level: 'debug' | 'info' = 'debug') => {
    const lines: string[] = [];
    const logger = createLogger({ level, sink: (line) => lines.push(line), base: { service: 'submit' } });
    return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
  };
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('writes level, message, timestamp and service first, then the fields', () => {
    const { logger, lines } = capture();
    logger.warn('the job is retried later', { jobId: 'j-1', delaySeconds: 5 });
    const record = JSON.parse(lines[0] ?? '{}');
    expect(Object.keys(record)).toEqual([
      'level',
      'message',
      'timestamp',
      'service',
      'jobId',
      'delaySeconds',
    ]);
    expect(record).toMatchObject({ level: 'warn', service: 'submit', jobId: 'j-1', delaySeconds: 5 });
    expect(new Date(record.timestamp).toISOString()).toBe(record.timestamp);
  });

  it('adds the invocation’s request id, function name and cold start to every line after addContext', () => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    const { logger, records } = capture();
    logger.info('at init');
    logger.addContext(lambda('req-1'));
    logger.info('first invocation');
    logger.addContext(lambda('req-2'));
    logger.info('second invocation');
    expect(records()[0]).not.toHaveProperty('function_request_id');
    expect(records().slice(1)).toEqual([
      expect.objectContaining({
        function_name: 'cvm-provisioner-dev-submit',
        function_request_id: 'req-1',
        cold_start: true,
      }),
      expect.objectContaining({ function_request_id: 'req-2', cold_start: false }),
    ]);
  });

  it('puts the job id, caller and Tencent RequestId on every line of a job logger; a line’s own RequestId wins', () => {
    const { logger, records } = capture();
    const log = jobLogger(logger, { jobId: 'j-1', requestedBy: 'alice', submitRequestId: 'tc-run' });
    log.info('job finished', { outcome: 'succeed' });
    log.warn('TerminateInstances did not go through', { requestId: 'tc-terminate' });
    jobLogger(logger, { jobId: 'j-2', requestedBy: 'bob', submitRequestId: null }).info('queued');
    expect(records()).toEqual([
      expect.objectContaining({ jobId: 'j-1', caller: 'alice', requestId: 'tc-run', outcome: 'succeed' }),
      expect.objectContaining({ jobId: 'j-1', caller: 'alice', requestId: 'tc-terminate' }),
      expect.objectContaining({ jobId: 'j-2', caller: 'bob' }),
    ]);
    expect(records()[2]).not.toHaveProperty('requestId');
  });

  it('redacts what a job logger adds as well as what a line carries', () => {
    const { logger, lines } = capture();
    withFields(logger, { headers: { authorization: 'Bearer abc123' } }).error('failed', {
      request: { LoginSettings: { Password: 'p4ss' } },
      error: Object.assign(new Error('boom'), { config: { secretKey: 'k3y' } }),
    });
    expect(lines.join('\n')).not.toMatch(/abc123|p4ss|k3y/);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      headers: { authorization: '[REDACTED]' },
      request: { LoginSettings: { Password: '[REDACTED]' } },
      error: { name: 'Error', message: 'boom' },
    });
  });

  it('keeps a null field, and a field named like one Powertools reserves under another name', () => {
    const { logger, records } = capture();
    logger.info('webhook attempt failed', {
      nextAttemptAt: null,
      message: 'the receiver said 500',
      level: 3,
    });
    expect(records()[0]).toMatchObject({
      level: 'info',
      message: 'webhook attempt failed',
      nextAttemptAt: null,
      message_: 'the receiver said 500',
      level_: 3,
    });
  });

  it('writes nothing below its level', () => {
    const { logger, lines } = capture('info');
    logger.debug('noise');
    logger.info('signal');
    expect(lines).toHaveLength(1);
  });

  it('writes to stdout through Powertools when no sink is given', () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      createLogger({ base: { service: 'api' } }).info('to stdout', { jobId: 'j-1' });
    } finally {
      spy.mockRestore();
    }
    expect(written).toHaveLength(1);
    expect(written[0]?.endsWith('\n')).toBe(true);
    expect(JSON.parse(written[0] ?? '{}')).toMatchObject({ level: 'info', service: 'api', jobId: 'j-1' });
  });
});
