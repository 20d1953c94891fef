import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acceptJob } from '../../lib/jobs/accept.ts';
import { deliverDueEvents } from '../../lib/notify/notifier.ts';
import { pollSubmittedJobs } from '../../lib/poll/poll-jobs.ts';
import { submitJob } from '../../lib/submit/submit-job.ts';
import { type ApiEmulators, emulatorApi, startApiEmulators } from '../helpers/emulators.ts';
import type { Reply } from '../helpers/loopback-server.ts';
import { type PollRig, remaining, startPollRig, TEST_WEBHOOK_SECRET } from '../helpers/poll.ts';
import { SEED_PASSWORD } from '../helpers/requests.ts';
import { addFault, SECRET_KEY } from '../helpers/simulator.ts';
import { delivery, plainRequest } from '../helpers/submit.ts';

/**
 * Every line about a job carries its id, its caller and Tencent's RequestId once there is one (docs/operating.md,
 * "Logs"), through a job's whole life: accepted, throttled, submitted, polled to SUCCEEDED, its webhook
 * failing once and then delivered.
 */
let env: ApiEmulators;
beforeAll(async () => {
  env = await startApiEmulators('log-lines');
});
afterAll(() => env.stop());

let rig: PollRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('the log lines of a job', () => {
  it('says who accepted it and which job it is', async () => {
    const api = emulatorApi(await env.provision('log-lines-accept'));
    const { job } = await acceptJob(api.deps, { caller: 'alice', request: plainRequest() });
    expect(api.logs.records()).toEqual([
      expect.objectContaining({ message: 'job accepted', jobId: job.jobId, caller: 'alice', level: 'info' }),
    ]);
  });

  it('carries the job id, the caller and a Tencent RequestId on every line from its submission to its webhook', async () => {
    const statuses = [500];
    const reply: Reply = (_request, res) => void res.writeHead(statuses.shift() ?? 204).end();
    rig = await startPollRig(await env.provision('log-lines-life'), {
      reply,
      sim: { bootMs: 1000, settleMs: 0 },
    });
    const job = await rig.accept({
      ...plainRequest({ LoginSettings: { Password: SEED_PASSWORD } }),
      InstanceCount: 1,
    });
    await addFault(rig.h.sim, { action: 'RunInstances', count: 1, mode: 'RequestLimitExceeded' });
    expect(await submitJob(rig.deps, job.jobId, delivery(1))).toMatchObject({ kind: 'retry' });
    expect(await submitJob(rig.deps, job.jobId, delivery(2))).toMatchObject({ result: 'submitted' });
    const submitted = await rig.job(job.jobId);
    rig.h.clock.advance(2_000);
    expect(await pollSubmittedJobs(rig.run, remaining())).toMatchObject({ succeeded: 1 });
    await deliverDueEvents(rig.run, remaining());
    rig.h.clock.advance(5_000);
    await deliverDueEvents(rig.run, remaining());

    const records = rig.logs.records();
    expect(records.map((record) => record.message)).toEqual(
      expect.arrayContaining([
        'RunInstances created nothing; the job is retried',
        'RunInstances created the instances',
        'job finished',
        'webhook attempt failed; it is tried again later',
        'webhook delivered',
      ]),
    );
    for (const record of records)
      expect(record, String(record.message)).toMatchObject({
        jobId: job.jobId,
        caller: 'alice',
        requestId: expect.stringMatching(UUID),
      });
    // The throttled attempt's line names that call's RequestId; the others the RunInstances that created them.
    const [throttled, ...rest] = records;
    expect(throttled).toMatchObject({ code: 'RequestLimitExceeded' });
    expect(throttled?.requestId).not.toBe(submitted.submitRequestId);
    for (const record of rest) expect(record.requestId).toBe(submitted.submitRequestId);
    const text = rig.logs.text();
    for (const secret of [SEED_PASSWORD, SECRET_KEY, TEST_WEBHOOK_SECRET]) expect(text).not.toContain(secret);
  });
});
