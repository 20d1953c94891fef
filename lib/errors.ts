/** One thing wrong with a request: Tencent's dotted parameter, a Tencent-style code, a sentence. */
export interface ParamError {
  param: string;
  code: string;
  message: string;
}

/**
 * One error family. `code` is stable and machine-readable; `expose` says whether the message may be shown
 * to the caller (middy's convention); the subclass says what the caller should do.
 */
export class ProvisionerError extends Error {
  readonly code: string;
  readonly expose: boolean;
  constructor(code: string, message: string, options: { cause?: unknown; expose?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.expose = options.expose ?? false;
  }
}

/**
 * Something the caller must change before trying again (or, for 409/503, simply try again): exposed to the
 * caller as `application/problem+json` with this status, a stable problem type and a Tencent-style code.
 */
export class RequestError extends ProvisionerError {
  readonly status: number;
  readonly problem: string;
  readonly title: string;
  readonly violations: readonly ParamError[];
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    init: { status: number; problem: string; title: string; code: string; detail: string },
    options: { violations?: readonly ParamError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(init.code, init.detail, {
      expose: true,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.status = init.status;
    this.problem = init.problem;
    this.title = init.title;
    this.violations = options.violations ?? [];
    this.headers = options.headers ?? {};
  }
}

/** 400: the request breaks the RunInstances rules (or is malformed); every violation is listed. */
export class InvalidRequestError extends RequestError {
  constructor(violations: readonly ParamError[], detail?: string) {
    const count = violations.length;
    super(
      {
        status: 400,
        problem: 'invalid-request',
        title: 'The request is invalid',
        code: violations[0]?.code ?? 'InvalidParameter',
        detail: detail ?? `The request breaks ${count} rule${count === 1 ? '' : 's'} of the RunInstances API`,
      },
      { violations },
    );
  }
}

/** 401: no valid credentials. */
export class UnauthenticatedError extends RequestError {
  constructor(detail: string, headers: Record<string, string> = {}) {
    super(
      {
        status: 401,
        problem: 'unauthenticated',
        title: 'Authentication required',
        code: 'AuthFailure',
        detail,
      },
      { headers },
    );
  }
}

/** 403: a policy guardrail (allowed zones, instance types, instance count) refuses the request. */
export class PolicyDeniedError extends RequestError {
  constructor(violations: readonly ParamError[]) {
    super(
      {
        status: 403,
        problem: 'denied-by-policy',
        title: 'The request is denied by policy',
        code: violations[0]?.code ?? 'UnauthorizedOperation',
        detail: violations.map((v) => `${v.param} ${v.message}`).join('; '),
      },
      { violations },
    );
  }
}

/** 404: no such resource for this caller. */
export class NotFoundError extends RequestError {
  constructor(detail: string) {
    super({ status: 404, problem: 'not-found', title: 'Not found', code: 'ResourceNotFound', detail });
  }
}

/** 409: the first request with this Idempotency-Key is still being processed. */
export class IdempotencyInProgressError extends RequestError {
  constructor() {
    super(
      {
        status: 409,
        problem: 'idempotency-key-in-use',
        title: 'A request with this Idempotency-Key is in progress',
        code: 'IdempotencyKey.InProgress',
        detail: 'The first request with this Idempotency-Key has not finished; retry it unchanged shortly',
      },
      { headers: { 'retry-after': '1' } },
    );
  }
}

/** 422: this Idempotency-Key was used with a different payload. */
export class IdempotencyMismatchError extends RequestError {
  constructor() {
    super({
      status: 422,
      problem: 'idempotency-key-reused',
      title: 'The Idempotency-Key was used with a different payload',
      code: 'IdempotencyKey.PayloadMismatch',
      detail: 'This Idempotency-Key was first used with a different request; use a new key for a new request',
    });
  }
}

/** 413: the body is over the limit. */
export class PayloadTooLargeError extends RequestError {
  constructor(limitBytes: number) {
    super({
      status: 413,
      problem: 'payload-too-large',
      title: 'The request body is too large',
      code: 'RequestSizeLimitExceeded',
      detail: `The request body exceeds ${limitBytes} bytes`,
    });
  }
}

/** 415: neither JSON nor the flattened form. */
export class UnsupportedMediaTypeError extends RequestError {
  constructor(contentType: string | undefined) {
    super({
      status: 415,
      problem: 'unsupported-media-type',
      title: 'Unsupported media type',
      code: 'UnsupportedMediaType',
      detail: `Send application/json or application/x-www-form-urlencoded (got ${contentType ?? 'no content type'})`,
    });
  }
}

/** 503: a dependency is down and nothing was accepted; retry after the given seconds. */
export class ServiceUnavailableError extends RequestError {
  constructor(detail: string, retryAfterSeconds: number, cause?: unknown) {
    super(
      {
        status: 503,
        problem: 'service-unavailable',
        title: 'Service unavailable',
        code: 'ServiceUnavailable',
        detail,
      },
      { headers: { 'retry-after': String(retryAfterSeconds) }, cause },
    );
  }
}

/** Configuration is missing or invalid: the process cannot serve. Names every variable at fault. */
export class ConfigError extends ProvisionerError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('ConfigError', `Invalid configuration: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** Tencent answered with `Response.Error` (HTTP 200): the call was processed and refused. */
export class TencentApiError extends ProvisionerError {
  readonly requestId: string | undefined;
  readonly retryable: boolean;
  readonly errorClass: string;
  constructor(
    code: string,
    message: string,
    details: { requestId: string | undefined; retryable: boolean; errorClass: string },
  ) {
    super(code, message);
    this.requestId = details.requestId;
    this.retryable = details.retryable;
    this.errorClass = details.errorClass;
  }
}

/**
 * The call may or may not have taken effect: non-200 status, dropped connection, timeout, unparsable body.
 * Always retryable with the same ClientToken, and callers must treat RunInstances as "maybe created".
 */
export class UnknownOutcomeError extends ProvisionerError {
  readonly retryable = true;
  readonly httpStatus: number | undefined;
  constructor(code: string, message: string, options: { cause?: unknown; httpStatus?: number } = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.httpStatus = options.httpStatus;
  }
}

/** Tencent credentials could not be obtained (missing, or the secret could not be read). */
export class CredentialsError extends ProvisionerError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CredentialsError', message, options);
  }
}

/**
 * The request certainly did not reach Tencent (aborted before sending, connection refused, unusable
 * parameters for the wire, a closed client): nothing can have been created. `retryable` says whether the
 * same call may simply be made again.
 */
export class RequestNotSentError extends ProvisionerError {
  readonly retryable: boolean;
  constructor(code: string, message: string, options: { cause?: unknown; retryable: boolean }) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.retryable = options.retryable;
  }
}
