import * as z from 'zod/mini';
import { ConfigError } from './errors.ts';
import { PROFILE_NAMES } from './run-instances/profiles.ts';
import { SIGN_METHODS } from './tencent/client.ts';
import { DEFAULT_ENDPOINT, parseEndpoint } from './tencent/endpoint.ts';

const optionalText = () => z.optional(z.string().check(z.trim(), z.minLength(1)));

/** The environment this service reads (DESIGN.md §4 "Configuration"); the only place process.env is read. */
const environment = z.object({
  VALIDATION_PROFILE: z._default(z.enum(PROFILE_NAMES), 'seed-2017'),
  TENCENTCLOUD_SECRET_ID: optionalText(),
  TENCENTCLOUD_SECRET_KEY: optionalText(),
  TENCENTCLOUD_SESSION_TOKEN: optionalText(),
  TENCENTCLOUD_CREDENTIALS_SECRET: optionalText(),
  TENCENTCLOUD_ENDPOINT: z._default(
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
    DEFAULT_ENDPOINT,
  ),
  TENCENTCLOUD_SIGN_METHOD: z._default(z.enum(SIGN_METHODS), 'TC3-HMAC-SHA256'),
});

export type Config = z.output<typeof environment>;

function describeIssue(issue: z.core.$ZodIssue): string {
  const name = issue.path.join('.');
  if (issue.code === 'invalid_value') return `${name} must be one of ${issue.values.join(', ')}`;
  if (issue.code === 'custom') return `${name} ${issue.message}`;
  return `${name} is invalid`;
}

/** Parses the environment once; throws one ConfigError naming every missing or invalid variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = environment.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(describeIssue));
  const config = parsed.data;
  const problems: string[] = [];
  if (Boolean(config.TENCENTCLOUD_SECRET_ID) !== Boolean(config.TENCENTCLOUD_SECRET_KEY)) {
    problems.push('TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY must be set together');
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}
