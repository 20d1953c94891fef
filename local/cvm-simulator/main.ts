/**
 * `npm run simulator`: a local Tencent CVM API 3.0 endpoint on loopback (DESIGN §6).
 * Environment: SIMULATOR_PORT (3001), SIM_SECRET_ID / SIM_SECRET_KEY, SIM_BOOT_MS (2000),
 * SIM_LAUNCH_FAIL_RATE (0), SIM_VISIBILITY_DELAY_MS (0), SIM_QUOTA (1000), SIM_RATE_LIMITS (on|off).
 */
import { DEFAULT_SIM_SECRET_ID, DEFAULT_SIM_SECRET_KEY, startSimulator } from './index.ts';

function numberFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

const secretId = process.env.SIM_SECRET_ID || DEFAULT_SIM_SECRET_ID;
const simulator = await startSimulator({
  port: numberFrom('SIMULATOR_PORT', 3001),
  credentials: { [secretId]: process.env.SIM_SECRET_KEY || DEFAULT_SIM_SECRET_KEY },
  bootMs: numberFrom('SIM_BOOT_MS', 2000),
  launchFailRate: numberFrom('SIM_LAUNCH_FAIL_RATE', 0),
  visibilityDelayMs: numberFrom('SIM_VISIBILITY_DELAY_MS', 0),
  quota: numberFrom('SIM_QUOTA', 1000),
  rateLimits: process.env.SIM_RATE_LIMITS !== 'off',
});
console.log(
  `Tencent CVM simulator on ${simulator.url} (SecretId ${secretId}); GET ${simulator.url}/_sim/instances`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void simulator.close().then(() => process.exit(0));
  });
}
