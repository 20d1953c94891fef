import { randomUUID } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { systemClock } from './clock.ts';
import { type Config, loadConfig, requireSettings } from './config.ts';
import { AWS_MAX_ATTEMPTS, AWS_REQUEST_HANDLER, documentClient, sqsClient } from './deps/aws.ts';
import { ConfigError } from './errors.ts';
import { DEFAULT_WEBHOOK_TARGET } from './jobs/outbox.ts';
import { createSigners } from './notify/payload.ts';
import { createGuardedDispatcher } from './notify/ssrf.ts';
import type { ScheduledRunDeps } from './poll/run.ts';
import type { ConsumerDeps } from './submit/batch.ts';
import type { SubmitDeps } from './submit/deps.ts';
import { createPacer, type Pacer, pacersByKey } from './submit/pacer.ts';
import { createTencentClient, type TencentClient, type TencentClientOptions } from './tencent/client.ts';
import {
  type CredentialsProvider,
  secretsManagerCredentials,
  staticCredentials,
} from './tencent/credentials.ts';

export { documentClient, sqsClient } from './deps/aws.ts';
export { createApiDeps, createChatDeps } from './deps/http.ts';

import { configuredTargets } from './deps/http.ts';
import { type FunctionName, functionObservability } from './deps/observability.ts';
import type { Observability } from './invocation.ts';

/**
 * The composition root (docs/architecture.md), with lib/deps/: the only modules that read configuration and
 * build clients. AWS clients, the Tencent client, the logger, the clock and the id source are built once per
 * Lambda container (module scope of the handler) and passed down. AWS endpoints come from the SDK's own
 * AWS_ENDPOINT_URL_* variables. This module builds the workers' (submit, dead-letter, the scheduled run);
 * lib/deps/http.ts the HTTP functions'.
 */

/** Tencent credentials from the environment's keys, else from the named Secrets Manager secret. */
export function tencentCredentials(config: Config): CredentialsProvider {
  if (config.TENCENTCLOUD_SECRET_ID && config.TENCENTCLOUD_SECRET_KEY) {
    return staticCredentials(
      config.TENCENTCLOUD_SECRET_ID,
      config.TENCENTCLOUD_SECRET_KEY,
      config.TENCENTCLOUD_SESSION_TOKEN,
    );
  }
  if (config.TENCENTCLOUD_CREDENTIALS_SECRET) {
    return secretsManagerCredentials({
      client: new SecretsManagerClient({
        requestHandler: AWS_REQUEST_HANDLER,
        maxAttempts: AWS_MAX_ATTEMPTS,
      }),
      secretName: config.TENCENTCLOUD_CREDENTIALS_SECRET,
    });
  }
  throw new ConfigError([
    'Tencent credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or TENCENTCLOUD_CREDENTIALS_SECRET',
  ]);
}

/** The Tencent client the configuration describes. */
export function createTencentClientFromConfig(
  config: Config,
  overrides: Partial<TencentClientOptions> = {},
): TencentClient {
  return createTencentClient({
    ...(config.TENCENTCLOUD_ENDPOINT ? { endpoint: config.TENCENTCLOUD_ENDPOINT } : {}),
    signMethod: config.TENCENTCLOUD_SIGN_METHOD,
    credentials: tencentCredentials(config),
    language: 'en-US',
    ...overrides,
  });
}

type WorkerDeps = SubmitDeps & ConsumerDeps;

/**
 * What the submit queue's consumer, the dead-letter consumer and the sweep need: the store, the Tencent client,
 * a pacer per region, and the queue each works on (`queue`: the setting that names it).
 */
function queueWorkerDeps(
  config: Config,
  service: FunctionName,
  queue: 'SUBMIT_QUEUE_URL' | 'SUBMIT_DLQ_URL',
  overrides: Partial<WorkerDeps>,
): WorkerDeps & { observability: Observability } {
  const settings = requireSettings(config, ['JOBS_TABLE', queue]);
  const observability = functionObservability(config, service);
  // Every submitter paces its own calls; at most SUBMIT_MAX_CONCURRENCY run at once (serverless.yml), so
  // together they stay under SUBMIT_RATE_PER_SECOND per region.
  const ratePerSecond = config.SUBMIT_RATE_PER_SECOND / config.SUBMIT_MAX_CONCURRENCY;
  return {
    ddb: documentClient(),
    tableName: settings.JOBS_TABLE,
    now: systemClock,
    tencent: createTencentClientFromConfig(config),
    logger: observability.logger,
    metrics: observability.metrics,
    observability,
    pacer: pacerPerLimit(config, ratePerSecond),
    tagVisibilityWindowMs: config.TAG_VISIBILITY_WINDOW_MS,
    sqs: sqsClient(),
    queueUrl: settings[queue],
    eventTargets: configuredTargets(config),
    ...overrides,
  };
}

/**
 * One pacer per rate-limit bucket, by region. Tencent counts an action's calls per front door the request
 * reaches (docs/tencent.md, "Rate limits"): each region's own host is its own bucket, but one
 * TENCENTCLOUD_ENDPOINT (the simulator, a proxy) is one bucket for every region.
 */
function pacerPerLimit(config: Config, ratePerSecond: number): (region: string) => Pacer {
  const pacers = pacersByKey(() => createPacer({ ratePerSecond }));
  return config.TENCENTCLOUD_ENDPOINT ? () => pacers(config.TENCENTCLOUD_ENDPOINT as string) : pacers;
}

/** The submit queue's consumer: jobs from SUBMIT_QUEUE_URL to Tencent (and the queue's age, measured). */
export const createSubmitDeps = (config: Config = loadConfig(), overrides: Partial<WorkerDeps> = {}) =>
  queueWorkerDeps(config, 'submit', 'SUBMIT_QUEUE_URL', { queueAgeMetric: 'SubmitQueueAge', ...overrides });

/** The dead-letter queue's consumer: settles jobs whose messages ran out of receives. */
export const createDeadLetterDeps = (config: Config = loadConfig(), overrides: Partial<WorkerDeps> = {}) =>
  queueWorkerDeps(config, 'deadLetter', 'SUBMIT_DLQ_URL', overrides);

/**
 * The scheduled run: the sweep (it sends to the submit queue), the poller and the notifier. Without
 * WEBHOOK_SECRET the sweep and the poller still run; no event goes out unsigned, so events stay due (and the
 * notifier says so in every run) until it is set.
 */
export function createScheduledDeps(
  config: Config = loadConfig(),
  overrides: Partial<ScheduledRunDeps> = {},
): ScheduledRunDeps & { observability: Observability } {
  const describeRate = config.DESCRIBE_RATE_PER_SECOND;
  return {
    ...queueWorkerDeps(config, 'poll', 'SUBMIT_QUEUE_URL', {}),
    newId: randomUUID,
    describePacer: pacerPerLimit(config, describeRate),
    // TerminateInstances is a write API with RunInstances' limit of 10 calls a second (docs/tencent.md).
    terminatePacer: pacerPerLimit(config, config.SUBMIT_RATE_PER_SECOND),
    jobTimeoutMs: config.JOB_TIMEOUT_SECONDS * 1000,
    visibilityGraceMs: config.INSTANCE_VISIBILITY_GRACE_MS,
    dispatcher: createGuardedDispatcher({ allowPrivate: config.WEBHOOK_ALLOW_PRIVATE }),
    signers: createSigners(config.WEBHOOK_SECRET ?? []),
    targetUrls: config.DEFAULT_WEBHOOK_URL ? { [DEFAULT_WEBHOOK_TARGET]: config.DEFAULT_WEBHOOK_URL } : {},
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    concurrency: config.WEBHOOK_CONCURRENCY,
    retrySchedule: config.WEBHOOK_RETRY_SCHEDULE,
    chatFollowUps: {
      slackApiUrl: config.SLACK_API_URL,
      ...(config.SLACK_BOT_TOKEN ? { slackBotToken: config.SLACK_BOT_TOKEN } : {}),
    },
    ...overrides,
  };
}
