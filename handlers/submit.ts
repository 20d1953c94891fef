import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createSubmitDeps } from '../lib/deps.ts';
import { instrument } from '../lib/invocation.ts';
import { consumeBatch } from '../lib/submit/batch.ts';
import { submitJob } from '../lib/submit/submit-job.ts';

const deps = createSubmitDeps();

/** The submit queue's consumer (SQS, ReportBatchItemFailures): each job to Tencent exactly once. */
export const handler = instrument(
  deps.observability,
  (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    consumeBatch(deps, event, context, (jobId, delivery) => submitJob(deps, jobId, delivery)),
);
