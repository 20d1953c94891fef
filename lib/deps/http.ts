import { randomUUID } from 'node:crypto';
import type { ApiDeps } from '../api/deps.ts';
import type { ChatDeps } from '../chatops/command.ts';
import { systemClock } from '../clock.ts';
import { type Config, loadConfig, requireSettings } from '../config.ts';
import type { Observability } from '../invocation.ts';
import { DEFAULT_WEBHOOK_TARGET } from '../jobs/outbox.ts';
import { policyFromConfig } from '../jobs/policy.ts';
import { CHAT_REQUEST_HANDLER, chatDynamoDBClient, documentClient, sqsClient } from './aws.ts';
import { type FunctionName, functionObservability } from './observability.ts';

/**
 * The composition root of the HTTP functions (docs/architecture.md): the API and the chat endpoint accept jobs
 * and never call Tencent, so they build the AWS clients and nothing of the workers' (no Tencent client, no
 * webhook dispatcher): their bundles and cold starts stay small.
 */

/** The targets every event goes to besides the job's own webhookUrl and chat. */
export function configuredTargets(config: Config): string[] {
  return config.DEFAULT_WEBHOOK_URL ? [DEFAULT_WEBHOOK_TARGET] : [];
}

/** The API's dependencies from configuration; `overrides` replace parts (tests). */
export function createApiDeps(
  config: Config = loadConfig(),
  overrides: Partial<ApiDeps> = {},
): ApiDeps & { observability: Observability } {
  return httpDeps(config, 'api', overrides);
}

/** What both HTTP functions build: the store, the queue, the function's logger and metrics, the policy. */
function httpDeps(
  config: Config,
  service: FunctionName,
  overrides: Partial<ApiDeps>,
): ApiDeps & { observability: Observability } {
  const settings = requireSettings(config, ['JOBS_TABLE', 'SUBMIT_QUEUE_URL']);
  const observability = functionObservability(config, service);
  return {
    ddb: overrides.ddb ?? documentClient(),
    sqs: overrides.sqs ?? sqsClient(),
    tableName: settings.JOBS_TABLE,
    queueUrl: settings.SUBMIT_QUEUE_URL,
    logger: observability.logger,
    metrics: observability.metrics,
    observability,
    now: systemClock,
    newId: randomUUID,
    profile: config.VALIDATION_PROFILE,
    ...(config.EXTRA_ZONES ? { extraZones: config.EXTRA_ZONES } : {}),
    ...(config.IDEMPOTENCY_SECRET ? { fingerprintSecret: config.IDEMPOTENCY_SECRET } : {}),
    policy: policyFromConfig(config),
    // A cancelled job's event goes to the configured targets too.
    eventTargets: configuredTargets(config),
    auth: config.AUTH_MODE === 'token' ? { mode: 'token', tokens: config.API_TOKENS ?? [] } : { mode: 'iam' },
    ...overrides,
  };
}

/**
 * The chat endpoint's dependencies: what accepting a job needs (no Tencent client: the chat path never calls
 * Tencent) and the platforms' secrets and allowlists.
 */
export function createChatDeps(
  config: Config = loadConfig(),
  overrides: Partial<ChatDeps> = {},
): ChatDeps & { observability: Observability } {
  const { auth: _auth, ...accept } = httpDeps(config, 'chatops', {
    ddb: documentClient(chatDynamoDBClient()),
    sqs: sqsClient(CHAT_REQUEST_HANDLER),
  });
  return {
    ...accept,
    chat: {
      ...(config.SLACK_SIGNING_SECRET ? { slackSigningSecret: config.SLACK_SIGNING_SECRET } : {}),
      ...(config.MATTERMOST_TOKEN ? { mattermostToken: config.MATTERMOST_TOKEN } : {}),
      allowedUsers: config.SLACK_ALLOWED_USERS ?? [],
      ...(config.SLACK_ALLOWED_TEAMS ? { allowedTeams: config.SLACK_ALLOWED_TEAMS } : {}),
      ...(config.SLACK_ALLOWED_CHANNELS ? { allowedChannels: config.SLACK_ALLOWED_CHANNELS } : {}),
      allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    },
    ...overrides,
  };
}
