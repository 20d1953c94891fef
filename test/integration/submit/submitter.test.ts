import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UnknownOutcomeError } from '../../../lib/errors.ts';
import { JOB_TAG_KEY } from '../../../lib/jobs/model.ts';
import { eventId } from '../../../lib/jobs/outbox.ts';
import { REDACTED } from '../../../lib/run-instances/index.ts';
import { submitJob } from '../../../lib/submit/submit-job.ts';
import { staticCredentials } from '../../../lib/tencent/credentials.ts';
import type { ClientTokenMode } from '../../../local/cvm-simulator/index.ts';
import { type ApiEmulators, startApiEmulators } from '../../helpers/emulators.ts';
import { SEED_PASSWORD } from '../../helpers/requests.ts';
import { addFault, SECRET_ID } from '../../helpers/simulator.ts';
import { delivery, plainRequest, type SubmitRig, startSubmitRig, WINDOW_MS } from '../../helpers/submit.ts';

let env: ApiEmulators;
beforeAll(async () => {
  env = await startApiEmulators('submitter');
});
afterAll(() => env.stop());

let rig: SubmitRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function start(options: Parameters<typeof startSubmitRig>[1] = {}): Promise<SubmitRig> {
  rig = await startSubmitRig(env, options);
  return rig;
}

async function inject(r: SubmitRig, fault: Record<string, unknown>): Promise<void> {
  expect((await addFault(r.h.sim, fault)).status).toBe(201);
}

const WITH_PASSWORD = () => ({
  ...plainRequest({ LoginSettings: { Password: SEED_PASSWORD } }),
  InstanceCount: 2,
});

describe('the happy path', () => {
  it('submits a QUEUED job once: SUBMITTED with the InstanceIdSet and RequestId, password gone, job.submitted', async () => {
    const r = await start();
    const job = await r.accept(WITH_PASSWORD());
    expect(await submitJob(r.deps, job.jobId, delivery())).toEqual({ kind: 'done', result: 'submitted' });
    const stored = await r.job(job.jobId);
    const created = await r.instancesOf(job.jobId);
    expect(created).toHaveLength(2);
    expect(stored).toMatchObject({
      status: 'SUBMITTED',
      attempts: 1,
      submitRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      claimExpiresAt: null,
      instances: created.map((instance) =>
        expect.objectContaining({ instanceId: instance.InstanceId, state: 'PENDING' }),
      ),
    });
    expect(stored.request.LoginSettings?.Password).toBe(REDACTED);
    expect(stored.events[eventId(job.jobId, 'job.submitted')]).toMatchObject({ type: 'job.submitted' });
    expect(r.tencent.count('RunInstances')).toBe(1);
    expect(r.tencent.count('DescribeInstances')).toBe(0);
  });

  it('sends the stored request with its fixed ClientToken and the job tag added', async () => {
    const r = await start();
    const job = await r.accept({
      ...plainRequest(),
      TagSpecification: [{ ResourceType: 'instance', Tags: [{ Key: 'team', Value: 'web' }] }],
    });
    await submitJob(r.deps, job.jobId, delivery());
    const sent = r.tencent.calls[0]?.params;
    expect(sent).toMatchObject({
      ClientToken: `cvmp-${job.jobId}`,
      TagSpecification: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'team', Value: 'web' },
            { Key: JOB_TAG_KEY, Value: job.jobId },
          ],
        },
      ],
    });
    expect((await r.instancesOf(job.jobId))[0]?.Tags).toEqual([
      { Key: 'team', Value: 'web' },
      { Key: JOB_TAG_KEY, Value: job.jobId },
    ]);
  });

  it('records a passing DryRun as SUBMITTED with no instances', async () => {
    const r = await start();
    const job = await r.accept({ ...plainRequest(), DryRun: true });
    expect(await submitJob(r.deps, job.jobId, delivery())).toMatchObject({ result: 'submitted' });
    expect(await r.job(job.jobId)).toMatchObject({ status: 'SUBMITTED', instances: [] });
  });
});

describe('duplicate deliveries', () => {
  it('acknowledges the same message a second time without calling Tencent again', async () => {
    const r = await start();
    const job = await r.accept();
    await submitJob(r.deps, job.jobId, delivery());
    expect(await submitJob(r.deps, job.jobId, delivery(2))).toEqual({ kind: 'done', result: 'already-done' });
    expect(r.tencent.count('RunInstances')).toBe(1);
    expect(await r.instancesOf(job.jobId)).toHaveLength(2);
    expect((await r.job(job.jobId)).attempts).toBe(1);
  });

  it('lets one of two concurrent deliveries submit; the other comes back later, and then finds it done', async () => {
    const r = await start();
    const job = await r.accept();
    const outcomes = await Promise.all([
      submitJob(r.deps, job.jobId, delivery()),
      submitJob(r.deps, job.jobId, delivery()),
    ]);
    expect(outcomes.filter((o) => o.kind === 'done' && o.result === 'submitted')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'retry')).toHaveLength(1);
    expect(await submitJob(r.deps, job.jobId, delivery(2))).toMatchObject({ result: 'already-done' });
    expect(r.tencent.count('RunInstances')).toBe(1);
    expect(await r.instancesOf(job.jobId)).toHaveLength(2);
    expect(await r.job(job.jobId)).toMatchObject({ status: 'SUBMITTED', attempts: 1 });
  });

  it('with ClientToken ignored, two concurrent deliveries still create one set of instances', async () => {
    const r = await start({ sim: { clientTokens: 'ignored' } });
    const job = await r.accept();
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () => submitJob(r.deps, job.jobId, delivery())),
    );
    expect(outcomes.filter((o) => o.kind === 'done')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'retry' && !o.spendsReceive)).toHaveLength(3);
    expect(await r.instancesOf(job.jobId)).toHaveLength(2);
    expect(r.tencent.count('RunInstances')).toBe(1);
  });

  it('acknowledges a message whose job does not exist', async () => {
    const r = await start();
    expect(await submitJob(r.deps, '00000000-0000-4000-8000-00000000dead', delivery())).toEqual({
      kind: 'done',
      result: 'no-job',
    });
    expect(r.tencent.calls).toEqual([]);
  });
});

/** Every way an answer can be lost after Tencent did the work. */
const LOST_ANSWERS = [
  ['dropAfterCommit', { mode: 'dropAfterCommit' }],
  ['http502 after commit', { mode: 'http502', when: 'after' }],
  ['timeout after commit', { mode: 'timeout', when: 'after' }],
  ['InternalError after commit', { mode: 'InternalError', when: 'after' }],
  [
    'TradeUnknownError after commit',
    { mode: 'error', code: 'InternalError.TradeUnknownError', when: 'after' },
  ],
] as const;

const TOKEN_MODES: ClientTokenMode[] = ['honoured', 'expiring', 'ignored'];

describe.each(TOKEN_MODES)(
  'an answer lost after the instances were created, ClientToken %s',
  (clientTokens) => {
    it.each(LOST_ANSWERS)(
      '%s: the redelivery records the same instances, and no more are created',
      async (_name, fault) => {
        const r = await start({ sim: { clientTokens, clientTokenTtlMs: 1000 } });
        const job = await r.accept();
        await inject(r, { action: 'RunInstances', count: 1, ...fault });
        const first = await submitJob(r.deps, job.jobId, delivery(1));
        expect(first).toMatchObject({ kind: 'retry' });
        expect((first as { delaySeconds: number }).delaySeconds).toBeGreaterThanOrEqual(WINDOW_MS / 1000);
        const created = (await r.instancesOf(job.jobId)).map((i) => i.InstanceId);
        expect(created).toHaveLength(2);
        expect(await r.job(job.jobId)).toMatchObject({ status: 'SUBMITTING', sendOutcome: 'unknown' });
        r.h.clock.advance(WINDOW_MS);
        expect(await submitJob(r.deps, job.jobId, delivery(2))).toEqual({
          kind: 'done',
          result: 'reconciled',
        });
        const stored = await r.job(job.jobId);
        expect(stored).toMatchObject({ status: 'SUBMITTED', attempts: 2 });
        expect(stored.instances.map((i) => i.instanceId).sort()).toEqual([...created].sort());
        expect(await r.instancesOf(job.jobId)).toHaveLength(2);
        expect(r.tencent.count('RunInstances')).toBe(1);
      },
    );

    it('waits while the instances and their tags are not visible yet, then records exactly them', async () => {
      const r = await start({
        sim: { clientTokens, visibilityDelayMs: 2000, tagDelayMs: 3000, visibilityJitterMs: 2000 },
      });
      const job = await r.accept();
      await inject(r, { action: 'RunInstances', count: 1, mode: 'dropAfterCommit' });
      await submitJob(r.deps, job.jobId, delivery(1));
      // Too early: Describe shows nothing; the attempt waits instead of creating again.
      r.h.clock.advance(1000);
      const early = await submitJob(r.deps, job.jobId, delivery(2));
      expect(early).toMatchObject({ kind: 'retry', spendsReceive: false });
      expect(r.tencent.count('RunInstances')).toBe(1);
      // Waiting for the tags costs no attempt.
      expect(await r.job(job.jobId)).toMatchObject({
        status: 'SUBMITTING',
        attempts: 1,
        reconcileAfter: expect.any(String),
      });
      r.h.clock.advance(WINDOW_MS);
      expect(await submitJob(r.deps, job.jobId, delivery(3))).toMatchObject({ result: 'reconciled' });
      expect((await r.job(job.jobId)).attempts).toBe(2);
      expect((await r.job(job.jobId)).instances).toHaveLength(2);
      expect(await r.instancesOf(job.jobId)).toHaveLength(2);
      expect(r.tencent.count('RunInstances')).toBe(1);
    });
  },
);

describe('failures before the work', () => {
  it('faults before commit twice, then success: SUBMITTED after 3 attempts, with exactly the instances asked for', async () => {
    const r = await start({ sim: { clientTokens: 'ignored' } });
    const job = await r.accept();
    await inject(r, { action: 'RunInstances', count: 1, mode: 'http502' });
    await inject(r, { action: 'RunInstances', count: 1, mode: 'timeout' });
    expect(await submitJob(r.deps, job.jobId, delivery(1))).toMatchObject({ kind: 'retry' });
    r.h.clock.advance(WINDOW_MS);
    expect(await submitJob(r.deps, job.jobId, delivery(2))).toMatchObject({ kind: 'retry' });
    r.h.clock.advance(WINDOW_MS);
    expect(await submitJob(r.deps, job.jobId, delivery(3))).toMatchObject({ result: 'submitted' });
    expect(await r.job(job.jobId)).toMatchObject({ status: 'SUBMITTED', attempts: 3 });
    expect(await r.instancesOf(job.jobId)).toHaveLength(2);
    // Each retry after an unknown outcome looked first.
    expect(r.tencent.calls.map((c) => c.action)).toEqual([
      'RunInstances',
      'DescribeInstances',
      'RunInstances',
      'DescribeInstances',
      'RunInstances',
    ]);
  });

  it.each([
    ['RequestLimitExceeded', { mode: 'RequestLimitExceeded' }],
    [
      'RequestLimitExceeded.UinLimitExceeded',
      { mode: 'error', code: 'RequestLimitExceeded.UinLimitExceeded' },
    ],
  ])(
    'backs off from %s, longer with each receive, and retries without looking first',
    async (_name, fault) => {
      const r = await start({ deps: { random: () => 1 } });
      const job = await r.accept();
      await inject(r, { action: 'RunInstances', count: 3, ...fault });
      const delays: number[] = [];
      for (let receive = 1; receive <= 3; receive++) {
        const outcome = await submitJob(r.deps, job.jobId, delivery(receive));
        expect(outcome).toMatchObject({ kind: 'retry' });
        delays.push((outcome as { delaySeconds: number }).delaySeconds);
        expect(await r.job(job.jobId)).toMatchObject({
          sendOutcome: 'not-created',
          reconcileAfter: null,
          lastError: expect.objectContaining({ code: expect.stringMatching(/^RequestLimitExceeded/) }),
        });
      }
      expect(delays).toEqual([5, 10, 20]);
      expect(await submitJob(r.deps, job.jobId, delivery(4))).toMatchObject({ result: 'submitted' });
      expect(r.tencent.count('DescribeInstances')).toBe(0);
      expect(await r.instancesOf(job.jobId)).toHaveLength(2);
    },
  );

  it.each([
    ['an operation in progress', 'FailedOperation.InProgress'],
    ['a mutex', 'MutexOperation.TaskRunning'],
  ])('retries after %s, which created nothing', async (_name, code) => {
    const r = await start();
    const job = await r.accept();
    await inject(r, { action: 'RunInstances', count: 1, mode: 'error', code });
    expect(await submitJob(r.deps, job.jobId, delivery(1))).toMatchObject({ kind: 'retry' });
    expect(await r.job(job.jobId)).toMatchObject({ status: 'SUBMITTING', sendOutcome: 'not-created' });
    expect(await submitJob(r.deps, job.jobId, delivery(2))).toMatchObject({ result: 'submitted' });
  });
});

describe('permanent errors', () => {
  it.each([
    ['capacity', 'ResourcesSoldOut.SpecifiedInstanceType', 'another zone or instance type'],
    ['capacity', 'ResourceInsufficient.SpecifiedInstanceType', 'another zone or instance type'],
    ['balance', 'InvalidAccount.InsufficientBalance', 'top up'],
    ['quota', 'LimitExceeded.InstanceQuota', 'raise the quota'],
  ])(
    '%s (%s): FAILED after one attempt with its code, message, advice and RequestId',
    async (_what, code, advice) => {
      const r = await start();
      const job = await r.accept();
      await inject(r, { action: 'RunInstances', count: 1, mode: 'error', code, message: `no: ${code}` });
      expect(await submitJob(r.deps, job.jobId, delivery())).toEqual({ kind: 'done', result: 'failed' });
      const stored = await r.job(job.jobId);
      expect(stored).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        error: {
          code,
          message: expect.stringContaining(`no: ${code}`),
          requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        },
      });
      expect(stored.error?.message).toContain(advice);
      expect(stored.request.LoginSettings?.Password).toBeUndefined();
      expect(stored.events[eventId(job.jobId, 'job.failed')]).toMatchObject({ type: 'job.failed' });
      expect(await r.instancesOf(job.jobId)).toEqual([]);
    },
  );

  it("the simulator's own quota (InstancesQuotaLimitExceeded): FAILED after one attempt", async () => {
    const r = await start({ sim: { quota: 1 } });
    const job = await r.accept();
    await submitJob(r.deps, job.jobId, delivery());
    expect(await r.job(job.jobId)).toMatchObject({
      status: 'FAILED',
      error: { code: 'InstancesQuotaLimitExceeded' },
    });
    expect(r.tencent.count('RunInstances')).toBe(1);
  });

  it("a zone the region does not have (InvalidZone.MismatchRegion): FAILED with Tencent's code", async () => {
    const r = await start({
      sim: {
        catalog: {
          ...(await import('../../../local/cvm-simulator/index.ts')).DEFAULT_CATALOG,
          zones: { 'ap-guangzhou': ['ap-guangzhou-6'] },
        },
      },
    });
    const job = await r.accept();
    await submitJob(r.deps, job.jobId, delivery());
    expect(await r.job(job.jobId)).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: { code: 'InvalidZone.MismatchRegion', requestId: expect.any(String) },
    });
  });

  it('a bad signature (AuthFailure.SignatureFailure): FAILED after one attempt, saying to check the key', async () => {
    const r = await start({ client: { credentials: staticCredentials(SECRET_ID, 'not-the-key') } });
    const job = await r.accept();
    await submitJob(r.deps, job.jobId, delivery());
    const stored = await r.job(job.jobId);
    expect(stored).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: { code: 'AuthFailure.SignatureFailure' },
    });
    expect(stored.error?.message).toContain('check the Tencent key');
    expect(r.tencent.count('RunInstances')).toBe(1);
  });
});

describe('a submitter that dies', () => {
  it('killed after RunInstances succeeded and before its write: the next delivery records exactly its instances', async () => {
    // The first submitter's write never returns: the process is gone, its claim left to run out.
    let frozen = false;
    const r = await start({
      deps: {},
      wrap: (client) => ({
        call: async (action, params, options) => {
          const answer = await client.call(action, params, options);
          if (action === 'RunInstances' && !frozen) {
            frozen = true;
            await new Promise(() => {});
          }
          return answer;
        },
      }),
    });
    const job = await r.accept();
    void submitJob(r.deps, job.jobId, delivery(1, 30_000));
    await waitUntil(async () => (await r.instancesOf(job.jobId)).length === 2);
    // Its claim holds others off while it might still act…
    expect(await submitJob(r.deps, job.jobId, delivery(2))).toMatchObject({ kind: 'retry' });
    // …then it has run out, and the lookup finds every instance the dead attempt created.
    r.h.clock.advance(30_000 + 5_000);
    expect(await submitJob(r.deps, job.jobId, delivery(3))).toMatchObject({ result: 'reconciled' });
    const stored = await r.job(job.jobId);
    expect(stored.instances.map((i) => i.instanceId).sort()).toEqual(
      (await r.instancesOf(job.jobId)).map((i) => i.InstanceId).sort(),
    );
    expect(await r.instancesOf(job.jobId)).toHaveLength(2);
    expect(r.tencent.count('RunInstances')).toBe(1);
  });

  it.each([
    ['a dropped connection', () => new UnknownOutcomeError('ConnectionError', 'socket hang up')],
    [
      'a bug of ours between claim and answer',
      () => new TypeError("Cannot read properties of undefined (reading 'x')"),
    ],
  ])('%s is an unknown outcome: retried after a lookup, never a failure', async (_name, error) => {
    const r = await start({
      wrap: () => ({
        call: async () => {
          throw error();
        },
      }),
    });
    const job = await r.accept();
    expect(await submitJob(r.deps, job.jobId, delivery())).toMatchObject({
      kind: 'retry',
      spendsReceive: true,
    });
    expect(await r.job(job.jobId)).toMatchObject({
      status: 'SUBMITTING',
      sendOutcome: 'unknown',
      reconcileAfter: expect.any(String),
    });
  });
});

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('timed out');
}
