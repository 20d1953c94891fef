import { describe, expect, it } from 'vitest';
import {
  IdempotencyInProgressError,
  InvalidRequestError,
  REFUSAL_KINDS,
  RequestError,
  ServiceUnavailableError,
  UnauthenticatedError,
} from '../../../lib/errors.ts';
import { PROBLEM_TYPE_PREFIX, problemResponse, REFUSAL_STATUS } from '../../../lib/http/problem.ts';
import { problemOf } from '../../helpers/events.ts';
import { captureLogs } from '../../helpers/logs.ts';

function respond(error: unknown) {
  const logs = captureLogs();
  const response = problemResponse(error, {
    instance: '/v1/run-instances',
    requestId: 'req-1',
    logger: logs.logger,
  });
  return { response, logs };
}

describe('problemResponse', () => {
  it('writes a request error as problem+json with its status, code and violations', () => {
    const violation = { param: 'ImageId', code: 'InvalidImageId.Malformed', message: 'is malformed' };
    const { response } = respond(new InvalidRequestError([violation]));
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(problemOf(response)).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}invalid-request`,
      title: 'The request is invalid',
      status: 400,
      detail: 'The request breaks 1 rule of the RunInstances API',
      instance: '/v1/run-instances',
      code: 'InvalidImageId.Malformed',
      errors: [violation],
    });
  });

  it('sends Retry-After for a refusal that says when to come back, and WWW-Authenticate for a 401', () => {
    expect(respond(new ServiceUnavailableError('down', 7)).response.headers['retry-after']).toBe('7');
    expect(respond(new IdempotencyInProgressError()).response.headers['retry-after']).toBe('1');
    expect(respond(new UnauthenticatedError('no', 'Bearer')).response.headers).toMatchObject({
      'www-authenticate': 'Bearer',
    });
  });

  it.each(REFUSAL_KINDS.map((kind) => [kind, REFUSAL_STATUS[kind]] as const))(
    'answers a %s refusal with %i',
    (kind, status) => {
      const error = new RequestError({ kind, problem: 'p', title: 't', code: 'C', detail: 'd' });
      expect(respond(error).response.statusCode).toBe(status);
      expect(problemOf(respond(error).response).status).toBe(status);
    },
  );

  it('logs a refusal at info by status, code and the parameters at fault, never their values', () => {
    const { logs } = respond(
      new InvalidRequestError([
        { param: 'LoginSettings.Password', code: 'InvalidPassword', message: 'must be 8-30 characters' },
        { param: 'LoginSettings.Password', code: 'InvalidPassword', message: 'must use 2 classes' },
      ]),
    );
    expect(logs.records()).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'request refused',
        status: 400,
        code: 'InvalidPassword',
        params: ['LoginSettings.Password'],
        requestId: 'req-1',
      }),
    ]);
    expect(logs.text()).not.toContain('must be 8-30');
  });

  it("logs the schema-known part of a path only: a metadata key or an unknown member is the caller's text", () => {
    const { logs } = respond(
      new InvalidRequestError([
        { param: 'metadata.secret-project-x', code: 'InvalidParameterValue', message: 'bad key' },
        { param: 'DataDisks.3.DiskSize', code: 'InvalidParameterValue', message: 'too big' },
        { param: 'Placement.HostIds.0', code: 'InvalidParameterValue', message: 'malformed' },
        { param: 'Placement.ZoneTypo', code: 'InvalidParameterValue', message: 'x' },
        { param: 'hunter2tail', code: 'UnknownParameter', message: 'unknown' },
      ]),
    );
    expect(logs.records()[0]).toMatchObject({
      params: [
        'metadata.…',
        'DataDisks.3.DiskSize',
        'Placement.HostIds.0',
        'Placement.…',
        '(unknown parameter)',
      ],
    });
    expect(logs.text()).not.toContain('secret-project-x');
    expect(logs.text()).not.toContain('hunter2tail');
  });

  it('keeps the cause of a 503 out of the body', () => {
    const { response } = respond(
      new ServiceUnavailableError('down', 5, new Error('table arn:aws:dynamodb:x')),
    );
    expect(response.body).not.toContain('arn:aws');
  });

  it.each([
    ['a plain Error', new Error('SELECT * FROM secrets at /var/task/index.mjs:1:2')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'Item')")],
    ['a thrown string', 'boom /var/task'],
    ['undefined', undefined],
  ])('answers %s with a generic 500', (_name, error) => {
    const { response } = respond(error);
    expect(response.statusCode).toBe(500);
    expect(problemOf(response)).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}internal-error`,
      title: 'Internal error',
      status: 500,
      detail: 'An internal error occurred; it has been logged. Retry later.',
      instance: '/v1/run-instances',
      code: 'InternalError',
      errors: [],
    });
  });

  it('logs an unexpected error with the request id, its stack and its cause', () => {
    const error = new Error('boom', { cause: new TypeError('underneath') });
    const { logs, response } = respond(error);
    expect(logs.records()).toEqual([
      expect.objectContaining({
        level: 'error',
        requestId: 'req-1',
        instance: '/v1/run-instances',
        error: expect.objectContaining({
          name: 'Error',
          message: 'boom',
          stack: error.stack,
          cause: expect.objectContaining({ name: 'TypeError', message: 'underneath' }),
        }),
      }),
    ]);
    expect(response.body).not.toContain('underneath');
    expect(response.body).not.toContain(error.stack?.split('\n')[1]?.trim() ?? 'no stack');
  });
});
