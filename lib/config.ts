import * as z from 'zod/mini';
import { ConfigError } from './errors.ts';
import { PROFILE_NAMES } from './run-instances/profiles.ts';

/** The environment this service reads (DESIGN.md §4 "Configuration"); the only place process.env is read. */
const environment = z.object({
  VALIDATION_PROFILE: z._default(z.enum(PROFILE_NAMES), 'seed-2017'),
});

export type Config = z.output<typeof environment>;

/** Parses the environment once; throws one ConfigError naming every missing or invalid variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = environment.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
}
