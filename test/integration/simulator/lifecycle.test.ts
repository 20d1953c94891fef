import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_VISIBILITY,
  type SimulatorOptions,
  simulatorOptionsFromEnv,
  startSimulator,
} from '../../../local/cvm-simulator/index.ts';
import {
  describeInstances,
  describeOne,
  type Harness,
  runInstances,
  simInstances,
  startHarness,
} from '../../helpers/simulator.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(options: Omit<SimulatorOptions, 'port' | 'now'>) {
  h = await startHarness(options);
  return { h, client: h.client() };
}

describe('boot', () => {
  it('shows a new instance as PENDING until bootMs has passed', async () => {
    const { h, client } = await harness({ bootMs: 5000 });
    const [id = ''] = await runInstances(client);
    expect((await describeOne(client, id))?.InstanceState).toBe('PENDING');
    h.clock.advance(4999);
    expect((await describeOne(client, id))?.InstanceState).toBe('PENDING');
  });

  it('shows the instance as RUNNING once bootMs has passed, its launch still OPERATING', async () => {
    const { h, client } = await harness({ bootMs: 5000 });
    const [id = ''] = await runInstances(client);
    h.clock.advance(5000);
    expect(await describeOne(client, id)).toMatchObject({
      InstanceState: 'RUNNING',
      LatestOperation: 'RunInstances',
      LatestOperationState: 'OPERATING',
      LatestOperationErrorMsg: null,
    });
  });

  it('reports a PENDING instance operation as OPERATING', async () => {
    const { client } = await harness({ bootMs: 5000 });
    const [id = ''] = await runInstances(client);
    expect((await describeOne(client, id))?.LatestOperationState).toBe('OPERATING');
  });

  it('ends in LAUNCH_FAILED with an error message when launchFailRate is 1', async () => {
    const { h, client } = await harness({ bootMs: 1000, launchFailRate: 1 });
    const [id = ''] = await runInstances(client);
    expect((await describeOne(client, id))?.InstanceState).toBe('PENDING');
    h.clock.advance(1000);
    const failed = await describeOne(client, id);
    expect(failed).toMatchObject({ InstanceState: 'LAUNCH_FAILED', LatestOperationState: 'FAILED' });
    expect(failed?.LatestOperationErrorMsg).toEqual(expect.stringMatching(/\S/));
  });

  it('never fails a launch when launchFailRate is 0', async () => {
    const { h, client } = await harness({ bootMs: 1000, launchFailRate: 0 });
    await runInstances(client, { InstanceCount: 50 });
    h.clock.advance(1000);
    const result = await describeInstances(client, { Limit: 100 });
    expect(new Set(result.InstanceSet.map((i) => i.InstanceState))).toEqual(new Set(['RUNNING']));
  });

  it('does not count LAUNCH_FAILED instances against the quota', async () => {
    const { h, client } = await harness({ bootMs: 1000, launchFailRate: 1, quota: 2 });
    await runInstances(client, { InstanceCount: 2 });
    h.clock.advance(1000);
    expect(await runInstances(client, { InstanceCount: 2 })).toHaveLength(2);
  });

  it('reports the same state in DescribeInstancesStatus as in DescribeInstances', async () => {
    const { h, client } = await harness({ bootMs: 1000 });
    const [id] = await runInstances(client);
    h.clock.advance(1000);
    const status = await client.call('DescribeInstancesStatus', { InstanceIds: [id] });
    expect(status.InstanceStatusSet).toEqual([{ InstanceId: id, InstanceState: 'RUNNING' }]);
  });
});

describe('public IP addresses', () => {
  const withBandwidth = { InternetAccessible: { InternetMaxBandwidthOut: 10, PublicIpAssigned: true } };

  it('reports PublicIpAddresses as null while the instance is PENDING', async () => {
    const { client } = await harness({ bootMs: 2000 });
    const [id = ''] = await runInstances(client, withBandwidth);
    expect((await describeOne(client, id))?.PublicIpAddresses).toBeNull();
  });

  it('reports one public IP once an instance with bandwidth is RUNNING', async () => {
    const { h, client } = await harness({ bootMs: 2000 });
    const [id = ''] = await runInstances(client, withBandwidth);
    h.clock.advance(2000);
    const running = await describeOne(client, id);
    expect(running?.PublicIpAddresses).toEqual([expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/)]);
  });

  it('gives each instance of a batch its own public IP', async () => {
    const { h, client } = await harness({ bootMs: 2000 });
    await runInstances(client, { ...withBandwidth, InstanceCount: 5 });
    h.clock.advance(2000);
    const result = await describeInstances(client);
    const ips = result.InstanceSet.flatMap((i) => i.PublicIpAddresses ?? []);
    expect(new Set(ips).size).toBe(5);
  });

  it('gives every live instance its own public address, beyond 254 of them', async () => {
    const { h, client } = await harness({ quota: 1000 });
    const ids = [
      ...(await runInstances(client, {
        InstanceCount: 200,
        InternetAccessible: { InternetMaxBandwidthOut: 1 },
      })),
      ...(await runInstances(client, {
        InstanceCount: 100,
        InternetAccessible: { InternetMaxBandwidthOut: 1 },
      })),
    ];
    h.clock.advance(60_000);
    const ips = await Promise.all(
      ids.map(async (id) => (await describeOne(client, id))?.PublicIpAddresses?.[0]),
    );
    expect(new Set(ips).size).toBe(300);
  });

  it('assigns no public IP to a RUNNING instance without bandwidth', async () => {
    const { h, client } = await harness({ bootMs: 2000 });
    const [id = ''] = await runInstances(client);
    h.clock.advance(2000);
    expect((await describeOne(client, id))?.PublicIpAddresses).toBeNull();
  });

  it('assigns no public IP when PublicIpAssigned is false despite bandwidth', async () => {
    const { h, client } = await harness({ bootMs: 2000 });
    const [id = ''] = await runInstances(client, {
      InternetAccessible: { InternetMaxBandwidthOut: 10, PublicIpAssigned: false },
    });
    h.clock.advance(2000);
    expect((await describeOne(client, id))?.PublicIpAddresses).toBeNull();
  });
});

describe('visibility delay', () => {
  it('hides a new instance from DescribeInstances until visibilityDelayMs has passed', async () => {
    const { h, client } = await harness({ visibilityDelayMs: 3000 });
    const [id = ''] = await runInstances(client);
    expect((await describeInstances(client, { InstanceIds: [id] })).TotalCount).toBe(0);
    expect((await describeInstances(client)).TotalCount).toBe(0);
    h.clock.advance(2999);
    expect(await describeOne(client, id)).toBeUndefined();
    h.clock.advance(1);
    expect((await describeOne(client, id))?.InstanceId).toBe(id);
  });

  it('hides a new instance from DescribeInstancesStatus until visibilityDelayMs has passed', async () => {
    const { h, client } = await harness({ visibilityDelayMs: 3000 });
    const [id] = await runInstances(client);
    expect((await client.call('DescribeInstancesStatus', { InstanceIds: [id] })).TotalCount).toBe(0);
    h.clock.advance(3000);
    expect((await client.call('DescribeInstancesStatus', { InstanceIds: [id] })).TotalCount).toBe(1);
  });

  it('lists a not-yet-visible instance in /_sim/instances', async () => {
    const { client, h } = await harness({ visibilityDelayMs: 3000 });
    const [id] = await runInstances(client);
    expect((await simInstances(h.sim)).map((i) => i.InstanceId)).toEqual([id]);
  });
});

describe('TerminateInstances', () => {
  it('moves an instance to TERMINATING, then removes it after terminateMs', async () => {
    const { h, client } = await harness({ bootMs: 1000, settleMs: 1000, terminateMs: 4000 });
    const [id = ''] = await runInstances(client);
    h.clock.advance(2000);
    await client.call('TerminateInstances', { InstanceIds: [id] });
    expect(await describeOne(client, id)).toMatchObject({
      InstanceState: 'TERMINATING',
      LatestOperation: 'TerminateInstances',
      LatestOperationState: 'OPERATING',
    });
    h.clock.advance(3999);
    expect((await describeOne(client, id))?.InstanceState).toBe('TERMINATING');
    h.clock.advance(1);
    expect((await describeInstances(client, { InstanceIds: [id] })).TotalCount).toBe(0);
  });

  it('refuses a PENDING instance as UnsupportedOperation.InstanceStatePending and leaves it PENDING', async () => {
    const { client } = await harness({ bootMs: 60_000 });
    const [id = ''] = await runInstances(client);
    await expect(client.call('TerminateInstances', { InstanceIds: [id] })).rejects.toMatchObject({
      code: 'UnsupportedOperation.InstanceStatePending',
    });
    expect((await describeOne(client, id))?.InstanceState).toBe('PENDING');
  });

  it('refuses an unknown instance id as InvalidInstanceId.NotFound', async () => {
    const { client } = await harness({});
    await expect(client.call('TerminateInstances', { InstanceIds: ['ins-zzzzzzzz'] })).rejects.toMatchObject({
      code: 'InvalidInstanceId.NotFound',
    });
  });

  it('terminates none of the ids when one of them is unknown', async () => {
    const { client } = await harness({});
    const [id = ''] = await runInstances(client);
    await expect(
      client.call('TerminateInstances', { InstanceIds: [id, 'ins-zzzzzzzz'] }),
    ).rejects.toMatchObject({ code: 'InvalidInstanceId.NotFound' });
    expect((await describeOne(client, id))?.InstanceState).toBe('PENDING');
  });

  it('refuses an instance that is already gone as InvalidInstanceId.NotFound', async () => {
    const { h, client } = await harness({ bootMs: 1000, settleMs: 0, terminateMs: 1000 });
    const [id] = await runInstances(client);
    h.clock.advance(1000);
    await client.call('TerminateInstances', { InstanceIds: [id] });
    h.clock.advance(1000);
    await expect(client.call('TerminateInstances', { InstanceIds: [id] })).rejects.toMatchObject({
      code: 'InvalidInstanceId.NotFound',
    });
  });

  it('refuses a call without InstanceIds as MissingParameter', async () => {
    const { client } = await harness({});
    await expect(client.call('TerminateInstances', {})).rejects.toMatchObject({ code: 'MissingParameter' });
  });
});

describe('tags attach later than the instance', () => {
  const TAGGED = { TagSpecification: [{ ResourceType: 'instance', Tags: [{ Key: 'job', Value: 'j-1' }] }] };

  it('shows no tags, and matches no tag filter, until tagDelayMs after the instance became visible', async () => {
    const { h, client } = await harness({ visibilityDelayMs: 1000, tagDelayMs: 2000 });
    const [id = ''] = await runInstances(client, TAGGED);
    const byTag = { Filters: [{ Name: 'tag:job', Values: ['j-1'] }] };
    h.clock.advance(1000);
    expect((await describeOne(client, id))?.Tags).toEqual([]);
    expect((await describeInstances(client, byTag)).TotalCount).toBe(0);
    expect(
      (await describeInstances(client, { Filters: [{ Name: 'tag-key', Values: ['job'] }] })).TotalCount,
    ).toBe(0);
    h.clock.advance(1999);
    expect((await describeInstances(client, byTag)).TotalCount).toBe(0);
    h.clock.advance(1);
    expect((await describeOne(client, id))?.Tags).toEqual([{ Key: 'job', Value: 'j-1' }]);
    expect((await describeInstances(client, byTag)).InstanceSet.map((i) => i.InstanceId)).toEqual([id]);
    expect(
      (await describeInstances(client, { Filters: [{ Name: 'tag-value', Values: ['j-1'] }] })).TotalCount,
    ).toBe(1);
  });

  it('lists the tags at once in /_sim/instances, which shows the truth', async () => {
    const { h } = await harness({ tagDelayMs: 60_000 });
    await runInstances(h.client(), TAGGED);
    expect((await simInstances(h.sim))[0]?.Tags).toEqual([{ Key: 'job', Value: 'j-1' }]);
  });

  it('adds up to visibilityJitterMs, drawn from random(), to each delay', async () => {
    const { h, client } = await harness({
      visibilityDelayMs: 1000,
      tagDelayMs: 1000,
      visibilityJitterMs: 4000,
      random: () => 0.5,
    });
    const [id = ''] = await runInstances(client, TAGGED);
    const instance = h.sim.state.instances.get(id);
    expect(instance?.visibleAt).toBe(h.clock.now() + 1000 + 2000);
    expect(instance?.tagsVisibleAt).toBe(h.clock.now() + 3000 + 1000 + 2000);
  });
});

describe('defaults', () => {
  it('delays visibility by default, as the real service does', async () => {
    const sim = await startSimulator({ port: 0, rateLimits: false });
    try {
      expect(sim.state.settings).toMatchObject({
        visibilityDelayMs: DEFAULT_VISIBILITY.visibilityDelayMs,
        tagDelayMs: DEFAULT_VISIBILITY.tagDelayMs,
        visibilityJitterMs: DEFAULT_VISIBILITY.visibilityJitterMs,
        clientTokens: 'honoured',
      });
      expect(DEFAULT_VISIBILITY.visibilityDelayMs).toBeGreaterThan(0);
      expect(DEFAULT_VISIBILITY.tagDelayMs).toBeGreaterThan(0);
    } finally {
      await sim.close();
    }
  });

  it('reads the delays and the ClientToken mode from the environment', () => {
    expect(
      simulatorOptionsFromEnv({
        SIM_VISIBILITY_DELAY_MS: '10',
        SIM_TAG_DELAY_MS: '20',
        SIM_VISIBILITY_JITTER_MS: '0',
        SIM_CLIENT_TOKENS: 'expiring',
        SIM_CLIENT_TOKEN_TTL_MS: '5000',
        SIM_SESSION_TOKEN: 'sts-token',
        SIM_SECRET_ID: 'AKIDtemp',
        SIM_SECRET_KEY: 'temp-key',
      }),
    ).toMatchObject({
      visibilityDelayMs: 10,
      tagDelayMs: 20,
      visibilityJitterMs: 0,
      clientTokens: 'expiring',
      clientTokenTtlMs: 5000,
      credentials: { AKIDtemp: { secretKey: 'temp-key', token: 'sts-token' } },
    });
    expect(simulatorOptionsFromEnv({})).toMatchObject({ ...DEFAULT_VISIBILITY, clientTokens: 'honoured' });
    expect(() => simulatorOptionsFromEnv({ SIM_CLIENT_TOKENS: 'sometimes' })).toThrow(
      'SIM_CLIENT_TOKENS must be one of honoured, expiring, ignored, got "sometimes"',
    );
  });
});
