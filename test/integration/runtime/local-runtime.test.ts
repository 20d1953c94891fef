import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvocationError } from '../../../local/runtime/lambda.ts';
import { type LocalStack, startLocalStack } from '../../../local/stack.ts';
import { waitFor } from '../../helpers/wait.ts';

const FIXTURE = new URL('../../fixtures/runtime/serverless.yml', import.meta.url);

let stack: LocalStack;
const lines: string[] = [];
const said = (fn: string) =>
  lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.fn === fn);

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    dataDir: null,
    serverlessYml: FIXTURE,
    // No simulator: the fixture's functions never call Tencent (another endpoint needs keys, though).
    env: {
      TENCENTCLOUD_ENDPOINT: 'http://127.0.0.1:9',
      TENCENTCLOUD_SECRET_ID: 'AKIDfixture',
      TENCENTCLOUD_SECRET_KEY: 'fixture-key',
      GREETING: 'hi',
      POLL_INTERVAL_MS: '200',
    },
    logSink: (line) => lines.push(line),
  });
});
afterAll(() => stack.stop());

describe('the local runtime reads the functions of serverless.yml', () => {
  it('knows every function with its handler, timeout and events', () => {
    expect(
      stack.functions.map((fn) => [fn.name, fn.file, fn.timeoutSeconds, fn.events.map((e) => e.kind)]),
    ).toEqual([
      ['batch', 'test/fixtures/runtime/handlers.ts', 5, ['sqs']],
      ['tick', 'test/fixtures/runtime/handlers.ts', 5, ['schedule']],
      ['slow', 'test/fixtures/runtime/handlers.ts', 1, []],
      ['overlap', 'test/fixtures/runtime/handlers.ts', 5, ['schedule']],
      ['crash', 'test/fixtures/runtime/handlers.ts', 5, []],
    ]);
  });

  it('says which queues no function consumes', () => {
    expect(stack.unconsumedQueues).toEqual(['WorkDeadLetterQueue']);
  });
});

describe('an SQS event source on the local runtime', () => {
  const workUrl = () => stack.queueUrls.WorkQueue as string;
  const dlqUrl = () => stack.queueUrls.WorkDeadLetterQueue as string;

  beforeAll(async () => {
    for (const [id, fail] of [
      ['ok-1', false],
      ['ok-2', false],
      ['bad', true],
      ['ok-3', false],
    ] as const) {
      await stack.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: workUrl(), MessageBody: JSON.stringify({ id, fail }) }),
      );
    }
    // The failing record is received maxReceiveCount (3) times, then the queue moves it to its DLQ.
    await waitFor('three receives of the failing record', () =>
      said('batch').filter((r) => r.id === 'bad').length >= 3 ? true : undefined,
    );
  });

  it('hands the function its records as Lambda does, with its own resolved environment', () => {
    const [first] = said('batch');
    expect(first).toMatchObject({
      greeting: 'hi',
      table: 'runtime-fixture-local-table',
      queueArn: expect.stringMatching(/:runtime-fixture-local-work$/),
      source: 'aws:sqs',
    });
  });

  it('deletes the records the function did not report failed: each is delivered once', () => {
    for (const id of ['ok-1', 'ok-2', 'ok-3']) {
      expect(said('batch').filter((r) => r.id === id)).toEqual([
        expect.objectContaining({ receiveCount: 1 }),
      ]);
    }
  });

  it('redelivers only the failed record, with its receive count', () => {
    expect(
      said('batch')
        .filter((r) => r.id === 'bad')
        .map((r) => r.receiveCount),
    ).toEqual([1, 2, 3]);
  });

  it('leaves the failed record to the queue, which moves it to the DLQ after maxReceiveCount', async () => {
    const moved = await waitFor('the record in the DLQ', async () => {
      const { Messages = [] } = await stack.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlqUrl(), MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      return Messages.length ? Messages : undefined;
    });
    expect(moved.map((m) => JSON.parse(m.Body ?? '{}').id)).toEqual(['bad']);
    expect(said('batch').filter((r) => r.id === 'bad')).toHaveLength(3);
  });
});

describe('a schedule on the local runtime', () => {
  it('runs the function every POLL_INTERVAL_MS with a Scheduled Event and its remaining time', async () => {
    const ticks = await waitFor('three ticks', () => (said('tick').length >= 3 ? said('tick') : undefined));
    for (const tick of ticks) {
      expect(tick.detailType).toBe('Scheduled Event');
      // The function's 5 s timeout, less whatever the run has spent (a cold start counts too).
      expect(tick.remainingMs).toBeGreaterThan(0);
      expect(tick.remainingMs).toBeLessThanOrEqual(5000);
    }
  });
});

describe('a schedule on a function with reserved concurrency 1', () => {
  it('never runs two invocations at once, though each outlasts the interval', async () => {
    const runs = await waitFor('three runs', () =>
      said('overlap').length >= 3 ? said('overlap') : undefined,
    );
    const spans = runs
      .map((run) => [Number(run.start), Number(run.end)] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++)
      expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] ?? 0);
  });
});

describe('containers on the local runtime', () => {
  it('fails an invocation that outlives the function timeout, as Lambda reports it', async () => {
    const slow = stack.runtime.functions.get('slow');
    const error = await slow?.invoke({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvocationError);
    expect(error).toMatchObject({
      errorType: 'Sandbox.Timedout',
      message: expect.stringContaining('timed out after 1.00 seconds'),
    });
  });

  it('runs concurrent invocations in containers of their own, one invocation per container', async () => {
    const slow = stack.runtime.functions.get('slow');
    const before = slow?.containers ?? 0;
    const results = await Promise.all([slow?.invoke({ sleepMs: 300 }), slow?.invoke({ sleepMs: 300 })]);
    expect(results).toEqual([{ slept: 300 }, { slept: 300 }]);
    expect(slow?.containers).toBeGreaterThanOrEqual(Math.max(before, 2));
  });

  it('discards a timed-out container and serves the next invocation from a fresh one', async () => {
    const slow = stack.runtime.functions.get('slow');
    await expect(slow?.invoke({})).rejects.toMatchObject({ errorType: 'Sandbox.Timedout' });
    await expect(slow?.invoke({ sleepMs: 10 })).resolves.toEqual({ slept: 10 });
  });

  it('keeps module scope across warm invocations, and starts a fresh container after a crash', async () => {
    const crash = stack.runtime.functions.get('crash');
    expect(await crash?.invoke({})).toEqual({ runs: 1 });
    expect(await crash?.invoke({})).toEqual({ runs: 2 });
    const error = await crash?.invoke({ crash: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvocationError', errorType: 'Runtime.ExitError' });
    expect(await crash?.invoke({})).toEqual({ runs: 1 });
  });
});
