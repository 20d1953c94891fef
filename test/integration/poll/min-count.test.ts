import { describe, expect, it } from 'vitest';
import { recordProgress } from '../../../lib/jobs/lifecycle.ts';
import type { Job } from '../../../lib/jobs/model.ts';
import { eventId } from '../../../lib/jobs/outbox.ts';
import { minCountMissed, TERMINATED_REASON } from '../../../lib/poll/min-count.ts';
import { pollSubmittedJobs } from '../../../lib/poll/poll-jobs.ts';
import { jobIn } from '../../helpers/jobs.ts';
import { type PollRig, pollRigsFor, remaining } from '../../helpers/poll.ts';
import { addFault } from '../../helpers/simulator.ts';
import { plainRequest } from '../../helpers/submit.ts';

const start = pollRigsFor('min-count');

function simInstance(r: PollRig, instanceId: string) {
  const instance = r.h.sim.state.instances.get(instanceId);
  if (!instance) throw new Error(`the simulator has no ${instanceId}`);
  return instance;
}

const ids = (job: Job) => job.instances.map((i) => i.instanceId);
const terminateCalls = (r: PollRig) => r.tencent.calls.filter((call) => call.action === 'TerminateInstances');
/** The simulator's truth of the job's instances, by id: what is left running is what a bill is made of. */
async function truth(r: PollRig, job: Job): Promise<Record<string, string>> {
  return Object.fromEntries((await r.instancesOf(job.jobId)).map((i) => [i.InstanceId, i.InstanceState]));
}

describe('minCount, the all-or-nothing launch', () => {
  it('ends as usual when enough instances run: one of three failed, minCount 2 → PARTIALLY_FAILED, nothing terminated', async () => {
    const r = await start({ sim: { bootMs: 1000 } });
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 3 }, { minCount: 2 });
    simInstance(r, ids(job)[0] as string).launchFails = true;
    r.h.clock.advance(1000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({
      partiallyFailed: 1,
      terminateCalls: 0,
    });
    const done = await r.job(job.jobId);
    expect(done.status).toBe('PARTIALLY_FAILED');
    expect(done.rollback).toBeNull();
    expect(terminateCalls(r)).toHaveLength(0);
    expect(Object.values(await truth(r, job)).sort()).toEqual(['LAUNCH_FAILED', 'RUNNING', 'RUNNING']);
  });

  it('terminates what it launched and ends FAILED with MinCountNotMet, listing each instance, when too few run', async () => {
    const r = await start({ sim: { bootMs: 1000 } });
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 3 }, { minCount: 3 });
    const [failing, ...running] = ids(job) as [string, string, string];
    simInstance(r, failing).launchFails = true;
    r.h.clock.advance(1000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ failed: 1, terminateCalls: 1 });

    expect(terminateCalls(r).map((call) => call.params)).toEqual([{ InstanceIds: running }]);
    const failed = await r.job(job.jobId);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatchObject({ code: 'MinCountNotMet', requestId: failed.submitRequestId });
    expect(failed.error?.message).toMatch(
      /^2 of 3 instances reached RUNNING, 1 failed: fewer than minCount 3\./,
    );
    expect(failed.error?.message).toContain(`${failing} failed to launch`);
    for (const id of running) expect(failed.error?.message).toContain(`${id} terminated`);
    expect(failed.instances.map((i) => [i.state, i.reason])).toEqual([
      ['LAUNCH_FAILED', expect.any(String)],
      ['TERMINATING', TERMINATED_REASON],
      ['TERMINATING', TERMINATED_REASON],
    ]);
    const event = failed.events[eventId(job.jobId, 'job.failed')];
    expect(event?.snapshot.error?.code).toBe('MinCountNotMet');
    // The simulator's truth: nothing of the job runs.
    expect(await truth(r, job)).toEqual({
      [failing]: 'LAUNCH_FAILED',
      [running[0]]: 'TERMINATING',
      [running[1]]: 'TERMINATING',
    });
    r.h.clock.advance(2000);
    expect(Object.values(await truth(r, job))).not.toContain('RUNNING');
  });

  it('begins as soon as minCount cannot be met, and terminates the pending ones once they may be terminated', async () => {
    const r = await start({ sim: { bootMs: 1000 } });
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 3 }, { minCount: 3 });
    const [failing, slow, quick] = ids(job) as [string, string, string];
    simInstance(r, failing).launchFails = true;
    simInstance(r, slow).readyAt += 60_000;
    r.h.clock.advance(1000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ rollingBack: 1, terminateCalls: 1 });
    const rolling = await r.job(job.jobId);
    expect(rolling.status).toBe('SUBMITTED');
    expect(rolling.rollback?.reason).toBe(
      '1 of 3 instances reached RUNNING, 1 failed, 1 still pending: fewer than minCount 3',
    );
    // The RUNNING one is terminated now; TerminateInstances refuses a PENDING instance, so that one waits.
    expect(terminateCalls(r).map((call) => call.params)).toEqual([{ InstanceIds: [quick] }]);
    expect(rolling.instances.map((i) => i.state)).toEqual(['LAUNCH_FAILED', 'PENDING', 'TERMINATING']);

    r.h.clock.advance(60_000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ failed: 1, terminateCalls: 1 });
    expect(terminateCalls(r).map((call) => call.params)).toEqual([
      { InstanceIds: [quick] },
      { InstanceIds: [slow] },
    ]);
    const failed = await r.job(job.jobId);
    expect(failed.status).toBe('FAILED');
    expect(failed.error?.code).toBe('MinCountNotMet');
    // The quick one is gone by now: it stays TERMINATING in the job, as the poller keeps an ended instance.
    expect(failed.instances.map((i) => i.state)).toEqual(['LAUNCH_FAILED', 'TERMINATING', 'TERMINATING']);
    expect(Object.values(await truth(r, job))).not.toContain('RUNNING');
  });

  it('sends TerminateInstances again when Tencent throttles it, within the run', async () => {
    const r = await start({ sim: { bootMs: 1000 } });
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 2 }, { minCount: 2 });
    simInstance(r, ids(job)[0] as string).launchFails = true;
    await addFault(r.h.sim, { action: 'TerminateInstances', mode: 'RequestLimitExceeded', count: 2 });
    r.h.clock.advance(1000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ failed: 1, terminateCalls: 3 });
    expect((await r.job(job.jobId)).error?.code).toBe('MinCountNotMet');
    expect(Object.values(await truth(r, job)).sort()).toEqual(['LAUNCH_FAILED', 'TERMINATING']);
  });

  it('tries again in the next run after a failed TerminateInstances, and fails the job only once it went through', async () => {
    const r = await start({ sim: { bootMs: 1000 } });
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 2 }, { minCount: 2 });
    const [failing, running] = ids(job) as [string, string];
    simInstance(r, failing).launchFails = true;
    await addFault(r.h.sim, { action: 'TerminateInstances', mode: 'InternalError', count: 1 });
    r.h.clock.advance(1000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ rollingBack: 1, terminateCalls: 1 });
    expect((await r.job(job.jobId)).status).toBe('SUBMITTED');
    expect((await truth(r, job))[running]).toBe('RUNNING');

    r.h.clock.advance(60_000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ failed: 1, terminateCalls: 1 });
    expect((await r.job(job.jobId)).error?.code).toBe('MinCountNotMet');
    expect((await truth(r, job))[running]).toBe('TERMINATING');
  });

  it('reconciles a TerminateInstances whose answer was lost: the next Describe shows it went through, and it is not sent again', async () => {
    const r = await start({ sim: { bootMs: 1000 } });
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 2 }, { minCount: 2 });
    const [failing, running] = ids(job) as [string, string];
    simInstance(r, failing).launchFails = true;
    await addFault(r.h.sim, { action: 'TerminateInstances', mode: 'dropAfterCommit', count: 1 });
    r.h.clock.advance(1000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ rollingBack: 1, terminateCalls: 1 });
    expect((await r.job(job.jobId)).instances.map((i) => i.state)).toEqual(['LAUNCH_FAILED', 'RUNNING']);
    expect((await truth(r, job))[running]).toBe('TERMINATING');

    r.h.clock.advance(1000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ failed: 1, terminateCalls: 0 });
    expect(terminateCalls(r)).toHaveLength(1);
    const failed = await r.job(job.jobId);
    expect(failed.error?.code).toBe('MinCountNotMet');
    expect(failed.instances[1]).toMatchObject({ state: 'TERMINATING', reason: TERMINATED_REASON });
  });

  it('rolls back a job that timed out with too few RUNNING, and names what it could not terminate in time', async () => {
    const r = await start({ sim: { bootMs: 3_600_000 } });
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 2 }, { minCount: 1 });
    r.h.clock.advance(900_000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ rollingBack: 1, timedOut: 0 });
    expect((await r.job(job.jobId)).rollback?.reason).toBe(
      '0 of 2 instances reached RUNNING, 2 still pending: fewer than minCount 1',
    );
    expect(terminateCalls(r)).toHaveLength(0);

    r.h.clock.advance(900_000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ failed: 1 });
    const failed = await r.job(job.jobId);
    expect(failed.error?.code).toBe('MinCountNotMet');
    for (const id of ids(job))
      expect(failed.error?.message).toContain(`${id} still PENDING, its termination not confirmed`);
  });
});

describe('a job that recorded fewer instances than it asked for', () => {
  /**
   * What reconciliation records when RunInstances' answer was lost and, by the time the job looked its
   * instances up by tag, one of them had failed to launch and been reclaimed: only the one still there.
   */
  async function short(r: PollRig, control: Record<string, unknown> = {}): Promise<Job> {
    const job = await r.submitted({ ...plainRequest(), InstanceCount: 2 }, control);
    const [kept, reclaimed] = ids(job) as [string, string];
    simInstance(r, reclaimed).launchFails = true;
    return recordProgress(
      r.run,
      job,
      job.instances.filter((i) => i.instanceId === kept),
    );
  }

  it('ends PARTIALLY_FAILED, never SUCCEEDED, saying what was never found', async () => {
    const r = await start({ sim: { bootMs: 1000 } });
    const job = await short(r);
    r.h.clock.advance(3000);
    expect(await pollSubmittedJobs(r.run, remaining())).toMatchObject({ partiallyFailed: 1 });
    const done = await r.job(job.jobId);
    expect(done.status).toBe('PARTIALLY_FAILED');
    expect(done.instances.map((i) => i.state)).toEqual(['RUNNING']);
    expect(done.error).toMatchObject({ code: 'LaunchFailed.Partial' });
    expect(done.error?.message).toMatch(/^1 of 2 instances failed to launch; 1 never found: /);
  });

  it('counts the one never found against minCount: the one running is terminated, FAILED MinCountNotMet', async () => {
    const r = await start({ sim: { bootMs: 1000 } });
    const job = await short(r, { minCount: 2 });
    const [kept] = ids(job) as [string];
    r.h.clock.advance(1000);
    await pollSubmittedJobs(r.run, remaining());
    r.h.clock.advance(1000);
    await pollSubmittedJobs(r.run, remaining());
    const failed = await r.job(job.jobId);
    expect(failed.status).toBe('FAILED');
    expect(failed.error?.code).toBe('MinCountNotMet');
    expect(failed.error?.message).toMatch(/^1 of 2 instances reached RUNNING, 1 failed \(1 never found\)/);
    expect(terminateCalls(r).map((call) => call.params)).toEqual([{ InstanceIds: [kept] }]);
  });
});

describe('minCountMissed', () => {
  const job = (minCount: number | null, rolling = false) =>
    jobIn('SUBMITTED', {
      minCount,
      rollback: rolling ? { startedAt: '2026-12-01T00:00:00.000Z', reason: 'earlier' } : null,
    });

  it('says nothing without minCount, without instances, or once the rollback began', () => {
    expect(minCountMissed(job(null), ['failed', 'failed'], true)).toBeNull();
    expect(minCountMissed(job(1), [], true)).toBeNull();
    expect(minCountMissed(job(2, true), ['failed', 'failed'], true)).toBeNull();
  });

  it('waits while minCount can still be met, and not once it cannot', () => {
    expect(minCountMissed(job(2), ['failed', 'pending', 'pending'], false)).toBeNull();
    expect(minCountMissed(job(2), ['failed', 'failed', 'pending'], false)).toMatch(/fewer than minCount 2$/);
    expect(minCountMissed(job(2), ['done', 'pending', 'pending'], true)).toMatch(/^1 of 3 instances reached/);
    expect(minCountMissed(job(2), ['done', 'done', 'failed'], true)).toBeNull();
  });

  it('counts instances the job never recorded as failed', () => {
    expect(minCountMissed(job(1), ['pending'], false, 1)).toBeNull();
    expect(minCountMissed(job(2), ['pending'], false, 1)).toMatch(
      /^0 of 2 instances reached RUNNING, 1 failed/,
    );
    expect(minCountMissed(job(2), ['done'], true, 1)).toBe(
      '1 of 2 instances reached RUNNING, 1 failed (1 never found): fewer than minCount 2',
    );
    expect(minCountMissed(job(3), ['pending', 'pending'], false, 1)).toMatch(/fewer than minCount 3$/);
    expect(minCountMissed(job(1), ['done'], true, 1)).toBeNull();
  });
});
