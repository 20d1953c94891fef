import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Logger } from '../../lib/log.ts';
import type { SqsSource } from '../functions.ts';
import type { LocalFunction } from './lambda.ts';

/**
 * An SQS event source mapping as Lambda runs one (docs/local-stack.md): long-polls the queue, invokes the
 * function with batches of up to `batchSize` records, and deletes what succeeded. With
 * ReportBatchItemFailures only the records the function does not list in `batchItemFailures` are deleted;
 * a response naming a record that is not in the batch, or a function error, timeout or crash, fails the
 * whole batch. Failed records stay on the queue with the visibility the function left them (or the queue's
 * timeout); the queue itself moves a record to its dead-letter queue after maxReceiveCount receives.
 */
export interface SqsSourceRunner {
  stop(): Promise<void>;
  /** Batches handed to the function so far (tests wait on it). */
  readonly batches: number;
}

/** Lambda long-polls with the longest wait SQS allows. */
const WAIT_TIME_SECONDS = 20;
/** After a failed receive, wait this long before the next (the poller backs off as Lambda's does). */
const RECEIVE_RETRY_MS = 1000;
/** SQS hands out at most 10 messages per receive. */
const MAX_MESSAGES_PER_RECEIVE = 10;

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
          ...(value.BinaryValue === undefined
            ? {}
            : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? 'us-east-1',
  };
}

/** The records of a batch that succeeded, by Lambda's rules for a partial batch response; null: none did. */
export function succeededRecords(
  records: readonly SQSRecord[],
  result: unknown,
  reportBatchItemFailures: boolean,
): SQSRecord[] | null {
  if (!reportBatchItemFailures || result === null || result === undefined) return [...records];
  const failures = (result as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return [...records];
  if (!Array.isArray(failures)) return null;
  const ids = new Set(records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return null;
    failed.add(id);
  }
  return records.filter((record) => !failed.has(record.messageId));
}

export function startSqsSource(options: {
  fn: LocalFunction;
  source: SqsSource;
  sqs: Pick<SQSClient, 'send'>;
  queueUrl: string;
  queueArn: string;
  logger: Logger;
}): SqsSourceRunner {
  const { fn, source, sqs, queueUrl, queueArn, logger } = options;
  const abort = new AbortController();
  const maxInFlight = source.maximumConcurrency ?? 2;
  const inFlight = new Set<Promise<void>>();
  let batches = 0;

  const settle = async (records: SQSRecord[]) => {
    batches++;
    const event: SQSEvent = { Records: records };
    let result: unknown;
    try {
      result = await fn.invoke(event);
    } catch (error) {
      logger.warn('the function failed the whole batch; its records return after their visibility timeout', {
        function: fn.name,
        records: records.length,
        error,
      });
      return;
    }
    const succeeded = succeededRecords(records, result, source.reportBatchItemFailures);
    if (succeeded === null) {
      logger.warn('the batch response is invalid; Lambda treats the whole batch as failed', {
        function: fn.name,
        result,
      });
      return;
    }
    for (let i = 0; i < succeeded.length; i += MAX_MESSAGES_PER_RECEIVE) {
      const entries = succeeded
        .slice(i, i + MAX_MESSAGES_PER_RECEIVE)
        .map((record, j) => ({ Id: String(j), ReceiptHandle: record.receiptHandle }));
      try {
        const { Failed = [] } = await sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
        );
        if (Failed.length) {
          logger.warn('some processed records could not be deleted; they will be delivered again', {
            failed: Failed.map((entry) => entry.Code),
          });
        }
      } catch (error) {
        // As on Lambda: an undeleted record is delivered again; the function must be idempotent.
        logger.warn('could not delete processed records; they will be delivered again', { error });
      }
    }
  };

  const receive = (max: number, waitSeconds: number) =>
    sqs
      .send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(max, MAX_MESSAGES_PER_RECEIVE),
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: abort.signal },
      )
      .then((received) => received.Messages ?? []);

  /**
   * One batch: a long poll, then, for a batch size above SQS's 10 per receive, more receives without waiting
   * until the batch is full or the queue has nothing more to give (no batching window is modelled).
   */
  const receiveBatch = async (): Promise<Message[]> => {
    const batch = await receive(source.batchSize, WAIT_TIME_SECONDS);
    while (batch.length > 0 && batch.length < source.batchSize && !abort.signal.aborted) {
      const more = await receive(source.batchSize - batch.length, 0);
      if (more.length === 0) break;
      batch.push(...more);
    }
    return batch;
  };

  const loop = async () => {
    while (!abort.signal.aborted) {
      if (inFlight.size >= maxInFlight) {
        await Promise.race(inFlight);
        continue;
      }
      let messages: Message[];
      try {
        messages = await receiveBatch();
      } catch (error) {
        if (abort.signal.aborted) return;
        logger.warn('could not receive from the queue; retrying', { queueUrl, error });
        await new Promise((resolve) => setTimeout(resolve, RECEIVE_RETRY_MS));
        continue;
      }
      if (messages.length === 0 || abort.signal.aborted) continue;
      const work = settle(messages.map((message) => toRecord(message, queueArn))).finally(() =>
        inFlight.delete(work),
      );
      inFlight.add(work);
    }
  };
  const running = loop();

  return {
    get batches() {
      return batches;
    },
    async stop() {
      abort.abort();
      await running;
      await Promise.allSettled(inFlight);
    },
  };
}
