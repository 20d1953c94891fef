import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDeadLetterDeps } from '../lib/deps.ts';
import { instrument } from '../lib/invocation.ts';
import { consumeBatch } from '../lib/submit/batch.ts';
import { resolveDeadLetter } from '../lib/submit/dead-letter.ts';

const deps = createDeadLetterDeps();

/** The submit dead-letter queue's consumer: a job whose message ran out of receives ends SUBMITTED or FAILED. */
export const handler = instrument(
  deps.observability,
  (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    consumeBatch(deps, event, context, (jobId, delivery) => resolveDeadLetter(deps, jobId, delivery)),
);
