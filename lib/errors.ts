/**
 * The project's one error family (docs/architecture.md, "Errors"). Every class has a stable `code`, keeps its
 * `cause`, and answers one question the same way: `retryable` — whether doing the same thing again later can
 * help. `isRetryable(error)` asks it of anything, AWS SDK errors and unknown throwables included.
 */

/** One thing wrong with a request: Tencent's dotted parameter, a Tencent-style code, a sentence. */
export interface ParamError {
  param: string;
  code: string;
  message: string;
}

export interface ErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  /** Whether the message may be shown to the caller (middy's convention). */
  expose?: boolean;
}

/** The base of every error this project throws on purpose. */
export class ProvisionerError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly expose: boolean;
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.expose = options.expose ?? false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Refusals: the caller's request is not carried out. Each says what kind of refusal it is; the HTTP layer
// (lib/http/problem.ts) and the chat layer render the kind in their own terms.

/** What a refusal means for the caller, independent of the channel (HTTP status, chat reply). */
export const REFUSAL_KINDS = [
  'invalid',
  'unauthenticated',
  'denied',
  'not-found',
  'method-not-allowed',
  'conflict',
  'mismatch',
  'too-large',
  'unsupported-media-type',
  'unavailable',
] as const;
export type RefusalKind = (typeof REFUSAL_KINDS)[number];

/**
 * The request is refused: something the caller must change before trying again (or, for `conflict` and
 * `unavailable`, simply try again). Exposed to the caller with a stable problem type and a Tencent-style code.
 */
export class RequestError extends ProvisionerError {
  readonly kind: RefusalKind;
  /** The problem type's last segment (`urn:cvm-provisioner:problem:<problem>`) and its stable title. */
  readonly problem: string;
  readonly title: string;
  readonly violations: readonly ParamError[];
  /** When the same request may succeed later (a key in flight, a store outage): when to come back. */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    init: { kind: RefusalKind; problem: string; title: string; code: string; detail: string },
    options: { violations?: readonly ParamError[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(init.code, init.detail, {
      expose: true,
      // Only a refusal that says when to come back (in flight, store down) can succeed unchanged later.
      retryable: options.retryAfterSeconds !== undefined,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.kind = init.kind;
    this.problem = init.problem;
    this.title = init.title;
    this.violations = options.violations ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * The most violations a refusal lists. A request breaking more is hostile or badly broken; listing them all
 * would let 64 KiB of body make megabytes of answer (past Lambda's 6 MB response limit).
 */
export const MAX_VIOLATIONS = 50;

/** The request breaks the RunInstances rules (or is malformed); every violation is listed, up to a bound. */
export class InvalidRequestError extends RequestError {
  constructor(all: readonly ParamError[], detail?: string) {
    const count = all.length;
    const violations =
      count > MAX_VIOLATIONS
        ? [
            ...all.slice(0, MAX_VIOLATIONS),
            {
              param: '(body)',
              code: all[0]?.code ?? 'InvalidParameter',
              message: `and ${count - MAX_VIOLATIONS} more violations, not listed: fix these first`,
            },
          ]
        : all;
    super(
      {
        kind: 'invalid',
        problem: 'invalid-request',
        title: 'The request is invalid',
        code: violations[0]?.code ?? 'InvalidParameter',
        detail: detail ?? `The request breaks ${count} rule${count === 1 ? '' : 's'} of the RunInstances API`,
      },
      { violations },
    );
  }
}

/** No valid credentials. `challenge` names the scheme the caller should use (HTTP: WWW-Authenticate). */
export class UnauthenticatedError extends RequestError {
  readonly challenge: string | undefined;
  constructor(detail: string, challenge?: string) {
    super({
      kind: 'unauthenticated',
      problem: 'unauthenticated',
      title: 'Authentication required',
      code: 'AuthFailure',
      detail,
    });
    this.challenge = challenge;
  }
}

/** A policy guardrail (allowed zones, instance types, instance count) refuses the request. */
export class PolicyDeniedError extends RequestError {
  constructor(violations: readonly ParamError[]) {
    super(
      {
        kind: 'denied',
        problem: 'denied-by-policy',
        title: 'The request is denied by policy',
        code: violations[0]?.code ?? 'UnauthorizedOperation',
        detail: violations.map((v) => `${v.param} ${v.message}`).join('; '),
      },
      { violations },
    );
  }
}

/** No such resource for this caller. */
export class NotFoundError extends RequestError {
  constructor(detail: string) {
    super({ kind: 'not-found', problem: 'not-found', title: 'Not found', code: 'ResourceNotFound', detail });
  }
}

/** The path exists, but not for this method; `allow` lists the methods it has. */
export class MethodNotAllowedError extends RequestError {
  readonly allow: readonly string[];
  constructor(method: string, path: string, allow: readonly string[]) {
    super({
      kind: 'method-not-allowed',
      problem: 'method-not-allowed',
      title: 'Method not allowed',
      code: 'UnsupportedProtocol',
      detail: `${path} does not accept ${method}; use ${allow.join(' or ')}`,
    });
    this.allow = allow;
  }
}

/** The first request with this Idempotency-Key is still being processed. */
export class IdempotencyInProgressError extends RequestError {
  constructor() {
    super(
      {
        kind: 'conflict',
        problem: 'idempotency-key-in-use',
        title: 'A request with this Idempotency-Key is in progress',
        code: 'IdempotencyKey.InProgress',
        detail: 'The first request with this Idempotency-Key has not finished; retry it unchanged shortly',
      },
      { retryAfterSeconds: 1 },
    );
  }
}

/** This Idempotency-Key was used with a different payload. */
export class IdempotencyMismatchError extends RequestError {
  constructor() {
    super({
      kind: 'mismatch',
      problem: 'idempotency-key-reused',
      title: 'The Idempotency-Key was used with a different payload',
      code: 'IdempotencyKey.PayloadMismatch',
      detail: 'This Idempotency-Key was first used with a different request; use a new key for a new request',
    });
  }
}

/** A caller's ClientToken already belongs to another job (one token, one job: docs/job-lifecycle.md). */
export class ClientTokenInUseError extends RequestError {
  constructor() {
    super({
      kind: 'conflict',
      problem: 'client-token-in-use',
      title: 'The ClientToken belongs to another job',
      code: 'InvalidClientToken.InUse',
      detail:
        "Another job already uses this ClientToken; Tencent would answer it with that job's instances. Use a new ClientToken, or none",
    });
  }
}

/** Another request reserving the same ClientToken has not finished; it may still create its job. */
export class ClientTokenInProgressError extends RequestError {
  constructor(retryAfterSeconds: number) {
    super(
      {
        kind: 'conflict',
        problem: 'client-token-in-progress',
        title: 'Another request with this ClientToken is in progress',
        code: 'InvalidClientToken.InProgress',
        detail:
          'A request with this ClientToken is still being accepted; retry shortly (the token then belongs to whichever job was stored)',
      },
      { retryAfterSeconds },
    );
  }
}

/** The job was (or may have been) sent to Tencent already: cancelling it now would be a half-cancel. */
export class JobNotCancellableError extends RequestError {
  readonly status: string;
  constructor(jobId: string, status: string) {
    super({
      kind: 'conflict',
      problem: 'job-not-cancellable',
      title: 'The job can no longer be cancelled',
      code: 'UnsupportedOperation.JobNotCancellable',
      detail: `Job ${jobId} is ${status}: it was sent to Tencent, or may have been, so it cannot be cancelled`,
    });
    this.status = status;
  }
}

/** The body is over the limit. */
export class PayloadTooLargeError extends RequestError {
  constructor(limitBytes: number) {
    super({
      kind: 'too-large',
      problem: 'payload-too-large',
      title: 'The request body is too large',
      code: 'RequestSizeLimitExceeded',
      detail: `The request body exceeds ${limitBytes} bytes`,
    });
  }
}

/** Neither JSON nor the flattened form. */
export class UnsupportedMediaTypeError extends RequestError {
  constructor(contentType: string | undefined, detail?: string) {
    super({
      kind: 'unsupported-media-type',
      problem: 'unsupported-media-type',
      title: 'Unsupported media type',
      code: 'UnsupportedMediaType',
      detail:
        detail ??
        `Send application/json or application/x-www-form-urlencoded (got ${contentType ?? 'no content type'})`,
    });
  }
}

/** A dependency is down; the detail says whether anything was accepted. Retry after the given seconds. */
export class ServiceUnavailableError extends RequestError {
  constructor(detail: string, retryAfterSeconds: number, cause?: unknown) {
    super(
      {
        kind: 'unavailable',
        problem: 'service-unavailable',
        title: 'Service unavailable',
        code: 'ServiceUnavailable',
        detail,
      },
      { retryAfterSeconds, cause },
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Configuration

/** Configuration is missing or invalid: the process cannot serve. Names every variable at fault. */
export class ConfigError extends ProvisionerError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('ConfigError', `Invalid configuration: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The job store (lib/jobs): conditional writes that lose are reported, never passed off as success.

/** A job with this id already exists and is not the one being created. */
export class JobExistsError extends ProvisionerError {
  constructor(jobId: string) {
    super('JobExists', `a different job ${jobId} already exists`);
  }
}

/** The lifecycle table has no such move from the job's state (a programming error, never retried). */
export class IllegalTransitionError extends ProvisionerError {
  readonly from: string;
  readonly transition: string;
  constructor(transition: string, from: string) {
    super('IllegalTransition', `${transition} is not allowed from ${from}`);
    this.transition = transition;
    this.from = from;
  }
}

/**
 * A conditional write lost a race: the job is no longer in the state and version the writer read. Somebody
 * else changed it; the writer re-reads and decides again (not retryable as is).
 */
export class JobConflictError extends ProvisionerError {
  readonly jobId: string;
  readonly expected: { status: string; version: number };
  /** The job's state now, when it could be read (`null`: the job is gone). */
  readonly current: { status: string; version: number } | null | undefined;
  constructor(
    jobId: string,
    expected: { status: string; version: number },
    current: { status: string; version: number } | null | undefined,
    /** Why `current` is unknown, when reading it failed. */
    cause?: unknown,
  ) {
    const now = current ? `${current.status} v${current.version}` : current === null ? 'gone' : 'unknown';
    super(
      'JobConflict',
      `job ${jobId} changed: expected ${expected.status} v${expected.version}, found ${now}`,
      {
        ...(cause === undefined ? {} : { cause }),
      },
    );
    this.jobId = jobId;
    this.expected = expected;
    this.current = current;
  }
}

/** Another delivery holds a live submission claim on the job; try again once the lease may have run out. */
export class ClaimHeldError extends ProvisionerError {
  readonly claimExpiresAt: string;
  constructor(jobId: string, claimExpiresAt: string) {
    super('ClaimHeld', `job ${jobId} is being submitted by another delivery until ${claimExpiresAt}`, {
      retryable: true,
    });
    this.claimExpiresAt = claimExpiresAt;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tencent Cloud (lib/tencent)

/** Tencent answered with `Response.Error` (HTTP 200): the call was processed and refused. */
export class TencentApiError extends ProvisionerError {
  readonly requestId: string | undefined;
  readonly errorClass: string;
  constructor(
    code: string,
    message: string,
    details: { requestId: string | undefined; retryable: boolean; errorClass: string },
  ) {
    super(code, message, { retryable: details.retryable });
    this.requestId = details.requestId;
    this.errorClass = details.errorClass;
  }
}

/**
 * The call may or may not have taken effect: non-200 status, dropped connection, timeout, unparsable body.
 * Always retryable with the same ClientToken, and callers must treat RunInstances as "maybe created".
 */
export class UnknownOutcomeError extends ProvisionerError {
  readonly httpStatus: number | undefined;
  constructor(code: string, message: string, options: { cause?: unknown; httpStatus?: number } = {}) {
    super(code, message, {
      retryable: true,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
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
  constructor(code: string, message: string, options: { cause?: unknown; retryable: boolean }) {
    super(code, message, options);
  }
}

// ---------------------------------------------------------------------------------------------------------
// One way to ask

/** What the AWS SDK v3 puts on a service error. */
interface AwsErrorShape {
  name?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** AWS error names that mean "slow down", whatever their status (the SDK's own throttling list). */
const AWS_THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
  'TransactionInProgressException',
]);

/** The AWS SDK's view of an error it threw after trying to send (every such error carries `$metadata`). */
function awsShape(error: unknown): AwsErrorShape | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const shape = error as AwsErrorShape;
  return shape.$metadata !== undefined || shape.$fault !== undefined ? shape : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Outbound webhooks.

/** The stable `code` of every refusal (a string to match, not a message). */
export const WEBHOOK_TARGET_REFUSED = 'WebhookTargetRefused';

/**
 * The guard refuses a webhook target: why (`reason`: an ipaddr.js range such as 'loopback', 'private',
 * 'linkLocal', or 'scheme', 'credentials', 'invalidUrl'…), and the address at fault when there is one. Never
 * retryable: the same target is refused again. The message names the host and address, never the URL (a
 * receiver's URL can hold a secret of its own).
 */
export class WebhookTargetRefusedError extends ProvisionerError {
  readonly reason: string;
  /** The refused IP address (resolved, connected to, or written in the URL), when the refusal is about one. */
  readonly address: string | undefined;
  /** The host the caller asked for, when known. */
  readonly host: string | undefined;
  constructor(
    reason: string,
    message: string,
    details: { address?: string; host?: string; cause?: unknown } = {},
  ) {
    super(WEBHOOK_TARGET_REFUSED, message, {
      retryable: false,
      ...(details.cause === undefined ? {} : { cause: details.cause }),
    });
    this.reason = reason;
    this.address = details.address;
    this.host = details.host;
  }
}

/**
 * Whether doing the same thing again later can help. Our errors say so themselves; an AWS SDK error is
 * retryable when it is throttling, a 5xx, or never got a status (a timeout or a dropped connection);
 * anything else (a bug, a 4xx) is not.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ProvisionerError) return error.retryable;
  const aws = awsShape(error);
  if (!aws) return false;
  if (aws.$retryable) return true;
  if (typeof aws.name === 'string' && AWS_THROTTLING.has(aws.name)) return true;
  const status = aws.$metadata?.httpStatusCode;
  return status === undefined || status >= 500 || aws.$fault === 'server';
}

/**
 * Whether a failed AWS write may still have been applied. Not when the service answered 4xx (validation,
 * throttling, missing table, denied, a failed condition), when the connection was refused, or when the SDK
 * failed before sending (no `$metadata`: an item it could not marshal); a timeout or a dropped connection
 * after sending, or a 5xx, may have been.
 */
export function mayHaveBeenApplied(error: unknown): boolean {
  const aws = awsShape(error);
  if (!aws) return false;
  const status = aws.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 400 && status < 500) return false;
  return (error as { code?: unknown }).code !== 'ECONNREFUSED';
}
