import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MAX_SUBMIT_ATTEMPTS } from '../../../lib/submit/stuck.ts';
import { readFunctions } from '../../../local/functions.ts';
import { SERVERLESS_YML } from '../../../local/resources.ts';

/** serverless.yml's functions agree with what the code assumes of them. */
const { functions } = readFunctions(SERVERLESS_YML);
const file = parse(readFileSync(SERVERLESS_YML, 'utf8')) as {
  provider: { environment: Record<string, unknown> };
  resources: { Resources: Record<string, { Properties: Record<string, unknown> }> };
};
const fn = (name: string) => {
  const spec = functions.find((f) => f.name === name);
  if (!spec) throw new Error(`serverless.yml has no function ${name}`);
  return spec;
};
const queue = (id: string) => file.resources.Resources[id]?.Properties ?? {};

describe('serverless.yml', () => {
  it('paces the submitters for the concurrency they run at: SUBMIT_MAX_CONCURRENCY is the SQS maximumConcurrency', () => {
    const [source] = fn('submit').events;
    expect(source).toMatchObject({
      kind: 'sqs',
      queue: 'SubmitQueue',
      batchSize: 10,
      reportBatchItemFailures: true,
    });
    expect(String((source as { maximumConcurrency?: number }).maximumConcurrency)).toBe(
      String(file.provider.environment.SUBMIT_MAX_CONCURRENCY),
    );
  });

  it("gives each queue a visibility timeout of at least 6x its consumer's timeout, and the submit claim room to end first", () => {
    expect(Number(queue('SubmitQueue').VisibilityTimeout)).toBeGreaterThanOrEqual(
      6 * fn('submit').timeoutSeconds,
    );
    expect(Number(queue('SubmitDeadLetterQueue').VisibilityTimeout)).toBeGreaterThanOrEqual(
      6 * fn('dead-letter').timeoutSeconds,
    );
  });

  it("leaves room for a slow but successful RunInstances (60 s) inside the submit function's timeout", () => {
    expect(fn('submit').timeoutSeconds).toBeGreaterThanOrEqual(60 + 20);
  });

  it('dead-letters after as many receives as the sweep counts attempts, and consumes the dead-letter queue', () => {
    expect((queue('SubmitQueue').RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBe(
      MAX_SUBMIT_ATTEMPTS,
    );
    expect(fn('dead-letter').events).toEqual([
      expect.objectContaining({ kind: 'sqs', queue: 'SubmitDeadLetterQueue' }),
    ]);
  });

  it('serves the chat endpoint without an IAM authorizer: the platform’s signature is the authentication', () => {
    expect(fn('chatops').events).toEqual([{ kind: 'httpApi', routeKey: 'POST /v1/chatops/slack' }]);
    const raw = parse(readFileSync(SERVERLESS_YML, 'utf8')) as {
      functions: Record<string, { events: Array<{ httpApi?: { authorizer?: unknown } }> }>;
    };
    expect(raw.functions.chatops?.events.every((event) => event.httpApi?.authorizer === undefined)).toBe(
      true,
    );
    // Slack gives three seconds: the function's own limit is short, and it never calls Tencent.
    expect(fn('chatops').timeoutSeconds).toBeLessThanOrEqual(10);
  });

  it('runs one sweep at a time, every minute', () => {
    expect(fn('poll')).toMatchObject({
      reservedConcurrency: 1,
      events: [{ kind: 'schedule', expression: 'rate(1 minute)' }],
    });
  });
});
