import type { Violation } from './run-instances/codes.ts';

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

/** The request breaks RunInstances rules: a 4xx with every violation listed. Never retried. */
export class InvalidRequestError extends ProvisionerError {
  readonly violations: readonly Violation[];
  constructor(violations: readonly Violation[], message = 'The request breaks the RunInstances rules') {
    super(violations[0]?.code ?? 'InvalidParameter', message, { expose: true });
    this.violations = violations;
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
