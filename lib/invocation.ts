import type { Context } from 'aws-lambda';
import type { FunctionLogger } from './log.ts';
import type { FunctionMetrics } from './metrics.ts';

/**
 * What a function does around each invocation (docs/operating.md): the invocation's Lambda context onto its
 * log lines, its metrics published when it ends — whether the handler returned or threw.
 */
export interface Observability {
  logger: FunctionLogger;
  metrics: FunctionMetrics;
}

/** Wraps a handler with the function's observability (built once, in the composition root). */
export function instrument<E, R>(
  observability: Observability,
  handler: (event: E, context: Context) => Promise<R>,
): (event: E, context: Context) => Promise<R> {
  return async (event, context) => {
    observability.logger.addContext(context);
    try {
      return await handler(event, context);
    } finally {
      observability.metrics.flush();
    }
  };
}
