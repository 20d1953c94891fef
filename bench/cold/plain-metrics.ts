/**
 * bench/cold.ts's stand-in for lib/metrics.ts without Powertools: the same exports, EMF lines written by
 * hand (one per metric). Never used by the service.
 */
import type { FunctionMetrics, MetricName } from '../../lib/metrics.ts';

export const METRICS_NAMESPACE = 'CvmProvisioner';

export const noMetrics: FunctionMetrics = { count() {}, timing() {}, flush() {} };

export function createMetrics(options: { service: string; sink?: (line: string) => void }): FunctionMetrics {
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  const lines: string[] = [];
  const record = (name: MetricName, unit: string, value: number, given: Record<string, string> = {}) => {
    const dimensions = { service: options.service, ...given };
    lines.push(
      JSON.stringify({
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [
            {
              Namespace: METRICS_NAMESPACE,
              Dimensions: [Object.keys(dimensions)],
              Metrics: [{ Name: name, Unit: unit }],
            },
          ],
        },
        ...dimensions,
        [name]: value,
      }),
    );
  };
  return {
    count: (name, ...[dimensions]) => record(name, 'Count', 1, dimensions),
    timing: (name, ms, ...[dimensions]) => record(name, 'Milliseconds', ms, dimensions),
    flush: () => {
      for (const line of lines.splice(0)) sink(line);
    },
  };
}
