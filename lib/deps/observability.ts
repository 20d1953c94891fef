import type { Config } from '../config.ts';
import type { Observability } from '../invocation.ts';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';

/** The functions as serverless.yml names them: each one's `service` on its log lines and metrics. */
export type FunctionName = 'api' | 'chatops' | 'submit' | 'deadLetter' | 'poll';

/** A function's logger and metrics (docs/operating.md), built once per container. */
export function functionObservability(config: Config, service: FunctionName): Observability {
  return {
    logger: createLogger({ level: config.LOG_LEVEL, base: { service } }),
    metrics: createMetrics({ service }),
  };
}
