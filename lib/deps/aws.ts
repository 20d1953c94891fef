import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The AWS clients of the composition root (docs/architecture.md), in a module of their own so that a function
 * that needs only them (the API, the chat endpoint) bundles nothing else.
 */

/**
 * Short socket budgets and two attempts per AWS call. `throwOnRequestTimeout`: without it the SDK only warns
 * when a request outlives `requestTimeout` and goes on waiting, so a hung connection would hold the request
 * until the function's own timeout. With it, a call gives up within about 2 s a try; accepting a job makes a
 * handful in a row (claim, reserve, put, settle, send, complete; the idempotency and ClientToken steps may
 * repeat theirs), well inside the API function's 25 s (serverless.yml). A request cut short there is safe: its
 * Idempotency-Key record names its job, and an unsettled job write is settled by the retry.
 */
export const AWS_REQUEST_HANDLER = {
  connectionTimeout: 500,
  requestTimeout: 1500,
  throwOnRequestTimeout: true,
} as const;
export const AWS_MAX_ATTEMPTS = 2;

/**
 * The chat endpoint's budgets: Slack gives three seconds for the whole answer, which makes a handful of calls
 * in a row, so each gives up sooner than the API's.
 */
export const CHAT_REQUEST_HANDLER = {
  connectionTimeout: 300,
  requestTimeout: 600,
  throwOnRequestTimeout: true,
} as const;

export function documentClient(
  client = new DynamoDBClient({ requestHandler: AWS_REQUEST_HANDLER, maxAttempts: AWS_MAX_ATTEMPTS }),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * An SQS client that sends to its configured endpoint (the region's, or AWS_ENDPOINT_URL_SQS), not to the
 * host a queue URL names: deployed the two are the same, and locally fauxqs names hosts that do not resolve.
 */
export function sqsClient(
  requestHandler: typeof AWS_REQUEST_HANDLER | typeof CHAT_REQUEST_HANDLER = AWS_REQUEST_HANDLER,
): SQSClient {
  return new SQSClient({
    requestHandler,
    maxAttempts: AWS_MAX_ATTEMPTS,
    useQueueUrlAsEndpoint: false,
  });
}

/** A DynamoDB client with the chat endpoint's budgets. */
export function chatDynamoDBClient(): DynamoDBClient {
  return new DynamoDBClient({ requestHandler: CHAT_REQUEST_HANDLER, maxAttempts: AWS_MAX_ATTEMPTS });
}
