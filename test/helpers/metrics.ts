import {
  type CountMetric,
  type DimensionsArg,
  dimensionsOf,
  type FunctionMetrics,
  type MetricName,
  type TimingMetric,
} from '../../lib/metrics.ts';

/** One metric as lib/ emitted it, its dimensions as they would be published (`none` filled in). */
export interface RecordedMetric {
  name: MetricName;
  value: number;
  dimensions: Record<string, string>;
}

/** A recording fake of deps.metrics: what was counted and timed, and how often it was flushed. */
export interface MetricsRecorder {
  metrics: FunctionMetrics;
  recorded: RecordedMetric[];
  /** How many times `name` was counted (with `dimensions`, when given: those values, the others any). */
  count(name: CountMetric, dimensions?: Readonly<Record<string, string>>): number;
  /** The values `name` was timed with, in order. */
  timings(name: TimingMetric): number[];
  /** The distinct dimension sets `name` was emitted with. */
  dimensionSets(name: MetricName): Array<Record<string, string>>;
  flushes(): number;
}

export function recordMetrics(): MetricsRecorder {
  const recorded: RecordedMetric[] = [];
  let flushes = 0;
  const record = (name: MetricName, value: number, dimensions?: Readonly<Record<string, string>>) =>
    recorded.push({ name, value, dimensions: dimensionsOf(name, dimensions) });
  const metrics: FunctionMetrics = {
    count: <N extends CountMetric>(name: N, ...[dimensions]: DimensionsArg<N>) => record(name, 1, dimensions),
    timing: <N extends TimingMetric>(name: N, ms: number, ...[dimensions]: DimensionsArg<N>) =>
      record(name, ms, dimensions),
    flush: () => {
      flushes++;
    },
  };
  const matching = (name: MetricName, dimensions: Readonly<Record<string, string>> = {}) =>
    recorded.filter(
      (entry) =>
        entry.name === name &&
        Object.entries(dimensions).every(([key, value]) => entry.dimensions[key] === value),
    );
  return {
    metrics,
    recorded,
    count: (name, dimensions) => matching(name, dimensions).length,
    timings: (name) => matching(name).map((entry) => entry.value),
    dimensionSets: (name) => [
      ...new Map(
        matching(name).map((entry) => [JSON.stringify(entry.dimensions), entry.dimensions]),
      ).values(),
    ],
    flushes: () => flushes,
  };
}
