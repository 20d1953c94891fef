import { describe, expect, it } from 'vitest';
import { acquireLease, readLease } from '../../../lib/jobs/lease.ts';
import { eventId } from '../../../lib/jobs/outbox.ts';
import { POLL_LEASE, runScheduled } from '../../../lib/poll/run.ts';
import { pollRigsFor, remaining } from '../../helpers/poll.ts';

const startRig = pollRigsFor('scheduled');
const start = () => startRig({ sim: { bootMs: 0 } });

describe('a scheduled run', () => {
  it('polls, then delivers what it just decided: job.submitted and job.succeeded reach the receiver', async () => {
    const r = await start();
    const job = await r.submitted();
    const result = await runScheduled(r.run, remaining());
    expect(result).toMatchObject({ ran: true, poll: { succeeded: 1 }, notify: { delivered: 2 } });
    expect(r.receiver.received.map((request) => request.headers['webhook-id']).sort()).toEqual(
      [eventId(job.jobId, 'job.submitted'), eventId(job.jobId, 'job.succeeded')].sort(),
    );
  });

  it('runs once when two overlap: the second finds the lease held and changes nothing', async () => {
    const r = await start();
    const jobs = await Promise.all([r.submitted(), r.submitted()]);
    const results = await Promise.all([runScheduled(r.run, remaining()), runScheduled(r.run, remaining())]);
    expect(results.filter((result) => result.ran)).toHaveLength(1);
    expect(results.filter((result) => !result.ran)).toEqual([{ ran: false, reason: 'lease-held' }]);
    for (const job of jobs) {
      expect((await r.job(job.jobId)).status).toBe('SUCCEEDED');
      const succeeded = r.receiver.received.filter(
        (request) => request.headers['webhook-id'] === eventId(job.jobId, 'job.succeeded'),
      );
      expect(succeeded).toHaveLength(1);
    }
  });

  it('goes on with the poller and the notifier when the sweep fails, and says which step failed', async () => {
    const r = await start();
    const job = await r.submitted();
    const ddb = r.run.ddb;
    r.run.ddb = {
      send: ((command: { input?: { ExpressionAttributeValues?: Record<string, unknown> } }) =>
        command.input?.ExpressionAttributeValues?.[':status'] === 'QUEUED'
          ? Promise.reject(new Error('the table is unavailable'))
          : ddb.send(command as never)) as typeof ddb.send,
    };
    const result = await runScheduled(r.run, remaining());
    expect(result).toMatchObject({ ran: true, requeued: { failed: 'Error' }, poll: { succeeded: 1 } });
    expect((await r.job(job.jobId)).status).toBe('SUCCEEDED');
    expect(r.logs.records()).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: expect.stringContaining('sweep of lost messages failed'),
      }),
    );
  });

  it('gives the lease back when it ends, so the next run does not wait for it to run out', async () => {
    const r = await start();
    await runScheduled(r.run, remaining());
    const lease = await readLease(r.run, POLL_LEASE);
    expect(Date.parse(lease?.expiresAt ?? '')).toBeLessThanOrEqual(r.h.clock.now());
    expect(await runScheduled(r.run, remaining())).toMatchObject({ ran: true });
  });

  it('takes over a lease whose holder died once it runs out, and not before', async () => {
    const r = await start();
    expect(await acquireLease(r.run, POLL_LEASE, 'a-run-that-died', r.h.clock.now() + 60_000)).toBeDefined();
    expect(await runScheduled(r.run, remaining())).toEqual({ ran: false, reason: 'lease-held' });
    r.h.clock.advance(60_000);
    expect(await runScheduled(r.run, remaining())).toMatchObject({ ran: true });
  });
});
