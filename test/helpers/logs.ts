import { createLogger, type Logger } from '../../lib/log.ts';

/** A logger whose JSON lines are kept for assertions. */
export interface LogCapture {
  logger: Logger;
  lines: string[];
  records(): Array<Record<string, unknown>>;
  text(): string;
}

export function captureLogs(service = 'api'): LogCapture {
  const lines: string[] = [];
  return {
    logger: createLogger({ level: 'debug', sink: (line) => lines.push(line), base: { service } }),
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => lines.join('\n'),
  };
}
