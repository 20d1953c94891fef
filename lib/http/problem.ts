import { MethodNotAllowedError, type RefusalKind, RequestError, UnauthenticatedError } from '../errors.ts';
import { CONTROL_FIELDS } from '../jobs/control-fields.ts';
import type { Logger } from '../log.ts';
import { COMMON_PARAMETERS, childSchema, memberNames, schemaFor } from '../run-instances/index.ts';
import type { HttpResponse } from './types.ts';

/** Problem types are URNs: stable identifiers that need no hosted page. */
export const PROBLEM_TYPE_PREFIX = 'urn:cvm-provisioner:problem:';

/** The HTTP status of each kind of refusal (docs/http-api.md, "Errors"). */
export const REFUSAL_STATUS: Readonly<Record<RefusalKind, number>> = {
  invalid: 400,
  unauthenticated: 401,
  denied: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  conflict: 409,
  'too-large': 413,
  'unsupported-media-type': 415,
  mismatch: 422,
  unavailable: 503,
};

function refusalHeaders(error: RequestError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  if (error instanceof UnauthenticatedError && error.challenge) headers['www-authenticate'] = error.challenge;
  if (error instanceof MethodNotAllowedError) headers.allow = error.allow.join(', ');
  return headers;
}

/** How many parameter names a refusal's log line keeps. */
const MAX_LOGGED_PARAMS = 20;

/**
 * The parameters a refusal names, as a log line may keep them: distinct, bounded, and an unknown name left
 * out — it is the caller's text, and a form whose password held a bare `&` makes the password's tail a name.
 */
function loggedParams(error: RequestError): string[] {
  const names = error.violations.map((violation) => {
    if (violation.code === 'UnknownParameter') return '(unknown parameter)';
    const segments = violation.param.split('.');
    const top = segments[0] ?? '';
    if (!top.startsWith('(') && !knownNames().has(top)) return '(unknown parameter)';
    // Deeper segments are kept while the schema knows them (members, list indexes); a caller's own key — a
    // metadata key, say — ends the path.
    const kept = [top];
    let node = childSchema(schemaFor('current'), top);
    for (const segment of segments.slice(1)) {
      node = childSchema(node, /^\d+$/.test(segment) ? Number(segment) : segment);
      if (!node) {
        kept.push('…');
        break;
      }
      kept.push(segment);
    }
    return kept.join('.').slice(0, 80);
  });
  return [...new Set(names)].slice(0, MAX_LOGGED_PARAMS);
}

/**
 * Names a refusal may mention without quoting a caller: every parameter, control field and header we know
 * (made at the first refusal, so a cold start does not build a schema it may not need).
 */
let known: ReadonlySet<string> | undefined;
function knownNames(): ReadonlySet<string> {
  known ??= new Set([
    ...memberNames(schemaFor('current')),
    ...COMMON_PARAMETERS,
    ...CONTROL_FIELDS,
    'Idempotency-Key',
  ]);
  return known;
}

/**
 * An RFC 9457 problem response. Refusals expose their detail, code and every violation; anything else is a
 * 500 with a generic text (no message, no stack) and is logged, cause chain included, with the request id.
 */
export function problemResponse(
  error: unknown,
  context: { instance: string; requestId?: string; logger: Logger },
): HttpResponse {
  if (error instanceof RequestError) {
    const status = REFUSAL_STATUS[error.kind];
    // A 5xx refusal (the job store is down) is the operator's concern: log it with its cause. Every other
    // refusal is logged too, by code and the parameters at fault (never their values), so an operator can
    // see what callers get wrong.
    if (status >= 500) {
      context.logger.error('dependency failure', {
        error,
        requestId: context.requestId,
        instance: context.instance,
      });
    } else {
      context.logger.info('request refused', {
        status,
        code: error.code,
        params: loggedParams(error),
        requestId: context.requestId,
        instance: context.instance,
      });
    }
    return {
      statusCode: status,
      headers: {
        'content-type': 'application/problem+json',
        'cache-control': 'no-store',
        ...refusalHeaders(error),
      },
      body: JSON.stringify({
        type: `${PROBLEM_TYPE_PREFIX}${error.problem}`,
        title: error.title,
        status,
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
