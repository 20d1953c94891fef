/**
 * `npm run simulator`: a local Tencent CVM API 3.0 endpoint on loopback (docs/simulator.md).
 * Environment (docs/simulator.md, "Settings"): SIMULATOR_PORT (3001), SIM_SECRET_ID / SIM_SECRET_KEY /
 * SIM_SESSION_TOKEN, SIM_BOOT_MS (2000), SIM_LAUNCH_FAIL_RATE (0), SIM_VISIBILITY_DELAY_MS (500),
 * SIM_TAG_DELAY_MS (1000), SIM_VISIBILITY_JITTER_MS (1000), SIM_CLIENT_TOKENS (honoured|expiring|ignored),
 * SIM_CLIENT_TOKEN_TTL_MS (60000), SIM_QUOTA (1000), SIM_SETTLE_MS (1000), SIM_RECLAIM_MS (60000),
 * SIM_RATE_LIMITS (on|off).
 */
import { startSimulator } from './index.ts';
import { simulatorOptionsFromEnv } from './settings.ts';

const { secretId, secretKey: _secretKey, ...options } = simulatorOptionsFromEnv(process.env);
const simulator = await startSimulator(options);
console.log(
  `Tencent CVM simulator on ${simulator.url} (SecretId ${secretId}); GET ${simulator.url}/_sim/instances`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void simulator.close().then(() => process.exit(0));
  });
}
