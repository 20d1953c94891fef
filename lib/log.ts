/**
 * Structured logs (docs/operating.md, "Logs"): one JSON object per line, written through Powertools for AWS
 * Lambda's Logger, with every field redacted by key before Powertools sees it and errors rendered by
 * errorForLog (never by Powertools' own formatter, which would copy every member an error carries).
 */
import { LogFormatter, LogItem, Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import type { Context } from 'aws-lambda';
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

/** A function's own logger: the one the composition root builds, told about each invocation. */
export interface FunctionLogger extends Logger {
  /** Adds the invocation's Lambda context (request id, function name, cold start) to every line after it. */
  addContext(context: Context): void;
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
 * A line as it is printed. Powertools' own item drops every member that is null or empty; here a null says
 * something (no RequestId yet), so only undefined ones go (JSON.stringify leaves them out anyway).
 */
class Line extends LogItem {
  override prepareForPrint(): void {}
}

/**
 * The line's shape: `level` (lower case), `message`, `timestamp`, `service`, then, inside an invocation, the
 * Lambda fields under Powertools' names (`cold_start`, `function_name`, `function_request_id`,
 * `xray_trace_id`), then the fields of the call — already redacted.
 */
class LineFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, fields: LogAttributes): LogItem {
    const lambda = attributes.lambdaContext;
    return new Line({
      attributes: {
        level: attributes.logLevel.toLowerCase(),
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        ...(lambda
          ? {
              cold_start: lambda.coldStart,
              function_name: lambda.functionName,
              function_request_id: lambda.awsRequestId,
            }
          : {}),
        ...(attributes.xRayTraceId ? { xray_trace_id: attributes.xRayTraceId } : {}),
        ...fields,
      },
    });
  }
}

/**
 * Powertools' Logger, writing to `sink` when one is given (tests, the local stack's own lines) instead of
 * its Console on stdout. `printLog` is the one step Powertools lets a subclass replace.
 */
class SinkLogger extends PowertoolsLogger {
  sink: ((line: string) => void) | undefined;
  protected override printLog(logLevel: number, log: LogItem): void {
    if (!this.sink) return super.printLog(logLevel, log);
    log.prepareForPrint();
    this.sink(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }
}

/** Powertools refuses these as field names (it warns and drops them); a field so named is kept renamed. */
const RESERVED = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);

function fieldsForLine(fields: Record<string, unknown>): LogAttributes {
  const redacted = redactForLog(fields) as LogAttributes;
  if (!Object.keys(redacted).some((key) => RESERVED.has(key))) return redacted;
  return Object.fromEntries(
    Object.entries(redacted).map(([key, value]) => [RESERVED.has(key) ? `${key}_` : key, value]),
  ) as LogAttributes;
}

/**
 * Creates a logger writing JSON lines to `sink` (stdout by default) at `level` and above. `base.service` names
 * the service (the function); the rest of `base` goes on every line. AWS Lambda's log-level control
 * (AWS_LAMBDA_LOG_LEVEL), when set, takes precedence over `level` (Powertools reads it).
 */
export function createLogger(
  options: { level?: LogLevel; sink?: (line: string) => void; base?: Record<string, unknown> } = {},
): FunctionLogger {
  const { service, ...base } = options.base ?? {};
  const powertools = new SinkLogger({
    serviceName: typeof service === 'string' ? service : 'cvm-provisioner',
    logLevel: (options.level ?? 'info').toUpperCase() as Uppercase<LogLevel>,
    logFormatter: new LineFormatter(),
  });
  powertools.sink = options.sink;
  const write =
    (level: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      powertools[level](message, fieldsForLine({ ...base, ...fields }));
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    addContext: (context) => powertools.addContext(context),
  };
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

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: FunctionLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  addContext() {},
};
