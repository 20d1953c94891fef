import { afterEach, describe, expect, it } from 'vitest';
import { staticCredentials } from '../../../lib/tencent/credentials.ts';
import type { SimulatorOptions } from '../../../local/cvm-simulator/index.ts';
import {
  BASE_RUN,
  type Harness,
  type HarnessClient,
  resetSim,
  SECRET_ID,
  SECRET_KEY,
  simInstances,
  startHarness,
} from '../../helpers/simulator.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function limited(options: Omit<SimulatorOptions, 'port' | 'now'> = {}) {
  h = await startHarness({ rateLimits: true, ...options });
  return h;
}

/** Makes n calls and returns each one's outcome: 'ok' or the error code. */
async function outcomes(client: HarnessClient, action: string, params: Record<string, unknown>, n: number) {
  const results: string[] = [];
  for (let i = 0; i < n; i++) {
    results.push(
      await client.call(action, params).then(
        () => 'ok',
        (error: { code: string }) => error.code,
      ),
    );
  }
  return results;
}

const okTimes = (n: number) => Array.from({ length: n }, () => 'ok');

describe('rate limits on the simulator clock', () => {
  it('refuses the 11th RunInstances in one second as RequestLimitExceeded', async () => {
    const sim = await limited();
    const results = await outcomes(sim.client(), 'RunInstances', { ...BASE_RUN }, 11);
    expect(results).toEqual([...okTimes(10), 'RequestLimitExceeded']);
  });

  it('creates nothing for a throttled RunInstances, and counts the refusal in its stats', async () => {
    const sim = await limited();
    await outcomes(sim.client(), 'RunInstances', { ...BASE_RUN }, 11);
    expect(await simInstances(sim.sim)).toHaveLength(10);
    expect(Object.fromEntries(sim.sim.struck)).toEqual({ 'RunInstances rate-limit': 1 });
  });

  it('admits RunInstances again in the next clock second', async () => {
    const sim = await limited();
    const client = sim.client();
    await outcomes(client, 'RunInstances', { ...BASE_RUN }, 11);
    sim.clock.advance(1000);
    expect(await outcomes(client, 'RunInstances', { ...BASE_RUN }, 1)).toEqual(['ok']);
  });

  it('counts calls within one clock second, not a sliding 1000 ms', async () => {
    const sim = await limited();
    const client = sim.client();
    sim.clock.advance(999);
    await outcomes(client, 'RunInstances', { ...BASE_RUN }, 10);
    sim.clock.advance(1);
    expect(await outcomes(client, 'RunInstances', { ...BASE_RUN }, 10)).toEqual(okTimes(10));
  });

  it('refuses the 41st DescribeInstances in one second as RequestLimitExceeded', async () => {
    const sim = await limited();
    const results = await outcomes(sim.client(), 'DescribeInstances', {}, 41);
    expect(results).toEqual([...okTimes(40), 'RequestLimitExceeded']);
  });

  it('refuses the 41st DescribeInstancesStatus in one second as RequestLimitExceeded', async () => {
    const sim = await limited();
    const results = await outcomes(sim.client(), 'DescribeInstancesStatus', {}, 41);
    expect(results).toEqual([...okTimes(40), 'RequestLimitExceeded']);
  });

  it('keeps a separate budget per action', async () => {
    const sim = await limited();
    const client = sim.client();
    await outcomes(client, 'RunInstances', { ...BASE_RUN }, 11);
    expect(await outcomes(client, 'DescribeInstances', {}, 1)).toEqual(['ok']);
  });

  it('keeps a separate budget per SecretId', async () => {
    const sim = await limited({ credentials: { [SECRET_ID]: SECRET_KEY, AKIDsecond: 'second-key' } });
    await outcomes(sim.client(), 'RunInstances', { ...BASE_RUN }, 11);
    const second = sim.client({ credentials: staticCredentials('AKIDsecond', 'second-key') });
    expect(await outcomes(second, 'RunInstances', { ...BASE_RUN }, 1)).toEqual(['ok']);
  });

  it('applies the same limit to v1-signed calls', async () => {
    const sim = await limited();
    const results = await outcomes(
      sim.client({ signMethod: 'HmacSHA256' }),
      'RunInstances',
      { ...BASE_RUN },
      11,
    );
    expect(results.at(-1)).toBe('RequestLimitExceeded');
  });

  it('never limits when rateLimits is false', async () => {
    h = await startHarness({ rateLimits: false });
    const client = h.client();
    expect(await outcomes(client, 'RunInstances', { ...BASE_RUN }, 30)).toEqual(okTimes(30));
    expect(await outcomes(client, 'DescribeInstances', {}, 100)).toEqual(okTimes(100));
  });

  it('applies per-action limits given as an object', async () => {
    const sim = await limited({ rateLimits: { DescribeInstances: 2 } });
    const client = sim.client();
    expect(await outcomes(client, 'DescribeInstances', {}, 3)).toEqual(['ok', 'ok', 'RequestLimitExceeded']);
    expect(await outcomes(client, 'RunInstances', { ...BASE_RUN }, 12)).toEqual(okTimes(12));
  });

  it('forgets the current window on /_sim/reset', async () => {
    const sim = await limited();
    const client = sim.client();
    await outcomes(client, 'RunInstances', { ...BASE_RUN }, 11);
    await resetSim(sim.sim);
    expect(await outcomes(client, 'RunInstances', { ...BASE_RUN }, 1)).toEqual(['ok']);
  });
});
