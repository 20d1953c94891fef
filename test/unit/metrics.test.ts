import { describe, expect, it } from 'vitest';
import { createMetrics, METRICS, METRICS_NAMESPACE, type MetricName } from '../../lib/metrics.ts';

/** The EMF lines a function's metrics write at each flush. */
function emf(service = 'submit') {
  const lines: string[] = [];
  const metrics = createMetrics({ service, sink: (line) => lines.push(line) });
  return { metrics, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

interface Directive {
  Namespace: string;
  Dimensions: string[][];
  Metrics: Array<{ Name: string; Unit: string }>;
}
const directiveOf = (record: Record<string, unknown>) =>
  (record._aws as { CloudWatchMetrics: Directive[] }).CloudWatchMetrics[0];

/** Records one of each metric, its dimensions given as `<name>-value`. */
function recordOne(metrics: ReturnType<typeof emf>['metrics'], name: MetricName) {
  const dimensions = Object.fromEntries(METRICS[name].dimensions.map((key: string) => [key, `${key}-value`]));
  if (METRICS[name].unit === 'Count') (metrics.count as (n: string, d: unknown) => void)(name, dimensions);
  else (metrics.timing as (n: string, ms: number, d: unknown) => void)(name, 42, dimensions);
}

describe('the metrics of a function (EMF through Powertools)', () => {
  it.each(Object.keys(METRICS) as MetricName[])(
    'publishes %s in the CvmProvisioner namespace with service and its fixed dimensions',
    (name) => {
      const { metrics, records } = emf();
      recordOne(metrics, name);
      metrics.flush();
      const [record] = records();
      if (!record) throw new Error('nothing was written');
      const row = METRICS[name];
      expect(directiveOf(record)).toEqual({
        Namespace: METRICS_NAMESPACE,
        Dimensions: [['service', ...row.dimensions]],
        Metrics: [{ Name: name, Unit: row.unit }],
      });
      expect(record).toMatchObject({ service: 'submit', [name]: row.unit === 'Count' ? 1 : 42 });
      for (const key of row.dimensions) expect(record[key]).toBe(`${key}-value`);
      expect(typeof (record._aws as { Timestamp: unknown }).Timestamp).toBe('number');
    },
  );

  it('writes one line per dimension set, the metrics of a set together, a repeated one as its values', () => {
    const { metrics, records } = emf('poll');
    metrics.count('WebhookDeliveries');
    metrics.count('WebhookDeliveries');
    metrics.count('WebhookDeliveryFailures');
    metrics.timing('TimeToSucceeded', 61_000);
    metrics.count('SubmitAttempts', { outcome: 'retried', code: 'RequestLimitExceeded' });
    metrics.count('SubmitAttempts', { outcome: 'submitted', code: 'none' });
    metrics.flush();
    const lines = records();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      service: 'poll',
      WebhookDeliveries: [1, 1],
      WebhookDeliveryFailures: 1,
    });
    expect(lines[0]).toMatchObject({ TimeToSucceeded: 61_000 });
    expect(directiveOf(lines[0] ?? {})?.Dimensions).toEqual([['service']]);
    expect(lines.slice(1).map((line) => [line.outcome, line.code, line.SubmitAttempts])).toEqual([
      ['retried', 'RequestLimitExceeded', 1],
      ['submitted', 'none', 1],
    ]);
  });

  it('fills an empty dimension value with none, so the metric keeps its dimension set', () => {
    const { metrics, records } = emf();
    metrics.count('JobsRejected', { code: '' });
    metrics.flush();
    expect(records()[0]).toMatchObject({ code: 'none', JobsRejected: 1 });
    expect(directiveOf(records()[0] ?? {})?.Dimensions).toEqual([['service', 'code']]);
  });

  it('writes nothing when nothing was recorded, and starts afresh after each flush', () => {
    const { metrics, lines } = emf();
    metrics.flush();
    expect(lines).toEqual([]);
    metrics.count('JobsAccepted');
    metrics.flush();
    metrics.flush();
    expect(lines).toHaveLength(1);
    metrics.count('JobsAccepted');
    metrics.flush();
    expect(lines).toHaveLength(2);
  });

  it('publishes a timing in whole milliseconds, never below zero (a clock that stepped back)', () => {
    const { metrics, records } = emf();
    metrics.timing('SubmitQueueAge', 12.6);
    metrics.flush();
    metrics.timing('SubmitQueueAge', -5);
    metrics.flush();
    expect(records().map((record) => record.SubmitQueueAge)).toEqual([13, 0]);
  });

  it('gives no metric a high-cardinality dimension: only an outcome and a code, each from a fixed set', () => {
    const dimensions = new Set(Object.values(METRICS).flatMap((row) => [...row.dimensions]));
    expect([...dimensions].sort()).toEqual(['code', 'outcome']);
  });
});
