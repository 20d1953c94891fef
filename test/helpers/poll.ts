/**
 * The poller and the notifier on the emulators and the simulator, with the submitter to bring jobs to
 * SUBMITTED: one hand-moved clock (set near the real time, so Standard Webhooks timestamps verify), a loopback
 * webhook receiver as the `default` target, and every Tencent and DynamoDB call counted.
 */
import { randomUUID } from 'node:crypto';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ChatOrigin, Job } from '../../lib/jobs/model.ts';
import { DEFAULT_WEBHOOK_TARGET } from '../../lib/jobs/outbox.ts';
import { createSigners } from '../../lib/notify/payload.ts';
import type { ScheduledRunDeps } from '../../lib/poll/run.ts';
import { submitJob } from '../../lib/submit/submit-job.ts';
import type { SimulatorOptions } from '../../local/cvm-simulator/index.ts';
import { type ApiEmulators, type ApiStack, startApiEmulators } from './emulators.ts';
import { type LoopbackServer, type Reply, startLoopbackServer } from './loopback-server.ts';
import { delivery, NO_PACING, type SubmitRig, startSubmitRig } from './submit.ts';

/** A Standard Webhooks secret for tests (`whsec_` + base64 of 32 bytes). */
export const TEST_WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
export const OTHER_WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

/** A retry schedule short enough to walk through by moving the clock. */
export const TEST_SCHEDULE_MS = [5_000, 60_000, 300_000];

export const ok: Reply = (_request, res) => {
  res.writeHead(204).end();
};

export interface PollRig extends SubmitRig {
  run: ScheduledRunDeps;
  receiver: LoopbackServer;
  /** DynamoDB commands sent through the run's client, by name. */
  ddbCommands: string[];
  /** Accepts and submits a job: SUBMITTED, its instances PENDING at the simulator. */
  submitted(
    request?: Record<string, unknown>,
    control?: Record<string, unknown>,
    chat?: ChatOrigin,
  ): Promise<Job>;
}

export async function startPollRig(
  env: ApiStack,
  options: {
    sim?: Omit<SimulatorOptions, 'port' | 'now'>;
    run?: Partial<ScheduledRunDeps>;
    reply?: Reply;
  } = {},
): Promise<PollRig> {
  const receiver = await startLoopbackServer(options.reply ?? ok);
  const ddbCommands: string[] = [];
  const ddb = {
    send: ((command: { constructor: { name: string } }) => {
      ddbCommands.push(command.constructor.name);
      return env.ddb.send(command as never);
    }) as ApiStack['ddb']['send'],
  };
  const rig = await startSubmitRig(env, {
    sim: { bootMs: 1000, settleMs: 0, ...options.sim },
    deps: { eventTargets: [DEFAULT_WEBHOOK_TARGET] },
  });
  // Near the real time, on a whole second: receivers check webhook-timestamp against their own clock.
  rig.h.clock.set(Math.floor(Date.now() / 1000) * 1000);
  const dispatcher = new Agent();
  const run: ScheduledRunDeps = {
    ...rig.deps,
    ddb: { send: ddb.send } as ApiStack['ddb'],
    newId: randomUUID,
    describePacer: () => NO_PACING,
    terminatePacer: () => NO_PACING,
    jobTimeoutMs: 900_000,
    visibilityGraceMs: 60_000,
    describeTimeoutMs: 2000,
    dispatcher,
    signers: createSigners([TEST_WEBHOOK_SECRET]),
    targetUrls: { [DEFAULT_WEBHOOK_TARGET]: `${receiver.url}/hooks` },
    allowPrivate: true,
    timeoutMs: 2000,
    concurrency: 8,
    retrySchedule: TEST_SCHEDULE_MS,
    chatFollowUps: { slackApiUrl: `${receiver.url}/slack-api` },
    random: () => 0.5,
    ...options.run,
  };
  return {
    ...rig,
    run,
    receiver,
    ddbCommands,
    async submitted(request, control, chat) {
      const job = await rig.accept(request, control, chat);
      const outcome = await submitJob(rig.deps, job.jobId, delivery());
      if (outcome.kind !== 'done' || outcome.result !== 'submitted')
        throw new Error(`job ${job.jobId} was not submitted: ${JSON.stringify(outcome)}`);
      return rig.job(job.jobId);
    },
    async close() {
      await dispatcher.close();
      await receiver.close();
      await rig.close();
    },
  };
}

/** A Lambda's worth of time, or as much as a test says. */
export const remaining = (ms = 60_000) => ({ remainingMs: () => ms });

/**
 * For a test file: the emulators started once, and a `start` that gives each test a rig on a table and queue
 * of its own, closed after the test.
 */
export function pollRigsFor(
  stage: string,
): (options?: Parameters<typeof startPollRig>[1]) => Promise<PollRig> {
  let env: ApiEmulators;
  let rig: PollRig | undefined;
  beforeAll(async () => {
    env = await startApiEmulators(stage);
  });
  afterAll(() => env.stop());
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });
  return async (options = {}) => {
    rig = await startPollRig(await env.provision(`${stage}-${randomUUID().slice(0, 8)}`), options);
    return rig;
  };
}
