/**
 * A small structured logger: one JSON object per line, secrets redacted by key before anything is written.
 * (Powertools' logger would do; this one is a few lines, costs nothing at cold start, and is easy to capture
 * in tests.)
 */
import { ProvisionerError } from './errors.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

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

/** Creates a logger writing JSON lines to `sink` (stdout by default) at `level` and above. */
export function createLogger(
  options: { level?: LogLevel; sink?: (line: string) => void; base?: Record<string, unknown> } = {},
): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  const write =
    (level: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (RANK[level] < threshold) return;
      sink(
        JSON.stringify({
          level,
          time: new Date().toISOString(),
          message,
          ...(redactForLog({ ...options.base, ...fields }) as Record<string, unknown>),
        }),
      );
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
