import { describe, expect, it } from 'vitest';
import type { Job } from '../../../lib/jobs/model.ts';
import { eventId } from '../../../lib/jobs/outbox.ts';
import { DESCRIBE_MAX_IDS, pollSubmittedJobs, UNANSWERED_ALLOWANCE_MS } from '../../../lib/poll/poll-jobs.ts';
import { type PollRig, pollRigsFor, remaining } from '../../helpers/poll.ts';
import { withoutKeys } from '../../helpers/requests.ts';
import { addFault } from '../../helpers/simulator.ts';
import { plainRequest } from '../../helpers/submit.ts';

const start = pollRigsFor('poller');

/** The simulator's record of an instance, to move it along by hand. */
function simInstance(r: PollRig, instanceId: string) {
  const instance = r.h.sim.state.instances.get(instanceId);
  if (!instance) throw new Error(`the simulator has no ${instanceId}`);
  return instance;
}

const ids = (job: Job) => job.instances.map((i) => i.instanceId);
const terminalEvents = (job: Job) =>
  Object.values(job.events).filter((event) => event.type !== 'job.submitted');

describe('to the true end of a launch', () => {
  it('waits while PENDING, and while RUNNING with the launch still in progress, then SUCCEEDED with addresses', async () => {
    const r = await start({ sim: { bootMs: 1000, settleMs: 1000 } });
    const job = await r.submitted({
      ...plainRequest({ InternetAccessible: { InternetMaxBandwidthOut: 10, PublicIpAssigned: true } }),
      InstanceCount: 2,
    });
    const first = await pollSubmittedJobs(r.run, remaining());
    expect(first).toMatchObject({ jobs: 1, describeCalls: 1, succeeded: 0 });
    expect((await r.job(job.jobId)).status).toBe('SUBMITTED');

    r.h.clock.advance(1000); // RUNNING, its RunInstances still OPERATING
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ progressed: 1 });
    const running = await r.job(job.jobId);
    expect(running.status).toBe('SUBMITTED');
    expect(running.instances.map((i) => i.state)).toEqual(['RUNNING', 'RUNNING']);
    // Nothing changed since: nothing is written.
    r.h.clock.advance(500);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ progressed: 0, succeeded: 0 });
    expect((await r.job(job.jobId)).version).toBe(running.version);

    r.h.clock.advance(500);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ succeeded: 1 });
    const done = await r.job(job.jobId);
    const truth = await r.instancesOf(job.jobId);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.error).toBeNull();
    expect(done.completedAt).not.toBeNull();
    expect(done.instances).toEqual(
      truth.map((instance) => ({
        instanceId: instance.InstanceId,
        state: 'RUNNING',
        privateIpAddresses: [instance.PrivateIpAddress],
        publicIpAddresses: [instance.PublicIpAddress],
      })),
    );
    expect(terminalEvents(done).map((event) => event.type)).toEqual(['job.succeeded']);
    expect(done.events[eventId(job.jobId, 'job.succeeded')]?.snapshot.instances).toEqual(done.instances);
  });

  it('asks DescribeInstances for the job ids with an explicit Limit of 100', async () => {
    const r = await start();
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 3 });
    await pollSubmittedJobs(r.run, remaining());
    const describe = r.tencent.calls.filter((call) => call.action === 'DescribeInstances');
    expect(describe).toEqual([
      { action: 'DescribeInstances', params: { InstanceIds: ids(job), Limit: DESCRIBE_MAX_IDS } },
    ]);
  });

  it('ends FAILED with Tencent’s reason per instance when every instance fails to launch', async () => {
    const r = await start({ sim: { launchFailRate: 1 } });
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 2 });
    r.h.clock.advance(1000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ failed: 1 });
    const failed = await r.job(job.jobId);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatchObject({ code: 'LaunchFailed', requestId: expect.any(String) });
    for (const instance of failed.instances) {
      expect(instance.state).toBe('LAUNCH_FAILED');
      expect(instance.reason).toEqual(expect.any(String));
      expect(failed.error?.message).toContain(`${instance.instanceId}: ${instance.reason}`);
    }
    expect(terminalEvents(failed).map((event) => event.type)).toEqual(['job.failed']);
  });

  it('ends PARTIALLY_FAILED when some launch and some fail, and keeps a failed instance once Tencent reclaims it', async () => {
    const r = await start({ sim: { bootMs: 1000 } });
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 3 });
    const [failing, slow] = ids(job) as [string, string, string];
    simInstance(r, failing).launchFails = true;
    simInstance(r, slow).readyAt += 60_000;
    r.h.clock.advance(2000);
    await pollSubmittedJobs(r.run, remaining());
    const partway = await r.job(job.jobId);
    expect(partway.status).toBe('SUBMITTED');
    expect(partway.instances.map((i) => i.state)).toEqual(['LAUNCH_FAILED', 'PENDING', 'RUNNING']);

    r.h.sim.state.instances.delete(failing); // reclaimed: Describe no longer returns it
    r.h.clock.advance(60_000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ partiallyFailed: 1 });
    const done = await r.job(job.jobId);
    expect(done.status).toBe('PARTIALLY_FAILED');
    expect(done.instances.map((i) => i.state)).toEqual(['LAUNCH_FAILED', 'RUNNING', 'RUNNING']);
    expect(done.error).toMatchObject({ code: 'LaunchFailed.Partial' });
    expect(done.error?.message).toMatch(new RegExp(`^1 of 3 instances failed to launch: ${failing}: `));
    expect(terminalEvents(done).map((event) => event.type)).toEqual(['job.partially_failed']);
  });

  it('times out a job whose instances are not all usable within JOB_TIMEOUT_SECONDS', async () => {
    const r = await start({ sim: { bootMs: 3_600_000 } });
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 2 });
    r.h.clock.advance(899_000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ timedOut: 0 });
    r.h.clock.advance(1000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ timedOut: 1 });
    const timedOut = await r.job(job.jobId);
    expect(timedOut.status).toBe('TIMED_OUT');
    expect(timedOut.error).toMatchObject({ code: 'JobTimedOut' });
    expect(timedOut.error?.message).toContain('2 of 2 instances were not ready within 900 s');
    expect(timedOut.instances.map((i) => i.state)).toEqual(['PENDING', 'PENDING']);
    expect(terminalEvents(timedOut).map((event) => event.type)).toEqual(['job.timed_out']);
  });

  it('counts an instance Describe does not return yet as pending, and finishes once it shows', async () => {
    const r = await start({ sim: { bootMs: 1000 } });
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 2 });
    const [hidden] = ids(job) as [string, string];
    simInstance(r, hidden).visibleAt = r.h.clock.now() + 30_000;
    r.h.clock.advance(2000);
    await pollSubmittedJobs(r.run, remaining());
    const waiting = await r.job(job.jobId);
    expect(waiting.status).toBe('SUBMITTED');
    expect(waiting.instances.map((i) => i.state)).toEqual(['PENDING', 'RUNNING']);

    r.h.clock.advance(30_000);
    await pollSubmittedJobs(r.run, remaining());
    expect((await r.job(job.jobId)).status).toBe('SUCCEEDED');
  });

  it('reports an instance still invisible after the grace period as NOT_FOUND, not silently dropped', async () => {
    const r = await start({ sim: { bootMs: 1000 } });
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 2 });
    const [lost, kept] = ids(job) as [string, string];
    simInstance(r, lost).visibleAt = Number.MAX_SAFE_INTEGER;
    r.h.clock.advance(59_000);
    await pollSubmittedJobs(r.run, remaining());
    expect((await r.job(job.jobId)).status).toBe('SUBMITTED');
    r.h.clock.advance(1000);
    await pollSubmittedJobs(r.run, remaining());
    const done = await r.job(job.jobId);
    expect(done.status).toBe('PARTIALLY_FAILED');
    expect(done.instances).toEqual([
      expect.objectContaining({
        instanceId: lost,
        state: 'NOT_FOUND',
        reason: expect.stringContaining('60 s'),
      }),
      expect.objectContaining({ instanceId: kept, state: 'RUNNING' }),
    ]);
  });

  it('treats a Describe failure as no news: the job waits for the next run', async () => {
    const r = await start({ sim: { bootMs: 1000 } });
    const job = await r.submitted();
    r.h.clock.advance(2000);
    await addFault(r.h.sim, { action: 'DescribeInstances', mode: 'InternalError', count: 1 });
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ describeFailures: 1, succeeded: 0 });
    expect((await r.job(job.jobId)).status).toBe('SUBMITTED');
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ succeeded: 1 });
  });

  it('does not time out a job on a run whose Describe failed, until an allowance past the deadline', async () => {
    const r = await start({ sim: { bootMs: 3_600_000 } });
    const job = await r.submitted();
    r.h.clock.advance(900_000);
    await addFault(r.h.sim, { action: 'DescribeInstances', mode: 'InternalError', count: 1 });
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ describeFailures: 1, timedOut: 0 });
    await addFault(r.h.sim, { action: 'DescribeInstances', mode: 'InternalError', count: 1 });
    r.h.clock.advance(UNANSWERED_ALLOWANCE_MS);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ describeFailures: 1, timedOut: 1 });
    expect((await r.job(job.jobId)).status).toBe('TIMED_OUT');
  });

  it('treats an answer that returns fewer instances than it counts as no answer, not as lost instances', async () => {
    const r = await start({ sim: { bootMs: 1000 } });
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 2 });
    const tencent = r.run.tencent;
    r.run.tencent = {
      call: async (action, params, options) => {
        const answer = await tencent.call(action, params, options);
        return action === 'DescribeInstances'
          ? { ...answer, InstanceSet: (answer.InstanceSet as unknown[]).slice(1) }
          : answer;
      },
    };
    r.h.clock.advance(120_000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ describeFailures: 1, failed: 0 });
    expect((await r.job(job.jobId)).instances.map((i) => i.state)).toEqual(['PENDING', 'PENDING']);
  });

  it('finishes a DryRun job, which created nothing, at once', async () => {
    const r = await start();
    const job = await r.submitted({ ...plainRequest(), DryRun: true });
    expect(job.instances).toEqual([]);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ succeeded: 1, describeCalls: 0 });
    expect((await r.job(job.jobId)).status).toBe('SUCCEEDED');
  });
});

describe('batching', () => {
  it('packs ids a hundred to a call per region: calls = Σ ceil(n/100), through a paginated Query, never a Scan', async () => {
    const r = await start({ sim: { bootMs: 0, quota: 10_000 } });
    const zones = { 'ap-guangzhou-3': 0, 'ap-shanghai-2': 0, 'ap-beijing-3': 0 };
    const counts = [7, 30, 30, 30, 30, 3]; // per job, cycled over the zones
    const jobs: Job[] = [];
    for (let i = 0; i < 120; i++) {
      const zone = Object.keys(zones)[i % 3] as keyof typeof zones;
      const count = counts[i % counts.length] as number;
      zones[zone] += count;
      // No VPC: the test subnet holds 253 addresses, the classic network thousands.
      const request = withoutKeys(plainRequest({ Placement: { Zone: zone } }), 'VirtualPrivateCloud');
      jobs.push(await r.submitted({ ...request, InstanceCount: count }));
    }
    r.ddbCommands.length = 0;
    r.tencent.calls.length = 0;
    const summary = await pollSubmittedJobs(r.run, remaining());
    const expected = Object.values(zones).reduce((sum, n) => sum + Math.ceil(n / 100), 0);
    expect(summary).toMatchObject({ jobs: 120, describeCalls: expected, succeeded: 120 });
    const describe = r.tencent.calls.filter((call) => call.action === 'DescribeInstances');
    expect(describe).toHaveLength(expected);
    for (const call of describe) {
      expect((call.params.InstanceIds as string[]).length).toBeLessThanOrEqual(100);
      expect(call.params.Limit).toBe(100);
    }
    expect(r.ddbCommands.filter((name) => name === 'QueryCommand').length).toBeGreaterThan(1);
    expect(r.ddbCommands).not.toContain('ScanCommand');
    for (const job of jobs) expect((await r.job(job.jobId)).status).toBe('SUCCEEDED');
  }, 60_000);
});

describe('deadlines and overlaps', () => {
  it('starts nothing with too little of the run left, and the next run finishes the work', async () => {
    const r = await start({ sim: { bootMs: 0 } });
    const job = await r.submitted();
    expect(await pollSubmittedJobs(r.run, remaining(4000))).toMatchObject({ describeCalls: 0, deferred: 1 });
    expect((await r.job(job.jobId)).status).toBe('SUBMITTED');
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ succeeded: 1 });
  });

  it('gives two overlapping polls of the same jobs one terminal transition and one terminal event each', async () => {
    const r = await start({ sim: { bootMs: 0 } });
    const jobs = await Promise.all([r.submitted(), r.submitted(), r.submitted()]);
    // Both runs read the jobs and wait for each other at DescribeInstances: they overlap for certain.
    let arrived = 0;
    let release: () => void = () => {};
    const barrier = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tencent = r.run.tencent;
    r.run.tencent = {
      call: async (action, params, options) => {
        if (action === 'DescribeInstances' && ++arrived === 2) release();
        await barrier;
        return tencent.call(action, params, options);
      },
    };
    const [a, b] = await Promise.all([
      pollSubmittedJobs(r.run, remaining()),
      pollSubmittedJobs(r.run, remaining()),
    ]);
    expect([a.jobs, b.jobs]).toEqual([3, 3]);
    // Six decisions to finish a job, three writes won: the other three met the winner's version.
    expect(a.succeeded + b.succeeded).toBe(3);
    expect(a.conflicts + b.conflicts).toBe(3);
    for (const job of jobs) {
      const done = await r.job(job.jobId);
      expect(done.status).toBe('SUCCEEDED');
      expect(terminalEvents(done)).toHaveLength(1);
    }
  });
});
