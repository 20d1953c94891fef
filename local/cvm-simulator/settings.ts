import {
  DEFAULT_LIFECYCLE,
  DEFAULT_SIM_SECRET_ID,
  DEFAULT_SIM_SECRET_KEY,
  DEFAULT_VISIBILITY,
  type SimulatorOptions,
} from './server.ts';
import { CLIENT_TOKEN_MODES, type ClientTokenMode } from './state.ts';

/** The simulator's settings from the environment (docs/simulator.md, "Settings"). */
export function simulatorOptionsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): SimulatorOptions & {
  secretId: string;
  secretKey: string;
} {
  const numberFrom = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`${name} must be a non-negative number, got "${raw}"`);
    return value;
  };
  const tokens = env.SIM_CLIENT_TOKENS || 'honoured';
  if (!(CLIENT_TOKEN_MODES as readonly string[]).includes(tokens))
    throw new Error(`SIM_CLIENT_TOKENS must be one of ${CLIENT_TOKEN_MODES.join(', ')}, got "${tokens}"`);
  const secretId = env.SIM_SECRET_ID || DEFAULT_SIM_SECRET_ID;
  const secretKey = env.SIM_SECRET_KEY || DEFAULT_SIM_SECRET_KEY;
  const sessionToken = env.SIM_SESSION_TOKEN || undefined;
  return {
    secretId,
    secretKey,
    port: numberFrom('SIMULATOR_PORT', 3001),
    credentials: { [secretId]: sessionToken ? { secretKey, token: sessionToken } : secretKey },
    bootMs: numberFrom('SIM_BOOT_MS', 2000),
    launchFailRate: numberFrom('SIM_LAUNCH_FAIL_RATE', 0),
    visibilityDelayMs: numberFrom('SIM_VISIBILITY_DELAY_MS', DEFAULT_VISIBILITY.visibilityDelayMs),
    tagDelayMs: numberFrom('SIM_TAG_DELAY_MS', DEFAULT_VISIBILITY.tagDelayMs),
    visibilityJitterMs: numberFrom('SIM_VISIBILITY_JITTER_MS', DEFAULT_VISIBILITY.visibilityJitterMs),
    clientTokens: tokens as ClientTokenMode,
    clientTokenTtlMs: numberFrom('SIM_CLIENT_TOKEN_TTL_MS', 60_000),
    quota: numberFrom('SIM_QUOTA', 1000),
    settleMs: numberFrom('SIM_SETTLE_MS', DEFAULT_LIFECYCLE.settleMs),
    reclaimMs: numberFrom('SIM_RECLAIM_MS', DEFAULT_LIFECYCLE.reclaimMs),
    rateLimits: env.SIM_RATE_LIMITS !== 'off',
  };
}
