/**
 * Structured logs (docs/operating.md, "Logs"): one JSON object per line, written through Powertools for AWS
 * Lambda's Logger. Every field is redacted by key (lib/log-fields.ts) before Powertools sees it, so errors are
 * rendered there too, never by Powertools' own formatter (which copies every member an error carries).
 */
import { LogFormatter, LogItem, Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import type { Context } from 'aws-lambda';
import { type Logger, type LogLevel, redactForLog } from './log-fields.ts';

export {
  jobLogFields,
  jobLogger,
  type Logger,
  type LogLevel,
  redactForLog,
  withFields,
} from './log-fields.ts';

/** A function's own logger: the one the composition root builds, told about each invocation. */
export interface FunctionLogger extends Logger {
  /** Adds the invocation's Lambda context (request id, function name, cold start) to every line after it. */
  addContext(context: Context): void;
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
    if (!this.sink) {
      super.printLog(logLevel, log);
      return;
    }
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

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: FunctionLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  addContext() {},
};
