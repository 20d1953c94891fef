import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseSubmitMessage } from '../queue/producer.ts';
import { retryDelaySeconds } from './backoff.ts';
import type { Delivery, SubmitDeps, SubmitOutcome } from './deps.ts';

/** What a queue consumer needs besides the work itself: the queue, to set a retried record's visibility. */
export interface ConsumerDeps {
  sqs: Pick<SQSClient, 'send'>;
  /** The queue the records came from. */
  queueUrl: string;
  /** The metric a record's age (from SentTimestamp to now) goes to; none: not measured (the DLQ's consumer). */
  queueAgeMetric?: 'SubmitQueueAge';
}

/** Lambda's context, as much of it as a consumer reads. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/**
 * Runs one batch of a queue (docs/job-lifecycle.md, "Retries"), its records side by side: a record whose work is
 * done is acknowledged; one to retry gets its visibility set to its backoff and is listed in
 * `batchItemFailures` (ReportBatchItemFailures), so it — and only it — comes back, after that delay. Nothing
 * throws for the whole batch: a record whose work failed unexpectedly is retried with the ordinary backoff.
 */
export async function consumeBatch(
  deps: SubmitDeps & ConsumerDeps,
  event: SQSEvent,
  context: InvocationContext,
  work: (jobId: string, delivery: Delivery) => Promise<SubmitOutcome>,
): Promise<SQSBatchResponse> {
  const failed = await Promise.all(
    event.Records.map(async (record): Promise<string | null> => {
      if (deps.queueAgeMetric) measureAge(deps, deps.queueAgeMetric, record);
      const message = parseSubmitMessage(record.body);
      if (!message) {
        // It can never succeed: dropped, and said so.
        deps.logger.error('a message that is not { jobId } was dropped', { messageId: record.messageId });
        return null;
      }
      const receiveCount = Math.max(1, Number(record.attributes.ApproximateReceiveCount) || 1);
      const delivery: Delivery = { receiveCount, remainingMs: () => context.getRemainingTimeInMillis() };
      let delaySeconds: number;
      try {
        const outcome = await work(message.jobId, delivery);
        if (outcome.kind === 'done') return null;
        delaySeconds = outcome.delaySeconds;
        if (!outcome.spendsReceive && (await sendAgain(deps, message.jobId, delaySeconds))) return null;
        deps.logger.info('the job is retried later', {
          jobId: message.jobId,
          receiveCount,
          delaySeconds,
          reason: outcome.reason,
        });
      } catch (error) {
        delaySeconds = retryDelaySeconds(receiveCount, deps.random ? { random: deps.random } : {});
        deps.logger.error('the job could not be processed; it is retried', {
          jobId: message.jobId,
          receiveCount,
          delaySeconds,
          error,
        });
      }
      await setVisibility(deps, record, delaySeconds);
      return record.messageId;
    }),
  );
  return {
    batchItemFailures: failed
      .filter((id): id is string => id !== null)
      .map((itemIdentifier) => ({ itemIdentifier })),
  };
}

/**
 * How long the record waited in the queue: from SQS's SentTimestamp (epoch ms, set when the message was sent,
 * including a delayed or re-sent one) to now. A record without the attribute is not measured.
 */
function measureAge(deps: SubmitDeps, metric: 'SubmitQueueAge', record: SQSRecord): void {
  const sent = Number(record.attributes.SentTimestamp);
  if (Number.isFinite(sent) && sent > 0) deps.metrics?.timing(metric, deps.now() - sent);
}

/** SQS delays a message by at most 15 minutes. */
const MAX_DELAY_SECONDS = 15 * 60;

/**
 * Puts a waiting delivery back as a fresh message, delayed, so the wait does not count as a receive; the
 * record itself is then acknowledged. False when the send failed (the record is retried as it is instead).
 * A second message for the job is harmless: its claim decides who acts.
 */
async function sendAgain(deps: SubmitDeps & ConsumerDeps, jobId: string, seconds: number): Promise<boolean> {
  try {
    await deps.sqs.send(
      new SendMessageCommand({
        QueueUrl: deps.queueUrl,
        MessageBody: JSON.stringify({ jobId }),
        DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(seconds))),
      }),
    );
    return true;
  } catch (error) {
    deps.logger.warn('could not put a waiting job back on the queue; its record is retried instead', {
      jobId,
      error,
    });
    return false;
  }
}

/** SQS allows a visibility timeout of at most 12 hours. */
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

/** Best effort: a record whose visibility cannot be set comes back after the queue's own timeout instead. */
async function setVisibility(
  deps: SubmitDeps & ConsumerDeps,
  record: SQSRecord,
  seconds: number,
): Promise<void> {
  try {
    await deps.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: deps.queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(seconds))),
      }),
    );
  } catch (error) {
    deps.logger.warn('could not set a retried record’s visibility; it returns after the queue’s timeout', {
      messageId: record.messageId,
      error,
    });
  }
}
