import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type ConsumerDeps, consumeBatch } from '../../../lib/submit/batch.ts';
import { done, type SubmitDeps } from '../../../lib/submit/deps.ts';
import { captureLogs } from '../../helpers/logs.ts';
import { recordMetrics } from '../../helpers/metrics.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');

/** A submit-queue record for `jobId`, sent `ageMs` before NOW (SQS's SentTimestamp, epoch ms as a string). */
function record(jobId: string, ageMs: number | undefined): SQSRecord {
  return {
    messageId: `m-${jobId}`,
    receiptHandle: `rh-${jobId}`,
    body: JSON.stringify({ jobId }),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: ageMs === undefined ? '' : String(NOW - ageMs),
      SenderId: 'AIDA',
      ApproximateFirstReceiveTimestamp: String(NOW),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:submit',
    awsRegion: 'us-east-1',
  };
}

/** A consumer whose work acknowledges every record; `queueAgeMetric` as the composition root sets it. */
function consumer(queueAgeMetric?: 'SubmitQueueAge') {
  const recorder = recordMetrics();
  const deps = {
    now: () => NOW,
    logger: captureLogs('submit').logger,
    metrics: recorder.metrics,
    sqs: { send: async () => ({}) },
    queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/submit',
    ...(queueAgeMetric ? { queueAgeMetric } : {}),
  } as unknown as SubmitDeps & ConsumerDeps;
  const run = (records: SQSRecord[]) =>
    consumeBatch(
      deps,
      { Records: records } as SQSEvent,
      { getRemainingTimeInMillis: () => 90_000 },
      async () => done('submitted'),
    );
  return { recorder, run };
}

describe('the submit queue’s age (SubmitQueueAge)', () => {
  it('measures each record from its SentTimestamp to its processing', async () => {
    const { recorder, run } = consumer('SubmitQueueAge');
    await run([record('a', 1500), record('b', 0), record('c', 120_000)]);
    expect(recorder.timings('SubmitQueueAge')).toEqual([1500, 0, 120_000]);
  });

  it('leaves out a record without a SentTimestamp', async () => {
    const { recorder, run } = consumer('SubmitQueueAge');
    await run([record('a', undefined), record('b', 10)]);
    expect(recorder.timings('SubmitQueueAge')).toEqual([10]);
  });

  it('measures nothing on a consumer that is not given the metric (the dead-letter queue’s)', async () => {
    const { recorder, run } = consumer();
    await run([record('a', 1500)]);
    expect(recorder.recorded).toEqual([]);
  });
});
