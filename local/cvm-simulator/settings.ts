import { DEFAULT_SIM_SECRET_ID, DEFAULT_SIM_SECRET_KEY, type SimulatorOptions } from './server.ts';

/** The simulator's settings from the environment (README: "The Tencent CVM simulator"). */
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
  const secretId = env.SIM_SECRET_ID || DEFAULT_SIM_SECRET_ID;
  const secretKey = env.SIM_SECRET_KEY || DEFAULT_SIM_SECRET_KEY;
  return {
    secretId,
    secretKey,
    port: numberFrom('SIMULATOR_PORT', 3001),
    credentials: { [secretId]: secretKey },
    bootMs: numberFrom('SIM_BOOT_MS', 2000),
    launchFailRate: numberFrom('SIM_LAUNCH_FAIL_RATE', 0),
    visibilityDelayMs: numberFrom('SIM_VISIBILITY_DELAY_MS', 0),
    quota: numberFrom('SIM_QUOTA', 1000),
    rateLimits: env.SIM_RATE_LIMITS !== 'off',
  };
}
