import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../lib/api/handler.ts';
import { type ChatDeps, handleSlashCommand } from '../../lib/chatops/command.ts';
import type { HttpEvent } from '../../lib/http/types.ts';
import type { ChatOrigin } from '../../lib/jobs/model.ts';
import { deliverDueEvents } from '../../lib/notify/notifier.ts';
import { pollSubmittedJobs } from '../../lib/poll/poll-jobs.ts';
import { submitJob } from '../../lib/submit/submit-job.ts';
import { awsErrors } from '../helpers/aws-mocks.ts';
import { commandFields, formBody, SLACK_SECRET, slackRequest, USER } from '../helpers/chat.ts';
import { type ApiEmulators, type ApiStack, emulatorApi, startApiEmulators } from '../helpers/emulators.ts';
import { invoke, jsonRunEvent, problemOf, runInstancesEvent } from '../helpers/events.ts';
import type { Reply } from '../helpers/loopback-server.ts';
import { type MetricsRecorder, recordMetrics } from '../helpers/metrics.ts';
import { type PollRig, remaining, startPollRig } from '../helpers/poll.ts';
import { seedExample, validRequest } from '../helpers/requests.ts';
import { addFault } from '../helpers/simulator.ts';
import { delivery, plainRequest, type SubmitRig, startSubmitRig, WINDOW_MS } from '../helpers/submit.ts';

/**
 * The metrics lib/ emits (docs/operating.md, "Metrics"), each where it should be, through a recording fake of
 * deps.metrics: the API and the chat path, the submitter, the poller and the notifier, on the emulators and
 * the simulator.
 */
let env: ApiEmulators;
beforeAll(async () => {
  env = await startApiEmulators('metrics');
});
afterAll(() => env.stop());

const fresh = () => env.provision(`metrics-${Math.random().toString(36).slice(2, 8)}`);

const rigs: Array<SubmitRig | PollRig> = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) await rig.close();
});

describe('jobs accepted and rejected over the API', () => {
  let stack: ApiStack;
  let recorder: MetricsRecorder;
  let handler: ReturnType<typeof createApiHandler>;
  beforeAll(async () => {
    stack = await fresh();
  });
  const api = (overrides: Parameters<typeof emulatorApi>[1] = {}) => {
    recorder = recordMetrics();
    const { deps } = emulatorApi(stack, {
      metrics: recorder.metrics,
      policy: { maxInstancesPerJob: 5 },
      ...overrides,
    });
    handler = createApiHandler(deps);
  };

  it('counts an accepted job once, and not again when its Idempotency-Key replays it', async () => {
    api();
    const event = jsonRunEvent(seedExample(2), { idempotencyKey: '"metrics-replay-1"' });
    expect((await invoke(handler, event)).statusCode).toBe(202);
    expect((await invoke(handler, event)).statusCode).toBe(202);
    expect(recorder.count('JobsAccepted')).toBe(1);
    expect(recorder.count('JobsRejected')).toBe(0);
  });

  it.each<[string, () => HttpEvent, number]>([
    ['an invalid request', () => jsonRunEvent({ ...validRequest(), ImageId: 'not-an-image' }), 400],
    ['a missing parameter', () => jsonRunEvent({ ...validRequest(), Placement: undefined }), 400],
    ['a policy refusal', () => jsonRunEvent({ ...validRequest(), InstanceCount: 9 }), 403],
    ['a body of another media type', () => runInstancesEvent({ contentType: 'text/plain', body: 'x' }), 415],
    ['a malformed Idempotency-Key', () => jsonRunEvent(validRequest(), { idempotencyKey: 'no quotes' }), 400],
  ])('counts %s as rejected under the code its problem answer carries', async (_name, event, status) => {
    api();
    const response = await invoke(handler, event());
    expect(response.statusCode).toBe(status);
    expect(recorder.dimensionSets('JobsRejected')).toEqual([{ code: problemOf(response).code }]);
    expect(recorder.count('JobsAccepted')).toBe(0);
  });

  it('counts a submission the job store could not take as rejected with ServiceUnavailable', async () => {
    api({
      ddb: {
        send: async () => {
          throw awsErrors.outage();
        },
      } as unknown as ApiStack['ddb'],
    });
    const response = await invoke(handler, jsonRunEvent(validRequest()));
    expect(response.statusCode).toBe(503);
    expect(recorder.dimensionSets('JobsRejected')).toEqual([{ code: 'ServiceUnavailable' }]);
  });

  it('does not count a request that never authenticated', async () => {
    api();
    expect((await invoke(handler, jsonRunEvent(validRequest(), { bearer: null }))).statusCode).toBe(401);
    expect(recorder.recorded).toEqual([]);
  });
});

describe('jobs accepted and rejected over chat', () => {
  let recorder: MetricsRecorder;
  let deps: ChatDeps;
  let now: () => number;
  beforeAll(async () => {
    const stack = await fresh();
    recorder = recordMetrics();
    const api = emulatorApi(stack, { profile: 'current', metrics: recorder.metrics });
    now = api.clock.now;
    deps = {
      ...api.deps,
      chat: { slackSigningSecret: SLACK_SECRET, allowedUsers: [USER], allowPrivate: false },
    };
  });
  const slack = (text: string, fields: Record<string, string> = {}) =>
    handleSlashCommand(
      deps,
      slackRequest(formBody(commandFields(text, fields)), { timestamp: Math.floor(now() / 1000) }),
    );
  const RUN = 'run zone=ap-guangzhou-3 image=img-pmqg1cw7 type=S5.MEDIUM4 count=1';

  it('counts a run that made a job, once however often the platform retries it', async () => {
    const before = recorder.count('JobsAccepted');
    const trigger = { trigger_id: 'metrics.1234.trigger' };
    await slack(RUN, trigger);
    await slack(RUN, trigger);
    expect(recorder.count('JobsAccepted') - before).toBe(1);
  });

  it('counts a run refused by validation under its code, and a check not at all', async () => {
    const before = recorder.recorded.length;
    await slack('run zone=ap-guangzhou-3 image=img-nope type=S5.MEDIUM4');
    await slack('check zone=ap-guangzhou-3 image=img-nope type=S5.MEDIUM4');
    const added = recorder.recorded.slice(before);
    expect(added).toEqual([
      { name: 'JobsRejected', value: 1, dimensions: { code: expect.stringMatching(/^Invalid/) } },
    ]);
  });
});

describe('submission attempts by outcome and Tencent code', () => {
  const submitRig = async (sim: NonNullable<Parameters<typeof startSubmitRig>[1]>['sim'] = {}) => {
    const recorder = recordMetrics();
    const rig = await startSubmitRig(await fresh(), { sim, deps: { metrics: recorder.metrics } });
    rigs.push(rig);
    return { rig, recorder };
  };

  it('counts a created job as submitted with no code', async () => {
    const { rig, recorder } = await submitRig();
    const job = await rig.accept();
    await submitJob(rig.deps, job.jobId, delivery());
    expect(recorder.dimensionSets('SubmitAttempts')).toEqual([{ outcome: 'submitted', code: 'none' }]);
  });

  it('counts a throttled attempt as retried with Tencent’s code, then the one that created the job', async () => {
    const { rig, recorder } = await submitRig();
    const job = await rig.accept();
    expect(
      (await addFault(rig.h.sim, { action: 'RunInstances', count: 1, mode: 'RequestLimitExceeded' })).status,
    ).toBe(201);
    await submitJob(rig.deps, job.jobId, delivery(1));
    await submitJob(rig.deps, job.jobId, delivery(2));
    expect(recorder.recorded.map((entry) => entry.dimensions)).toEqual([
      { outcome: 'retried', code: 'RequestLimitExceeded' },
      { outcome: 'submitted', code: 'none' },
    ]);
  });

  it('counts a refusal for good as failed with Tencent’s code', async () => {
    const { rig, recorder } = await submitRig({ quota: 1 });
    const job = await rig.accept();
    await submitJob(rig.deps, job.jobId, delivery());
    expect(recorder.dimensionSets('SubmitAttempts')).toEqual([
      { outcome: 'failed', code: 'InstancesQuotaLimitExceeded' },
    ]);
  });

  it('counts a lost answer as unknown, and the next attempt that finds the instances as reconciled', async () => {
    const { rig, recorder } = await submitRig();
    const job = await rig.accept();
    await addFault(rig.h.sim, { action: 'RunInstances', count: 1, mode: 'InternalError', when: 'after' });
    await submitJob(rig.deps, job.jobId, delivery(1));
    rig.h.clock.advance(WINDOW_MS);
    await submitJob(rig.deps, job.jobId, delivery(2));
    expect(recorder.recorded.map((entry) => entry.dimensions)).toEqual([
      { outcome: 'unknown', code: 'InternalError' },
      { outcome: 'reconciled', code: 'none' },
    ]);
  });
});

describe('the poller and the notifier', () => {
  const pollRig = async (options: Omit<NonNullable<Parameters<typeof startPollRig>[1]>, 'run'> = {}) => {
    const recorder = recordMetrics();
    const rig = await startPollRig(await fresh(), { ...options, run: { metrics: recorder.metrics } });
    rigs.push(rig);
    return { rig, recorder };
  };

  it('times a job from its acceptance to SUCCEEDED', async () => {
    const { rig, recorder } = await pollRig({ sim: { bootMs: 1000, settleMs: 0 } });
    const job = await rig.submitted({ ...plainRequest(), InstanceCount: 1 });
    await pollSubmittedJobs(rig.run, remaining());
    expect(recorder.timings('TimeToSucceeded')).toEqual([]);
    rig.h.clock.advance(61_000);
    expect(await pollSubmittedJobs(rig.run, remaining())).toMatchObject({ succeeded: 1 });
    const done = await rig.job(job.jobId);
    expect(recorder.timings('TimeToSucceeded')).toEqual([
      Date.parse(done.completedAt ?? '') - Date.parse(done.createdAt),
    ]);
    expect(recorder.timings('TimeToSucceeded')[0]).toBeGreaterThanOrEqual(61_000);
  });

  it('does not time a job that fails', async () => {
    const { rig, recorder } = await pollRig({ sim: { launchFailRate: 1 } });
    await rig.submitted();
    rig.h.clock.advance(1000);
    expect(await pollSubmittedJobs(rig.run, remaining())).toMatchObject({ failed: 1 });
    expect(recorder.timings('TimeToSucceeded')).toEqual([]);
  });

  it('counts every webhook attempt, and each that did not deliver as a failure', async () => {
    const statuses = [500, 503];
    const reply: Reply = (_request, res) => void res.writeHead(statuses.shift() ?? 204).end();
    const { rig, recorder } = await pollRig({ reply });
    await rig.submitted();
    for (const delay of [0, 5_000, 60_000]) {
      rig.h.clock.advance(delay);
      await deliverDueEvents(rig.run, remaining());
    }
    expect(rig.receiver.received.map((request) => request.url)).toEqual(['/hooks', '/hooks', '/hooks']);
    expect(recorder.count('WebhookDeliveries')).toBe(3);
    expect(recorder.count('WebhookDeliveryFailures')).toBe(2);
    expect(recorder.count('WebhookDeliveriesFailed')).toBe(0);
  });

  it('counts a delivery given up for good once, when its schedule is spent', async () => {
    const { rig, recorder } = await pollRig({ reply: (_request, res) => void res.writeHead(500).end() });
    await rig.submitted();
    // TEST_SCHEDULE_MS has three waits: four attempts, then FAILED.
    for (const delay of [0, 5_000, 60_000, 300_000]) {
      rig.h.clock.advance(delay);
      await deliverDueEvents(rig.run, remaining());
    }
    expect(recorder.count('WebhookDeliveryFailures')).toBe(4);
    expect(recorder.count('WebhookDeliveriesFailed')).toBe(1);
  });

  it('counts chat follow-ups as no webhook', async () => {
    const { rig, recorder } = await pollRig();
    const chat: ChatOrigin = {
      platform: 'slack',
      teamId: 'T0TEAM001',
      channelId: 'C0OPS0001',
      userId: 'U0ALICE01',
      responseUrl: `${rig.receiver.url}/response`,
      receivedAt: new Date(rig.h.clock.now()).toISOString(),
    };
    await rig.submitted(undefined, undefined, chat);
    await deliverDueEvents(rig.run, remaining());
    const paths = rig.receiver.received.map((request) => request.url);
    expect(paths.sort()).toEqual(['/hooks', '/response']);
    expect(recorder.count('WebhookDeliveries')).toBe(1);
    expect(recorder.count('WebhookDeliveryFailures')).toBe(0);
  });
});
