import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../../lib/config.ts';
import { createApiDeps, createChatDeps } from '../../../lib/deps/http.ts';
import { createDeadLetterDeps, createScheduledDeps, createSubmitDeps } from '../../../lib/deps.ts';
import { type FunctionSpec, readFunctions, resolveEnvironment } from '../../../local/functions.ts';
import { SERVERLESS_YML } from '../../../local/resources.ts';

/**
 * Configuration per function: each function's environment in serverless.yml holds every setting its
 * composition root reads (or leaves it to its default on purpose) and nothing else, secrets above all. What a
 * root reads is recorded, not listed by hand: it is given a parsed Config behind a Proxy that notes every
 * property asked for (loadConfig parses every variable at once, so the reads of the env itself say nothing).
 */
const FACTORIES = {
  api: createApiDeps,
  chatops: createChatDeps,
  submit: createSubmitDeps,
  deadLetter: createDeadLetterDeps,
  poll: createScheduledDeps,
} as const satisfies Record<string, (config: Config) => unknown>;
type FunctionName = keyof typeof FACTORIES;
const NAMES = Object.keys(FACTORIES) as FunctionName[];

const { functions } = readFunctions(SERVERLESS_YML);
const spec = (name: string): FunctionSpec => {
  const found = functions.find((f) => f.name === name);
  if (!found) throw new Error(`serverless.yml has no function ${name}`);
  return found;
};

/** A function's environment as deployed on a stage without parameters of its own and an empty shell. */
const deployedEnv = (name: string) =>
  resolveEnvironment(spec(name), {
    service: 'cvm-provisioner',
    stage: 'ci',
    env: {},
    refs: {
      JobsTable: 'cvm-provisioner-ci-jobs',
      SubmitQueue: 'https://sqs.us-east-1.amazonaws.com/000000000000/cvm-provisioner-ci-submit',
      SubmitDeadLetterQueue: 'https://sqs.us-east-1.amazonaws.com/000000000000/cvm-provisioner-ci-submit-dlq',
    },
    arns: {},
  });

/**
 * Every setting lib/config.ts knows, each set to a valid value that takes every branch a root has (token
 * auth, static Tencent keys, one endpoint), so that a read behind `&&` or `?:` is recorded too.
 */
const EVERYTHING: Record<string, string> = {
  VALIDATION_PROFILE: 'current',
  TENCENTCLOUD_SECRET_ID: 'id',
  TENCENTCLOUD_SECRET_KEY: 'key',
  TENCENTCLOUD_SESSION_TOKEN: 'token',
  TENCENTCLOUD_CREDENTIALS_SECRET: 'cvm-provisioner/tencent',
  TENCENTCLOUD_ENDPOINT: 'http://127.0.0.1:9',
  TENCENTCLOUD_SIGN_METHOD: 'HmacSHA256',
  JOBS_TABLE: 'jobs',
  SUBMIT_QUEUE_URL: 'http://127.0.0.1:9/submit',
  SUBMIT_DLQ_URL: 'http://127.0.0.1:9/dlq',
  SUBMIT_RATE_PER_SECOND: '5',
  SUBMIT_MAX_CONCURRENCY: '2',
  TAG_VISIBILITY_WINDOW_MS: '1000',
  JOB_TIMEOUT_SECONDS: '60',
  INSTANCE_VISIBILITY_GRACE_MS: '1000',
  DESCRIBE_RATE_PER_SECOND: '5',
  WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64')}`,
  DEFAULT_WEBHOOK_URL: 'https://hooks.example.com/all',
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_TIMEOUT_MS: '1000',
  WEBHOOK_CONCURRENCY: '2',
  WEBHOOK_RETRY_SCHEDULE: '5s,1m',
  SLACK_SIGNING_SECRET: 'slack-signing-secret',
  MATTERMOST_TOKEN: 'mattermost-token',
  SLACK_ALLOWED_USERS: '*',
  SLACK_ALLOWED_TEAMS: 'T1',
  SLACK_ALLOWED_CHANNELS: 'C1',
  SLACK_BOT_TOKEN: 'xoxb-1',
  SLACK_API_URL: 'https://slack.example.com/api',
  AUTH_MODE: 'token',
  API_TOKENS: `dev:${createHash('sha256').update('dev-token').digest('hex')}`,
  IDEMPOTENCY_SECRET: 'i'.repeat(32),
  EXTRA_ZONES: 'ap-guangzhou-8',
  ALLOWED_ZONES: 'ap-guangzhou-8',
  ALLOWED_INSTANCE_TYPES: 'S5.*',
  MAX_INSTANCES_PER_JOB: '3',
  LOG_LEVEL: 'warn',
};

/** The settings a root asks its Config for, while building the function's dependencies. */
function readsOf(name: FunctionName, env: Record<string, string>): Set<string> {
  const reads = new Set<string>();
  const config = new Proxy(loadConfig(env), {
    get(target, key, receiver) {
      if (typeof key === 'string') reads.add(key);
      return Reflect.get(target, key, receiver);
    },
  });
  FACTORIES[name](config);
  return reads;
}

/** Everything a function may read: as deployed, and with every branch taken. */
const READS = Object.fromEntries(
  NAMES.map((name) => [name, new Set([...readsOf(name, deployedEnv(name)), ...readsOf(name, EVERYTHING)])]),
) as Record<FunctionName, Set<string>>;

/** serverless.yml's names for a function's environment (empty values included: they are set, to nothing). */
const envNames = (name: string) => new Set(Object.keys(spec(name).environment));

/** Variables for the runtime, not for lib/config.ts. */
const notConfig = (variable: string) => variable === 'NODE_OPTIONS' || /^(AWS|POWERTOOLS)_/.test(variable);

/** Settings a function reads but serverless.yml leaves unset on purpose, so the default applies. */
const LEFT_TO_DEFAULT: Readonly<Record<string, string>> = {
  LOG_LEVEL: 'info',
  // Deployed, the Tencent key comes from the Secrets Manager secret (TENCENTCLOUD_CREDENTIALS_SECRET).
  TENCENTCLOUD_SECRET_ID: 'the secret',
  TENCENTCLOUD_SECRET_KEY: 'the secret',
  TENCENTCLOUD_SESSION_TOKEN: 'the secret',
  TENCENTCLOUD_ENDPOINT: "each job region's own host",
  DESCRIBE_RATE_PER_SECOND: '20',
  INSTANCE_VISIBILITY_GRACE_MS: '60000',
  WEBHOOK_TIMEOUT_MS: '10000',
  WEBHOOK_CONCURRENCY: '16',
  SLACK_API_URL: 'https://slack.com/api',
};

/**
 * Read but not used: the chat endpoint builds what accepting a job needs with the API's builder, which reads
 * the API's authentication, and drops the result (its route has no authorizer; the signature authenticates).
 */
const READ_NOT_USED: Readonly<Partial<Record<FunctionName, readonly string[]>>> = {
  chatops: ['AUTH_MODE', 'API_TOKENS'],
};

describe('configuration per function (serverless.yml against lib/deps.ts and lib/deps/http.ts)', () => {
  it('records every setting lib/config.ts declares: the all-branches environment names each one', () => {
    const declared = [
      ...readFileSync(new URL('../../../lib/config.ts', import.meta.url), 'utf8').matchAll(
        /^ {2}([A-Z][A-Z0-9_]+):/gm,
      ),
    ].map((m) => m[1]);
    expect(declared.length).toBeGreaterThan(30);
    expect(Object.keys(EVERYTHING).sort()).toEqual([...new Set(declared)].sort());
  });

  it.each(NAMES)('builds %s with the root this test records, as its handler does', (name) => {
    const handler = readFileSync(new URL(`../../../${spec(name).file}`, import.meta.url), 'utf8');
    expect(handler).toMatch(new RegExp(`\\b${FACTORIES[name].name}\\(\\)`));
  });

  it.each(NAMES)(
    'starts %s with exactly its serverless.yml environment: nothing required is missing',
    (name) => {
      expect(() => FACTORIES[name](loadConfig(deployedEnv(name)))).not.toThrow();
    },
  );

  it.each(NAMES)('sets nothing in %s that its root does not read', (name) => {
    const unread = [...envNames(name)].filter(
      (variable) => !notConfig(variable) && !READS[name].has(variable),
    );
    expect(unread).toEqual([]);
  });

  it.each(NAMES)('sets every setting %s reads, but those left to their defaults on purpose', (name) => {
    const unset = [...READS[name]].filter(
      (variable) =>
        !envNames(name).has(variable) &&
        !(variable in LEFT_TO_DEFAULT) &&
        !READ_NOT_USED[name]?.includes(variable),
    );
    expect(unset).toEqual([]);
  });

  it.each([
    ['WEBHOOK_SECRET', ['poll']],
    ['SLACK_SIGNING_SECRET', ['chatops']],
    ['MATTERMOST_TOKEN', ['chatops']],
    ['SLACK_BOT_TOKEN', ['poll']],
    ['IDEMPOTENCY_SECRET', ['api', 'chatops']],
    ['API_TOKENS', ['api']],
    ['TENCENTCLOUD_CREDENTIALS_SECRET', ['submit', 'deadLetter', 'poll']],
  ])('gives %s only to %j', (variable, expected) => {
    expect(NAMES.filter((name) => envNames(name).has(variable))).toEqual(expected);
  });

  it('keeps the Tencent settings from the functions that never call Tencent', () => {
    for (const name of ['api', 'chatops'] as const)
      expect(
        [...READS[name]].filter((variable) => variable.startsWith('TENCENTCLOUD_')),
        name,
      ).toEqual([]);
  });

  it('pins the SSRF guard on wherever a function reads it', () => {
    for (const name of NAMES.filter((n) => READS[n].has('WEBHOOK_ALLOW_PRIVATE')))
      expect(deployedEnv(name).WEBHOOK_ALLOW_PRIVATE, name).toBe('false');
  });
});
