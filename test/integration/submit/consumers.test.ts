import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TencentApiError, UnknownOutcomeError } from '../../../lib/errors.ts';
import { claimForSubmission } from '../../../lib/jobs/lifecycle.ts';
import { eventId } from '../../../lib/jobs/outbox.ts';
import { consumeBatch } from '../../../lib/submit/batch.ts';
import { resolveDeadLetter } from '../../../lib/submit/dead-letter.ts';
import { RETRIES_EXHAUSTED } from '../../../lib/submit/resolve.ts';
import { MAX_SUBMIT_ATTEMPTS, resolveStuckJobs, STUCK_SUBMITTING_MS } from '../../../lib/submit/stuck.ts';
import { submitJob } from '../../../lib/submit/submit-job.ts';
import { type ApiEmulators, type ApiStack, drainQueue, startApiEmulators } from '../../helpers/emulators.ts';
import { addFault } from '../../helpers/simulator.ts';
import { delivery, plainRequest, type SubmitRig, startSubmitRig, WINDOW_MS } from '../../helpers/submit.ts';

let env: ApiEmulators;
beforeAll(async () => {
  env = await startApiEmulators('consumers');
});
afterAll(() => env.stop());

let rig: SubmitRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

let stages = 0;
async function start(
  options: Parameters<typeof startSubmitRig>[1] = {},
): Promise<{ r: SubmitRig; stack: ApiStack }> {
  // Each test gets its own table and queues, so queue contents are its own.
  const stack = await env.provision(`consumers-${++stages}`);
  rig = await startSubmitRig(stack, options);
  return { r: rig, stack };
}

const remaining = { getRemainingTimeInMillis: () => 90_000 };

/**
 * Receives the visible messages, leaving each visible again at once (VisibilityTimeout 0), until a receive
 * brings nothing new (every receive counts towards the queue's maxReceiveCount of 5).
 */
async function receiveAll(stack: ApiStack): Promise<SQSRecord[]> {
  const records: SQSRecord[] = [];
  for (let round = 0; round < 3; round++) {
    const before = records.length;
    const { Messages = [] } = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.submitQueueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    for (const message of Messages) {
      const seen = records.find((r) => r.messageId === message.MessageId);
      if (seen) {
        // A later receive's handle replaces the earlier one, which SQS no longer honours.
        seen.receiptHandle = message.ReceiptHandle ?? '';
        continue;
      }
      records.push({
        messageId: message.MessageId ?? '',
        receiptHandle: message.ReceiptHandle ?? '',
        body: message.Body ?? '',
        attributes: { ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1' },
      } as unknown as SQSRecord);
    }
    if (records.length === before) break;
  }
  return records;
}

const jobOf = (record: SQSRecord) => {
  try {
    return (JSON.parse(record.body) as { jobId?: string }).jobId;
  } catch {
    return record.body;
  }
};

describe('a batch of the submit queue', () => {
  it('reports exactly the records to retry, sets their visibility to their backoff, and acknowledges the rest', async () => {
    const { r, stack } = await start({
      wrap: (client) => ({
        call: async (action, params, options) => {
          const token = String(params.ClientToken ?? '');
          if (action === 'RunInstances' && token.endsWith(throttledId))
            throw new TencentApiError('RequestLimitExceeded', 'throttled', {
              requestId: 'req-throttled',
              retryable: true,
              errorClass: 'transient',
            });
          const answer = await client.call(action, params, options);
          if (action === 'RunInstances' && token.endsWith(lostId))
            throw new UnknownOutcomeError('ConnectionError', 'the answer was lost');
          return answer;
        },
      }),
    });
    let throttledId = '-';
    let lostId = '-';
    const happy = await r.accept();
    const refused = await r.accept({ ...plainRequest(), ImageId: 'img-00000000' });
    const throttled = await r.accept();
    const lost = await r.accept();
    const done = await r.accept();
    const held = await r.accept();
    throttledId = throttled.jobId;
    lostId = lost.jobId;
    await submitJob(r.deps, done.jobId, delivery());
    await claimForSubmission(r.deps, held, 120_000);
    for (const body of ['{"jobId":"00000000-0000-4000-8000-0000000000ff"}', 'not json at all'])
      await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.submitQueueUrl, MessageBody: body }));

    const records = await receiveAll(stack);
    expect(records).toHaveLength(8);
    const event = { Records: records } as SQSEvent;
    const response = await consumeBatch(
      { ...r.deps, sqs: stack.sqs, queueUrl: stack.submitQueueUrl },
      event,
      remaining,
      (jobId, d) => submitJob(r.deps, jobId, d),
    );
    const failedJobs = response.batchItemFailures.map((failure) =>
      jobOf(records.find((record) => record.messageId === failure.itemIdentifier) as SQSRecord),
    );
    // The held job waits without spending a receive: acknowledged, and put back as a fresh delayed message.
    expect(failedJobs.sort()).toEqual([throttled.jobId, lost.jobId].sort());
    expect(await r.job(happy.jobId)).toMatchObject({ status: 'SUBMITTED' });
    expect(await r.job(refused.jobId)).toMatchObject({
      status: 'FAILED',
      error: { code: 'InvalidImageId.NotFound' },
    });
    expect(r.logs.text()).toContain('a message that is not { jobId } was dropped');
    // The acknowledged records are visible again at once (this test received them with no visibility; the
    // Lambda poller would delete them); the retried ones are hidden for their backoff, and the held job's
    // fresh message is delayed.
    const visible = (await receiveAll(stack)).map(jobOf);
    for (const id of [throttled.jobId, lost.jobId]) expect(visible).not.toContain(id);
    expect(visible.filter((id) => id === held.jobId)).toHaveLength(1);
    expect(visible).toContain(happy.jobId);
    const { Attributes } = await stack.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.submitQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessagesDelayed'],
      }),
    );
    expect(Attributes?.ApproximateNumberOfMessagesDelayed).toBe('1');
  });
});

describe('the dead-letter queue', () => {
  it('a job that always fails: five deliveries back off, then its dead letter FAILS it with SubmitRetriesExhausted', async () => {
    const { r } = await start();
    const job = await r.accept();
    await addFault(r.h.sim, { action: 'RunInstances', mode: 'error', code: 'ResourceInUse', rate: 1 });
    for (let receive = 1; receive <= 5; receive++)
      expect(await submitJob(r.deps, job.jobId, delivery(receive))).toMatchObject({ kind: 'retry' });
    expect(await resolveDeadLetter(r.deps, job.jobId, delivery())).toEqual({
      kind: 'done',
      result: 'failed',
    });
    const stored = await r.job(job.jobId);
    expect(stored).toMatchObject({
      status: 'FAILED',
      attempts: 5,
      error: { code: RETRIES_EXHAUSTED, message: expect.stringContaining('the last: ResourceInUse') },
    });
    expect(stored.events[eventId(job.jobId, 'job.failed')]).toBeDefined();
    expect(r.tencent.count('RunInstances')).toBe(5);
  });

  it('a job whose last answer was lost: its dead letter waits for the tags, then records the instances', async () => {
    const { r } = await start({ sim: { clientTokens: 'ignored' } });
    const job = await r.accept();
    await addFault(r.h.sim, { action: 'RunInstances', mode: 'http502', when: 'after', count: 1 });
    await submitJob(r.deps, job.jobId, delivery());
    const before = r.tencent.count('RunInstances');
    // Without the instances visible the dead letter waits…
    r.h.sim.state.settings.tagDelayMs = 60_000;
    for (const instance of r.h.sim.state.instances.values()) instance.tagsVisibleAt = r.h.clock.now() + 5_000;
    expect(await resolveDeadLetter(r.deps, job.jobId, delivery())).toMatchObject({ kind: 'retry' });
    r.h.clock.advance(WINDOW_MS);
    expect(await resolveDeadLetter(r.deps, job.jobId, delivery())).toEqual({
      kind: 'done',
      result: 'reconciled',
    });
    expect(await r.job(job.jobId)).toMatchObject({
      status: 'SUBMITTED',
      instances: [expect.anything(), expect.anything()],
    });
    expect(r.tencent.count('RunInstances')).toBe(before);
    expect(await r.instancesOf(job.jobId)).toHaveLength(2);
  });

  it('a dead attempt that created nothing: FAILED once the lookup can be trusted, never sending RunInstances', async () => {
    const { r } = await start();
    const job = await r.accept();
    await claimForSubmission(r.deps, job, 1000);
    r.h.clock.advance(1000);
    expect(await resolveDeadLetter(r.deps, job.jobId, delivery())).toMatchObject({ kind: 'retry' });
    r.h.clock.advance(WINDOW_MS);
    expect(await resolveDeadLetter(r.deps, job.jobId, delivery())).toEqual({
      kind: 'done',
      result: 'failed',
    });
    expect((await r.job(job.jobId)).error?.message).toContain('no instances were found');
    expect(r.tencent.count('RunInstances')).toBe(0);
  });

  it('fails a job it cannot look for within an hour as SubmitOutcomeUnknown, saying where to look', async () => {
    const { r } = await start({
      wrap: (client) => ({
        call: async (action, params, options) => {
          if (action === 'DescribeInstances')
            throw new TencentApiError('UnauthorizedOperation', 'no cvm:DescribeInstances', {
              requestId: 'req-denied',
              retryable: false,
              errorClass: 'quota',
            });
          return client.call(action, params, options);
        },
      }),
    });
    const job = await r.accept();
    await addFault(r.h.sim, { action: 'RunInstances', mode: 'http502', count: 1 });
    await submitJob(r.deps, job.jobId, delivery());
    r.h.clock.advance(WINDOW_MS);
    expect(await resolveDeadLetter(r.deps, job.jobId, delivery())).toMatchObject({
      kind: 'retry',
      spendsReceive: false,
    });
    r.h.clock.advance(60 * 60 * 1000);
    expect(await resolveDeadLetter(r.deps, job.jobId, delivery())).toEqual({
      kind: 'done',
      result: 'failed',
    });
    const stored = await r.job(job.jobId);
    expect(stored).toMatchObject({
      status: 'FAILED',
      error: { code: 'SubmitOutcomeUnknown', requestId: 'req-denied' },
    });
    expect(stored.error?.message).toContain(`cvm-provisioner:job-id=${job.jobId}`);
  });

  it('leaves a job a live delivery holds, fails a QUEUED one outright, and acknowledges a finished one', async () => {
    const { r } = await start();
    const held = await claimForSubmission(r.deps, await r.accept(), 60_000);
    expect(await resolveDeadLetter(r.deps, held.jobId, delivery())).toMatchObject({
      kind: 'retry',
      delaySeconds: 60,
    });
    const queued = await r.accept();
    expect(await resolveDeadLetter(r.deps, queued.jobId, delivery())).toMatchObject({ result: 'failed' });
    expect(await r.job(queued.jobId)).toMatchObject({ status: 'FAILED', error: { code: RETRIES_EXHAUSTED } });
    const submitted = await r.accept();
    await submitJob(r.deps, submitted.jobId, delivery());
    expect(await resolveDeadLetter(r.deps, submitted.jobId, delivery())).toMatchObject({
      result: 'already-done',
    });
    expect(r.tencent.count('DescribeInstances')).toBe(0);
  });
});

describe('the sweep of stuck submissions', () => {
  it('records the instances of a job no delivery came back for, re-enqueues one with nothing found, fails one out of attempts', async () => {
    const { r, stack } = await start();
    // Created, then the answer lost, and the message gone: found by the sweep.
    const created = await r.accept();
    await addFault(r.h.sim, { action: 'RunInstances', mode: 'dropAfterCommit', count: 1 });
    await submitJob(r.deps, created.jobId, delivery());
    // Claimed, then the process died before sending: nothing exists, attempts left.
    const lostBeforeSending = await claimForSubmission(r.deps, await r.accept(), 1000);
    // Out of attempts, nothing found.
    const exhausted = await claimForSubmission(r.deps, { ...(await r.accept()) }, 1000);
    let tired = exhausted;
    for (let i = 1; i < MAX_SUBMIT_ATTEMPTS; i++) {
      r.h.clock.advance(1001);
      tired = await claimForSubmission(r.deps, tired, 1000);
    }
    // Recent: its claim ran out a minute ago, a delivery may still come back.
    r.h.clock.advance(STUCK_SUBMITTING_MS + 2000);
    const recent = await claimForSubmission(r.deps, await r.accept(), 1000);
    r.h.clock.advance(60_000);
    await drainQueue(stack.sqs, stack.submitQueueUrl);

    const sweep = () =>
      resolveStuckJobs(
        { ...r.deps, sqs: stack.sqs, queueUrl: stack.submitQueueUrl },
        { remainingMs: () => 60_000 },
      );
    expect(await sweep()).toEqual({ recorded: 1, failed: 1, requeued: 1, waiting: 0 });
    expect(await r.job(created.jobId)).toMatchObject({ status: 'SUBMITTED' });
    expect(await r.job(tired.jobId)).toMatchObject({
      status: 'FAILED',
      attempts: MAX_SUBMIT_ATTEMPTS,
      error: { code: RETRIES_EXHAUSTED },
    });
    expect(await r.job(lostBeforeSending.jobId)).toMatchObject({ status: 'SUBMITTING' });
    expect(await r.job(recent.jobId)).toMatchObject({ status: 'SUBMITTING', attempts: 1 });
    expect((await drainQueue(stack.sqs, stack.submitQueueUrl)).map((body) => JSON.parse(body).jobId)).toEqual(
      [lostBeforeSending.jobId],
    );
    // The re-enqueued job is not sent again by the next sweep.
    expect(await sweep()).toEqual({ recorded: 0, failed: 0, requeued: 0, waiting: 0 });
    expect(r.tencent.count('RunInstances')).toBe(1);
  });
});
