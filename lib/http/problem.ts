import { RequestError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { HttpResponse } from './types.ts';

/** Problem types are URNs: stable identifiers that need no hosted page. */
export const PROBLEM_TYPE_PREFIX = 'urn:cvm-provisioner:problem:';

/**
 * An RFC 9457 problem response. Request errors expose their detail, code and every violation; anything else
 * is a 500 with a generic text (no message, no stack) and is logged with the request id.
 */
export function problemResponse(
  error: unknown,
  context: { instance: string; requestId?: string; logger: Logger },
): HttpResponse {
  if (error instanceof RequestError) {
    // A 5xx request error (the job store is down) is the operator's concern too: log it with its cause.
    if (error.status >= 500) {
      context.logger.error('dependency failure', {
        error,
        cause: error.cause,
        requestId: context.requestId,
        instance: context.instance,
      });
    }
    return {
      statusCode: error.status,
      headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...error.headers },
      body: JSON.stringify({
        type: `${PROBLEM_TYPE_PREFIX}${error.problem}`,
        title: error.title,
        status: error.status,
        detail: error.message,
        instance: context.instance,
        code: error.code,
        errors: error.violations.map(({ param, code, message }) => ({ param, code, message })),
      }),
    };
  }
  context.logger.error('unhandled error', {
    error,
    requestId: context.requestId,
    instance: context.instance,
  });
  return {
    statusCode: 500,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
    body: JSON.stringify({
      type: `${PROBLEM_TYPE_PREFIX}internal-error`,
      title: 'Internal error',
      status: 500,
      detail: 'An internal error occurred; it has been logged. Retry later.',
      instance: context.instance,
      code: 'InternalError',
      errors: [],
    }),
  };
}
