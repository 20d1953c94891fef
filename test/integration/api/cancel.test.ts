import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { cancelJobForCaller } from '../../../lib/api/jobs.ts';
import { ROUTES } from '../../../lib/api/router.ts';
import { JobNotCancellableError, NotFoundError } from '../../../lib/errors.ts';
import type { HttpEvent } from '../../../lib/http/types.ts';
import { claimForSubmission, recordSubmission, releaseClaim } from '../../../lib/jobs/lifecycle.ts';
import { eventId } from '../../../lib/jobs/outbox.ts';
import { getJob } from '../../../lib/jobs/store.ts';
import { REDACTED } from '../../../lib/run-instances/index.ts';
import { submitJob } from '../../../lib/submit/submit-job.ts';
import { type ApiEmulators, emulatorApi, startApiEmulators } from '../../helpers/emulators.ts';
import { getJobEvent, invoke, jobOf, jsonRunEvent, problemOf, TOKENS } from '../../helpers/events.ts';
import { SEED_PASSWORD, seedExample } from '../../helpers/requests.ts';
import { delivery, plainRequest, type SubmitRig, startSubmitRig } from '../../helpers/submit.ts';

let env: ApiEmulators;
beforeAll(async () => {
  env = await startApiEmulators('cancel');
});
afterAll(() => env.stop());

let rig: SubmitRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});
async function start(): Promise<SubmitRig> {
  rig = await startSubmitRig(await env.provision(`cancel-${Math.random().toString(36).slice(2, 8)}`));
  return rig;
}

const withPassword = () => ({
  ...plainRequest({ LoginSettings: { Password: SEED_PASSWORD } }),
  InstanceCount: 1,
});

describe('cancelling a job', () => {
  it('cancels a QUEUED job: CANCELLED, job.cancelled, the password gone; again answers the same', async () => {
    const r = await start();
    const job = await r.accept(withPassword());
    const view = await cancelJobForCaller(r.deps, 'alice', job.jobId);
    expect(view.status).toBe('CANCELLED');
    const stored = await r.job(job.jobId);
    expect(stored.completedAt).not.toBeNull();
    expect(stored.request.LoginSettings?.Password).toBe(REDACTED);
    expect(stored.events[eventId(job.jobId, 'job.cancelled')]).toMatchObject({ type: 'job.cancelled' });
    const again = await cancelJobForCaller(r.deps, 'alice', job.jobId);
    expect(again).toEqual(view);
    expect((await r.job(job.jobId)).version).toBe(stored.version);
  });

  it('leaves a cancelled job’s message to be acknowledged without a Tencent call', async () => {
    const r = await start();
    const job = await r.accept();
    await cancelJobForCaller(r.deps, 'alice', job.jobId);
    expect(await submitJob(r.deps, job.jobId, delivery())).toEqual({ kind: 'done', result: 'already-done' });
    expect(r.tencent.calls).toHaveLength(0);
  });

  it('refuses a SUBMITTED job with 409 naming its state, and changes nothing', async () => {
    const r = await start();
    const job = await r.accept();
    await submitJob(r.deps, job.jobId, delivery());
    const before = await r.job(job.jobId);
    const refusal = cancelJobForCaller(r.deps, 'alice', job.jobId);
    await expect(refusal).rejects.toBeInstanceOf(JobNotCancellableError);
    await expect(refusal).rejects.toMatchObject({ status: 'SUBMITTED', kind: 'conflict' });
    expect((await r.job(job.jobId)).version).toBe(before.version);
  });

  it('refuses a job an attempt holds (its RunInstances may be on the way), and one whose outcome is unknown', async () => {
    const r = await start();
    const held = await claimForSubmission(r.deps, await r.accept());
    await expect(cancelJobForCaller(r.deps, 'alice', held.jobId)).rejects.toBeInstanceOf(
      JobNotCancellableError,
    );
    const unknown = await releaseClaim(r.deps, held, { sendOutcome: 'unknown', lastError: null });
    await expect(cancelJobForCaller(r.deps, 'alice', unknown.jobId)).rejects.toBeInstanceOf(
      JobNotCancellableError,
    );
  });

  it('cancels a job between attempts whose last call created nothing (throttled)', async () => {
    const r = await start();
    const held = await claimForSubmission(r.deps, await r.accept());
    await releaseClaim(r.deps, held, { sendOutcome: 'not-created', lastError: null });
    expect((await cancelJobForCaller(r.deps, 'alice', held.jobId)).status).toBe('CANCELLED');
  });

  it('does not show another caller the job', async () => {
    const r = await start();
    const job = await r.accept();
    await expect(cancelJobForCaller(r.deps, 'bob', job.jobId)).rejects.toBeInstanceOf(NotFoundError);
    expect((await r.job(job.jobId)).status).toBe('QUEUED');
  });

  it('has exactly one winner when a cancel races the submitter’s claim, and no Tencent call after a cancel', async () => {
    for (let round = 0; round < 5; round++) {
      const r = await start();
      const job = await r.accept();
      const [cancelled, submitted] = await Promise.allSettled([
        cancelJobForCaller(r.deps, 'alice', job.jobId),
        submitJob(r.deps, job.jobId, delivery()),
      ]);
      const stored = await r.job(job.jobId);
      if (cancelled.status === 'fulfilled') {
        expect(stored.status).toBe('CANCELLED');
        expect(r.tencent.count('RunInstances')).toBe(0);
      } else {
        expect(cancelled.reason).toBeInstanceOf(JobNotCancellableError);
        expect(stored.status).toBe('SUBMITTED');
        expect(submitted).toMatchObject({
          status: 'fulfilled',
          value: { kind: 'done', result: 'submitted' },
        });
      }
      await r.close();
      rig = undefined;
    }
  });
});

describe('POST /v1/jobs/{jobId}/cancel', () => {
  const cancelEvent = (jobId: string, options: Parameters<typeof getJobEvent>[1] = {}): HttpEvent => {
    const event = getJobEvent(jobId, options);
    return {
      ...event,
      routeKey: ROUTES.cancelJob,
      rawPath: `/v1/jobs/${jobId}/cancel`,
      requestContext: {
        ...event.requestContext,
        routeKey: ROUTES.cancelJob,
        http: { ...event.requestContext.http, method: 'POST', path: `/v1/jobs/${jobId}/cancel` },
      },
    };
  };

  it('answers 200 with the cancelled job, 404 to another caller, and 409 problem+json once it was sent', async () => {
    const handler = createApiHandler(emulatorApi(env).deps);
    const { jobId } = jobOf(await invoke(handler, jsonRunEvent(seedExample(1))));
    const other = await invoke(handler, cancelEvent(jobId, { bearer: TOKENS.bob.token }));
    expect(other.statusCode).toBe(404);
    const response = await invoke(handler, cancelEvent(jobId));
    expect(response.statusCode).toBe(200);
    expect(jobOf(response).status).toBe('CANCELLED');
    expect(jobOf(await invoke(handler, getJobEvent(jobId))).status).toBe('CANCELLED');
  });

  it('answers 409 problem+json naming the state of a job already sent', async () => {
    const api = emulatorApi(env);
    const handler = createApiHandler(api.deps);
    const { jobId } = jobOf(await invoke(handler, jsonRunEvent(seedExample(1))));
    const stored = await getJob(api.deps, jobId);
    if (!stored) throw new Error('no job');
    await recordSubmission(api.deps, await claimForSubmission(api.deps, stored), {
      instanceIds: ['ins-00000001'],
      requestId: null,
    });
    const response = await invoke(handler, cancelEvent(jobId));
    expect(response.statusCode).toBe(409);
    expect(problemOf(response)).toMatchObject({
      status: 409,
      code: 'UnsupportedOperation.JobNotCancellable',
      detail: expect.stringContaining('SUBMITTED'),
    });
  });
});
