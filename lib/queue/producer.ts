import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface QueueDeps {
  sqs: Pick<SQSClient, 'send'>;
  queueUrl: string;
}

/** The submit queue's message: only the job id; the job itself lives in DynamoDB. */
export interface SubmitMessage {
  jobId: string;
}

/** Sends one `{ jobId }` message to the submit queue. */
export async function enqueueSubmit(deps: QueueDeps, jobId: string): Promise<void> {
  const message: SubmitMessage = { jobId };
  await deps.sqs.send(
    new SendMessageCommand({ QueueUrl: deps.queueUrl, MessageBody: JSON.stringify(message) }),
  );
}

/** Parses a submit-queue message body; undefined for anything that is not `{ jobId: string }`. */
export function parseSubmitMessage(body: string): SubmitMessage | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const jobId = (parsed as { jobId?: unknown } | null)?.jobId;
    return typeof jobId === 'string' && jobId.length > 0 ? { jobId } : undefined;
  } catch {
    return undefined;
  }
}
