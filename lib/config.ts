import * as z from 'zod/mini';
import { ConfigError } from './errors.ts';
import { PROFILE_NAMES } from './run-instances/profiles.ts';
import { ZONE_PATTERN } from './run-instances/regions.ts';
import { isKnownZone } from './run-instances/zones.ts';
import { parseEndpoint } from './tencent/endpoint.ts';
import { SIGN_METHODS } from './tencent/sign-methods.ts';

const optionalText = () => z.optional(z.string().check(z.trim(), z.minLength(1)));

const splitList = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** `a, b ,c` → ['a', 'b', 'c']; an empty variable means "not set". */
const commaList = () =>
  z.optional(
    z.pipe(
      z.string(),
      z.transform((text) => {
        const items = text
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean);
        return items.length ? items : undefined;
      }),
    ),
  );

/** `whsec_a whsec_b` or `whsec_a,whsec_b` → each secret. */
const splitSecrets = (text: string) => text.split(/[\s,]+/).filter(Boolean);

/** A Standard Webhooks secret: `whsec_` and the base64 of at least 24 bytes. */
function isWebhookSecret(secret: string): boolean {
  const key = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : '';
  return /^[A-Za-z0-9+/]+={0,2}$/.test(key) && Buffer.from(key, 'base64').length >= 24;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password;
  } catch {
    return false;
  }
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The default delays between webhook attempts: Standard Webhooks' and Svix's shape, exponential then daily,
 * nine attempts over about 45 hours (docs/webhooks.md, "Retries").
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] =
  parseDurations('5s,1m,5m,30m,2h,6h,12h,24h') ?? [];

/** `5s,1m,2h` → milliseconds, or undefined when any entry is not a duration. */
export function parseDurations(text: string): number[] | undefined {
  const durations: number[] = [];
  for (const entry of splitList(text)) {
    const match = /^(\d+)(ms|s|m|h)$/.exec(entry);
    if (!match) return undefined;
    durations.push(Number(match[1]) * (DURATION_UNITS[match[2] ?? ''] ?? 0));
  }
  return durations.length ? durations : undefined;
}

export interface ApiToken {
  name: string;
  /** Lower-case hex SHA-256 of the bearer token. */
  sha256: string;
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const API_TOKEN_ENTRY = /^([A-Za-z0-9._@-]{1,64}):([0-9a-fA-F]{64})$/;

const apiTokens = z.optional(
  z.pipe(
    z.string().check(
      z.refine(
        (text) =>
          text
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
            .every((entry) => API_TOKEN_ENTRY.test(entry)),
        {
          error:
            'must be a comma-separated list of name:sha256hex (the hex SHA-256 of each token; `npm run token -- <name>` makes one)',
        },
      ),
    ),
    z.transform((text): ApiToken[] =>
      text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
        .map((entry) => {
          const [, name = '', hash = ''] = API_TOKEN_ENTRY.exec(entry) ?? [];
          return { name, sha256: hash.toLowerCase() };
        }),
    ),
  ),
);

const positiveInteger = () =>
  z.optional(
    z.pipe(
      z.string().check(z.regex(/^[1-9]\d*$/, { error: 'must be a positive integer' })),
      z.transform((text) => Number(text)),
    ),
  );

const nonNegativeInteger = () =>
  z.optional(
    z.pipe(
      z.string().check(z.regex(/^(0|[1-9]\d*)$/, { error: 'must be a whole number of milliseconds' })),
      z.transform((text) => Number(text)),
    ),
  );

const positiveNumber = () =>
  z.optional(
    z.pipe(
      z.string().check(
        z.refine((text) => /^\d+(\.\d+)?$/.test(text) && Number(text) > 0, {
          error: 'must be a positive number',
        }),
      ),
      z.transform((text) => Number(text)),
    ),
  );

/** The environment this service reads (docs/configuration.md); the only place process.env is read. */
const environment = z.object({
  VALIDATION_PROFILE: z._default(z.enum(PROFILE_NAMES), 'seed-2017'),
  TENCENTCLOUD_SECRET_ID: optionalText(),
  TENCENTCLOUD_SECRET_KEY: optionalText(),
  TENCENTCLOUD_SESSION_TOKEN: optionalText(),
  TENCENTCLOUD_CREDENTIALS_SECRET: optionalText(),
  /** One endpoint for every call (the simulator, a proxy); unset: each region's own host. */
  TENCENTCLOUD_ENDPOINT: z.optional(
    z.string().check(
      z.refine(
        (url) => {
          try {
            parseEndpoint(url);
            return true;
          } catch {
            return false;
          }
        },
        { error: 'must be an https URL (http only for a loopback address)' },
      ),
    ),
  ),
  TENCENTCLOUD_SIGN_METHOD: z._default(z.enum(SIGN_METHODS), 'TC3-HMAC-SHA256'),
  JOBS_TABLE: optionalText(),
  SUBMIT_QUEUE_URL: optionalText(),
  /** The submit queue's dead-letter queue (the dead-letter function changes its messages' visibility). */
  SUBMIT_DLQ_URL: optionalText(),
  /**
   * RunInstances calls per second per region across every submitter (Tencent allows 10; the default leaves a
   * tenth for clock skew and other callers of the account).
   */
  SUBMIT_RATE_PER_SECOND: z._default(positiveNumber(), 9),
  /** How many submitters run at once: serverless.yml's maximumConcurrency reads the same variable. */
  SUBMIT_MAX_CONCURRENCY: z._default(positiveInteger(), 2),
  /**
   * How long after a RunInstances call ends its instances' tags may still be invisible to DescribeInstances:
   * reconciliation trusts "not found" only after this.
   */
  TAG_VISIBILITY_WINDOW_MS: z._default(nonNegativeInteger(), 60_000),
  /** SUBMITTED → TIMED_OUT after this long without every instance settled (docs/job-lifecycle.md, "The poller"). */
  JOB_TIMEOUT_SECONDS: z._default(positiveInteger(), 900),
  /**
   * How long after RunInstances an instance DescribeInstances does not return still counts as pending: new
   * instances can be briefly invisible (docs/tencent.md, "DescribeInstances"). After it, the instance is lost.
   */
  INSTANCE_VISIBILITY_GRACE_MS: z._default(nonNegativeInteger(), 60_000),
  /** DescribeInstances calls per second per region by the poller (Tencent allows 40; the rest is left to others). */
  DESCRIBE_RATE_PER_SECOND: z._default(positiveNumber(), 20),
  /**
   * The Standard Webhooks signing secrets, `whsec_` + base64 of at least 24 random bytes, separated by spaces or
   * commas. Every secret signs: while a new one is rolled out, list both, and receivers accept either.
   */
  WEBHOOK_SECRET: z.optional(
    z.pipe(
      z.string().check(
        z.refine((text) => splitSecrets(text).length > 0 && splitSecrets(text).every(isWebhookSecret), {
          error: 'must be one or more whsec_ secrets (whsec_ + base64 of at least 24 random bytes)',
        }),
      ),
      z.transform(splitSecrets),
    ),
  ),
  /** Where every event goes besides the job's own webhookUrl. */
  DEFAULT_WEBHOOK_URL: z.optional(
    z.string().check(z.refine(isHttpUrl, { error: 'must be an absolute http(s) URL without credentials' })),
  ),
  /** Lifts the SSRF guard for loopback development (the local stack's default); never in a deployed stage. */
  WEBHOOK_ALLOW_PRIVATE: z._default(
    z.pipe(
      z.enum(['true', 'false']),
      z.transform((text) => text === 'true'),
    ),
    false,
  ),
  /**
   * One delivery attempt's limit. Svix gives receivers 15 s, GitHub 10 s (Standard Webhooks suggests 15–30 s);
   * at most 15 s, so that an attempt fits in the notifier's share of a scheduled run (lib/poll/run.ts).
   */
  WEBHOOK_TIMEOUT_MS: z._default(
    z.pipe(
      z.string().check(
        z.refine((text) => /^[1-9]\d*$/.test(text) && Number(text) <= 15_000, {
          error: 'must be a whole number of milliseconds, at most 15000',
        }),
      ),
      z.transform((text) => Number(text)),
    ),
    10_000,
  ),
  /** At most this many webhook attempts at once (half of them to any one target). */
  WEBHOOK_CONCURRENCY: z._default(positiveInteger(), 16),
  /** The delays between delivery attempts, as durations (`5s,1m,5m,30m,2h,6h,12h,24h`); jittered. */
  WEBHOOK_RETRY_SCHEDULE: z._default(
    z.pipe(
      z.string().check(
        z.refine((text) => parseDurations(text) !== undefined, {
          error: 'must be a comma-separated list of durations such as 5s,1m,2h',
        }),
      ),
      z.transform((text) => parseDurations(text) ?? []),
    ),
    () => [...DEFAULT_RETRY_SCHEDULE_MS],
  ),
  /** Verifies Slack's requests to the chat endpoint (the app's Signing Secret); unset, Slack is refused. */
  SLACK_SIGNING_SECRET: optionalText(),
  /** Verifies Mattermost's requests to the chat endpoint (the slash command's token); unset, Mattermost is refused. */
  MATTERMOST_TOKEN: optionalText(),
  /**
   * Who may use the chat commands: user ids (`U123`), or `<team>/<user>`, or `*` for everyone the platform
   * vouches for. Unset: nobody (docs/chatops.md, "Who may act").
   */
  SLACK_ALLOWED_USERS: commaList(),
  /** Also only from these teams (workspaces), when set. */
  SLACK_ALLOWED_TEAMS: commaList(),
  /** Also only from these channels, when set. */
  SLACK_ALLOWED_CHANNELS: commaList(),
  /** Posts follow-ups with chat.postMessage once a command's response_url has run out (a bot token, xoxb-). */
  SLACK_BOT_TOKEN: optionalText(),
  /** Slack's Web API (the local stack points it at its own sink). */
  SLACK_API_URL: z._default(
    z.string().check(z.refine(isHttpUrl, { error: 'must be an absolute http(s) URL without credentials' })),
    'https://slack.com/api',
  ),
  AUTH_MODE: z._default(z.enum(['iam', 'token']), 'iam'),
  API_TOKENS: apiTokens,
  /** Keys the Idempotency-Key fingerprint, so the table holds nothing to test password guesses against. */
  IDEMPOTENCY_SECRET: z.optional(
    z.string().check(z.minLength(32, { error: 'must be at least 32 characters (a random secret)' })),
  ),
  /** Zones Tencent opened after the catalog was made (lib/run-instances/zones.ts), admitted without a release. */
  EXTRA_ZONES: z.optional(
    z.pipe(
      z.string().check(
        z.refine((text) => splitList(text).every((zone) => ZONE_PATTERN.test(zone)), {
          error: 'must be a comma-separated list of zone ids such as ap-guangzhou-8',
        }),
      ),
      z.transform(splitList),
    ),
  ),
  ALLOWED_ZONES: commaList(),
  ALLOWED_INSTANCE_TYPES: commaList(),
  MAX_INSTANCES_PER_JOB: positiveInteger(),
  LOG_LEVEL: z._default(z.enum(['debug', 'info', 'warn', 'error']), 'info'),
});

export type Config = z.output<typeof environment>;

function describeIssue(issue: z.core.$ZodIssue): string {
  const name = issue.path.join('.');
  if (issue.code === 'invalid_value') return `${name} must be one of ${issue.values.join(', ')}`;
  if (issue.code === 'custom' || issue.code === 'invalid_format' || issue.code === 'too_small')
    return `${name} ${issue.message}`;
  return `${name} is invalid`;
}

/** Parses the environment once; throws one ConfigError naming every missing or invalid variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set" (serverless.yml passes '' for an unset guardrail).
  const given = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const parsed = environment.safeParse(given);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(describeIssue));
  const config = parsed.data;
  const problems: string[] = [];
  if (Boolean(config.TENCENTCLOUD_SECRET_ID) !== Boolean(config.TENCENTCLOUD_SECRET_KEY)) {
    problems.push('TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY must be set together');
  }
  // The bot token travels to it: only over TLS, but for a loopback stand-in in development.
  if (config.SLACK_API_URL.startsWith('http:') && !config.WEBHOOK_ALLOW_PRIVATE)
    problems.push(
      'SLACK_API_URL must be https (http only with WEBHOOK_ALLOW_PRIVATE=true, for local development)',
    );
  if (config.AUTH_MODE === 'token' && !config.API_TOKENS?.length)
    problems.push('AUTH_MODE=token needs API_TOKENS');
  // A guardrail that allows a zone the validator refuses would allow nothing: say so at start.
  const unknownZones = (config.ALLOWED_ZONES ?? []).filter((zone) => !isKnownZone(zone, config.EXTRA_ZONES));
  if (unknownZones.length) {
    problems.push(
      `ALLOWED_ZONES names zones that do not exist: ${unknownZones.join(', ')} (a zone opened recently can be admitted with EXTRA_ZONES)`,
    );
  }
  // The SHA-256 of the empty string: no token has it, so the entry could never authenticate anyone.
  for (const { name, sha256 } of config.API_TOKENS ?? []) {
    if (sha256 === EMPTY_SHA256) problems.push(`API_TOKENS gives ${name} the hash of an empty token`);
  }
  // One token, one caller: the same hash under two names would authenticate as whichever comes first.
  const owners = new Map<string, string>();
  for (const { name, sha256 } of config.API_TOKENS ?? []) {
    const owner = owners.get(sha256);
    if (owner !== undefined && owner !== name)
      problems.push(
        `API_TOKENS gives one token to two callers (${owner} and ${name}); give each caller its own`,
      );
    owners.set(sha256, owner ?? name);
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** The named settings, or one ConfigError naming every one that is missing (for a handler that needs them). */
export function requireSettings<K extends keyof Config>(
  config: Config,
  names: readonly K[],
): { [P in K]-?: NonNullable<Config[P]> } {
  const missing = names.filter((name) => config[name] === undefined);
  if (missing.length) throw new ConfigError(missing.map((name) => `${String(name)} is required`));
  return config as unknown as { [P in K]-?: NonNullable<Config[P]> };
}

/** What a pre-flight check reads (the validate CLI): the rules a request must meet, and nothing else. */
const VALIDATION_SETTINGS = [
  'VALIDATION_PROFILE',
  'EXTRA_ZONES',
  'ALLOWED_ZONES',
  'ALLOWED_INSTANCE_TYPES',
  'MAX_INSTANCES_PER_JOB',
] as const;

/** Just the settings validation uses, for tools that need nothing else (other settings are not checked). */
export function loadValidationSettings(env: Record<string, string | undefined> = process.env): Config {
  return loadConfig(Object.fromEntries(VALIDATION_SETTINGS.map((name) => [name, env[name]])));
}
