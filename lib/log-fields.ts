/**
 * What goes into a log line (docs/operating.md, "Logs"), whoever writes it: secrets redacted by key, errors
 * rendered safely, a job's fields. No I/O here: lib/log.ts writes the lines.
 */
import { ProvisionerError } from './errors.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Keys whose values never reach a log line, at any depth. */
const SECRET_KEY = /password|secret|token|authorization|signature|credential/i;
/** Except these, which are identifiers, not secrets. */
const NOT_SECRET = new Set(['clientToken', 'ClientToken', 'secretId', 'SecretId']);

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** How many causes of an error are followed (a cause chain can be circular). */
const MAX_CAUSES = 5;

/** What every error keeps in a log line, whatever else it carries. */
const ERROR_BASICS = new Set(['name', 'message', 'stack', 'cause']);

/**
 * An error as a log field: name, message, code, stack and the chain of causes; for this project's own errors
 * also the facts they carry (Tencent's RequestId and error class, the states of a lost race, an HTTP
 * status), redacted like any other field; for an AWS SDK error its status and request id. Nothing else an
 * error of another origin carries (a request, credentials) reaches a line.
 */
function errorForLog(error: Error, depth: number): Record<string, unknown> {
  const { code, $metadata } = error as {
    code?: unknown;
    $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  };
  const own =
    error instanceof ProvisionerError
      ? Object.fromEntries(Object.entries(error).filter(([key]) => !ERROR_BASICS.has(key)))
      : {};
  const cause: unknown = error.cause;
  return {
    name: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code }),
    ...(redactForLog(own, depth + 1) as Record<string, unknown>),
    ...($metadata?.httpStatusCode === undefined ? {} : { httpStatus: $metadata.httpStatusCode }),
    ...($metadata?.requestId === undefined ? {} : { awsRequestId: $metadata.requestId }),
    ...(error.stack ? { stack: error.stack } : {}),
    ...(cause === undefined
      ? {}
      : { cause: depth < MAX_CAUSES ? redactForLog(cause, depth + 1) : '[more causes]' }),
  };
}

/**
 * A copy of a value with every secret-looking member replaced; errors keep their name, code, message,
 * stack and causes (see errorForLog).
 */
export function redactForLog(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[deep]';
  if (value instanceof Error) return errorForLog(value, depth);
  if (Array.isArray(value)) return value.map((item) => redactForLog(item, depth + 1));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [
        key,
        SECRET_KEY.test(key) && !NOT_SECRET.has(key) ? '[REDACTED]' : redactForLog(child, depth + 1),
      ]),
    );
  }
  return value;
}

/**
 * A logger that puts `fields` on every line it writes (a job's id, caller and Tencent RequestId), the call's
 * own fields winning.
 */
export function withFields(logger: Logger, fields: Record<string, unknown>): Logger {
  const write =
    (level: LogLevel) =>
    (message: string, more: Record<string, unknown> = {}) =>
      logger[level](message, { ...fields, ...more });
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** What a job's log lines carry: its id, who asked for it, and Tencent's RequestId of its RunInstances. */
export function jobLogFields(job: {
  jobId: string;
  requestedBy: string;
  submitRequestId?: string | null;
}): Record<string, unknown> {
  return {
    jobId: job.jobId,
    caller: job.requestedBy,
    ...(job.submitRequestId ? { requestId: job.submitRequestId } : {}),
  };
}

/** A logger for the lines about one job (jobLogFields on each). */
export const jobLogger = (logger: Logger, job: Parameters<typeof jobLogFields>[0]): Logger =>
  withFields(logger, jobLogFields(job));
