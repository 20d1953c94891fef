/**
 * Metrics (docs/operating.md, "Metrics"): CloudWatch embedded metric format (EMF) lines written through
 * Powertools for AWS Lambda's Metrics, namespace CvmProvisioner, dimension `service` = the function. Each metric
 * has a fixed set of further dimensions (the table below), all of low cardinality: never a job id.
 */
import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'CvmProvisioner';

/** Every metric the service emits: its unit and the dimensions it has besides `service`. */
export const METRICS = {
  /** A new job stored and queued (API or chat; a replay of an Idempotency-Key is not counted again). */
  JobsAccepted: { unit: 'Count', dimensions: [] },
  /** A submission by an authenticated caller that was not accepted, by the problem's code. */
  JobsRejected: { unit: 'Count', dimensions: ['code'] },
  /** A claimed submission attempt's outcome, by Tencent's error code (`none` when it answered). */
  SubmitAttempts: { unit: 'Count', dimensions: ['outcome', 'code'] },
  /** From a job's acceptance (createdAt) to SUCCEEDED (completedAt). */
  TimeToSucceeded: { unit: 'Milliseconds', dimensions: [] },
  /** A webhook attempt made (one signed POST). */
  WebhookDeliveries: { unit: 'Count', dimensions: [] },
  /** A webhook attempt that did not deliver (no answer, or not a 2xx). */
  WebhookDeliveryFailures: { unit: 'Count', dimensions: [] },
  /** A webhook delivery given up for good (FAILED: its retry schedule spent, or a target the guard refuses). */
  WebhookDeliveriesFailed: { unit: 'Count', dimensions: [] },
  /** From the submit message's SentTimestamp to its processing. */
  SubmitQueueAge: { unit: 'Milliseconds', dimensions: [] },
} as const;

export type MetricName = keyof typeof METRICS;
export type CountMetric = {
  [N in MetricName]: (typeof METRICS)[N]['unit'] extends 'Count' ? N : never;
}[MetricName];
export type TimingMetric = Exclude<MetricName, CountMetric>;
type DimensionName<N extends MetricName> = (typeof METRICS)[N]['dimensions'][number];
/** The dimensions a metric takes: exactly those of its row, or none at all. */
export type DimensionsArg<N extends MetricName> = [DimensionName<N>] extends [never]
  ? []
  : [dimensions: Readonly<Record<DimensionName<N>, string>>];

/** What lib/ emits metrics through (deps.metrics). */
export interface Metrics {
  count<N extends CountMetric>(name: N, ...dimensions: DimensionsArg<N>): void;
  timing<N extends TimingMetric>(name: N, ms: number, ...dimensions: DimensionsArg<N>): void;
}

/** A function's own metrics: buffered through an invocation, published at its end. */
export interface FunctionMetrics extends Metrics {
  /** Writes what was recorded since the last flush (one EMF line per dimension set) and starts afresh. */
  flush(): void;
}

/** Metrics that go nowhere: the default when a caller's deps name none (tests, the local stack's own tools). */
export const noMetrics: FunctionMetrics = { count() {}, timing() {}, flush() {} };

/** A dimension value is a short label; anything longer is cut (CloudWatch allows 1,024 characters). */
const MAX_DIMENSION_VALUE = 100;

/**
 * A metric's dimensions as its row lists them, in that order: a missing or empty value is `none` (Powertools
 * drops an empty dimension with a warning, and the metric would land in another dimension set).
 */
export function dimensionsOf(name: MetricName, given: Readonly<Record<string, string>> = {}) {
  return Object.fromEntries(
    METRICS[name].dimensions.map((key: string) => [
      key,
      (given[key] || 'none').slice(0, MAX_DIMENSION_VALUE),
    ]),
  );
}

/** Powertools' Metrics, writing to `sink` when one is given (tests) instead of its Console on stdout. */
class SinkMetrics extends PowertoolsMetrics {
  sink: ((line: string) => void) | undefined;
  override publishStoredMetrics(): this {
    if (!this.sink) return super.publishStoredMetrics();
    if (this.hasStoredMetrics() && !this.isDisabled()) this.sink(JSON.stringify(this.serializeMetrics()));
    this.clearMetrics();
    this.clearDimensions();
    this.clearMetadata();
    return this;
  }
}

/**
 * The metrics of one function (`service`: api, chatops, submit, deadLetter, poll). Powertools puts one
 * dimension set on every metric of an EMF line, so each set of dimension values gets its own Powertools
 * instance; a flush publishes those that recorded anything.
 */
export function createMetrics(options: { service: string; sink?: (line: string) => void }): FunctionMetrics {
  const sets = new Map<string, SinkMetrics>();
  const record = (name: MetricName, value: number, given?: Readonly<Record<string, string>>) => {
    const dimensions = dimensionsOf(name, given);
    const key = JSON.stringify(dimensions);
    let set = sets.get(key);
    if (!set) {
      set = new SinkMetrics({
        namespace: METRICS_NAMESPACE,
        serviceName: options.service,
        defaultDimensions: dimensions,
      });
      set.sink = options.sink;
      sets.set(key, set);
    }
    set.addMetric(name, METRICS[name].unit === 'Count' ? MetricUnit.Count : MetricUnit.Milliseconds, value);
  };
  return {
    count: (name, ...[dimensions]) => record(name, 1, dimensions),
    timing: (name, ms, ...[dimensions]) => record(name, Math.max(0, Math.round(ms)), dimensions),
    flush: () => {
      for (const set of sets.values()) if (set.hasStoredMetrics()) set.publishStoredMetrics();
    },
  };
}
