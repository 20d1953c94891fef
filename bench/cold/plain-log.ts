/**
 * bench/cold.ts's stand-in for lib/log.ts without Powertools: the same exports, the same redaction
 * (lib/log-fields.ts), JSON lines written by hand. Never used by the service.
 */
import type { FunctionLogger } from '../../lib/log.ts';
import { type LogLevel, redactForLog } from '../../lib/log-fields.ts';

export {
  jobLogFields,
  jobLogger,
  type Logger,
  type LogLevel,
  redactForLog,
  withFields,
} from '../../lib/log-fields.ts';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(
  options: { level?: LogLevel; sink?: (line: string) => void; base?: Record<string, unknown> } = {},
): FunctionLogger {
  const threshold = RANK[options.level ?? 'info'];
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  let context: Record<string, unknown> = {};
  let cold = true;
  const write =
    (level: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (RANK[level] < threshold) return;
      sink(
        JSON.stringify({
          level,
          message,
          timestamp: new Date().toISOString(),
          ...context,
          ...(redactForLog({ ...options.base, ...fields }) as Record<string, unknown>),
        }),
      );
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    addContext(lambda) {
      context = {
        cold_start: cold,
        function_name: lambda.functionName,
        function_request_id: lambda.awsRequestId,
      };
      cold = false;
    },
  };
}

export const silentLogger: FunctionLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  addContext() {},
};
