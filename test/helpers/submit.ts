/**
 * A submitter on the emulators and the simulator, sharing one hand-moved clock: jobs accepted through
 * acceptJob (real table, real queue), submitted through submitJob / consumeBatch with our Tencent client
 * against the simulator, and what Tencent now holds for each job.
 */
import { randomUUID } from 'node:crypto';
import { acceptJob } from '../../lib/jobs/accept.ts';
import { type ChatOrigin, JOB_TAG_KEY, type Job } from '../../lib/jobs/model.ts';
import { getJob } from '../../lib/jobs/store.ts';
import type { ConsumerDeps } from '../../lib/submit/batch.ts';
import type { Delivery, SubmitDeps } from '../../lib/submit/deps.ts';
import type { Pacer } from '../../lib/submit/pacer.ts';
import type { TencentClient, TencentClientOptions } from '../../lib/tencent/client.ts';
import type { SimulatorOptions } from '../../local/cvm-simulator/index.ts';
import { type ApiStack, emulatorApi } from './emulators.ts';
import { captureLogs, type LogCapture } from './logs.ts';
import { validRequest, withoutKeys } from './requests.ts';
import { type AdminInstance, type Harness, ownClient, simInstances, startHarness } from './simulator.ts';

/** A valid request without a ClientToken of its own (each job then gets its derived one). */
export const plainRequest = (overrides: Parameters<typeof validRequest>[0] = {}): Record<string, unknown> =>
  withoutKeys(validRequest(overrides), 'ClientToken');

/** A pacer that never waits (tests that are not about pacing). */
export const NO_PACING: Pacer = { take: async () => true };

/** A delivery with a Lambda's worth of time left. */
export const delivery = (receiveCount = 1, remainingMs = 90_000): Delivery => ({
  receiveCount,
  remainingMs: () => remainingMs,
});

/** What one Tencent action was called with, in order. */
export interface CallLog {
  calls: Array<{ action: string; params: Record<string, unknown> }>;
  count(action: string): number;
}

export interface SubmitRig {
  h: Harness;
  deps: SubmitDeps & ConsumerDeps;
  logs: LogCapture;
  tencent: CallLog;
  /** Accepts a job for `request` (a valid two-instance request by default) and returns it as stored. */
  accept(
    request?: Record<string, unknown>,
    control?: Record<string, unknown>,
    chat?: ChatOrigin,
  ): Promise<Job>;
  job(jobId: string): Promise<Job>;
  /** The simulator's instances tagged with the job's id (the truth, whatever Describe shows). */
  instancesOf(jobId: string): Promise<AdminInstance[]>;
  close(): Promise<void>;
}

export const WINDOW_MS = 10_000;

/**
 * A rig on `env`'s table and queue. The simulator's own options pass through (visibility delays are off unless
 * asked for); `wrap` may put a test double around the Tencent client.
 */
export async function startSubmitRig(
  env: ApiStack,
  options: {
    sim?: Omit<SimulatorOptions, 'port' | 'now'>;
    client?: Partial<TencentClientOptions>;
    wrap?: (client: Pick<TencentClient, 'call'>) => Pick<TencentClient, 'call'>;
    deps?: Partial<SubmitDeps & ConsumerDeps>;
  } = {},
): Promise<SubmitRig> {
  const h = await startHarness(options.sim ?? {});
  const logs = captureLogs('submit');
  const client = ownClient(h.sim.url, { now: h.clock.now, timeoutMs: 2000, ...options.client });
  const calls: CallLog['calls'] = [];
  const counting: Pick<TencentClient, 'call'> = {
    call: (action, params, callOptions) => {
      calls.push({ action, params });
      return client.call(action, params, callOptions);
    },
  };
  const deps: SubmitDeps & ConsumerDeps = {
    ddb: env.ddb,
    tableName: env.tableName,
    now: h.clock.now,
    tencent: options.wrap ? options.wrap(counting) : counting,
    logger: logs.logger,
    pacer: () => NO_PACING,
    tagVisibilityWindowMs: WINDOW_MS,
    timeouts: { runInstancesMs: 400, describeMs: 400 },
    sqs: env.sqs,
    queueUrl: env.submitQueueUrl,
    ...options.deps,
  };
  const api = emulatorApi(env, { now: h.clock.now, newId: randomUUID, profile: 'current' });
  return {
    h,
    deps,
    logs,
    tencent: { calls, count: (action) => calls.filter((call) => call.action === action).length },
    async accept(request = { ...plainRequest(), InstanceCount: 2 }, control, chat) {
      const { job } = await acceptJob(api.deps, {
        caller: 'alice',
        request,
        ...(control ? { control } : {}),
        ...(chat ? { chat } : {}),
      });
      return job;
    },
    async job(jobId) {
      const job = await getJob(deps, jobId);
      if (!job) throw new Error(`no job ${jobId}`);
      return job;
    },
    async instancesOf(jobId) {
      return (await simInstances(h.sim)).filter((instance) =>
        instance.Tags.some((tag) => tag.Key === JOB_TAG_KEY && tag.Value === jobId),
      );
    },
    async close() {
      await client.close();
      await h.close();
    },
  };
}
