import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addFault,
  BASE_RUN,
  describeInstances,
  type Harness,
  type HarnessClient,
  listFaults,
  resetSim,
  runInstances,
  simInstances,
  startHarness,
} from '../../helpers/simulator.ts';

let h: Harness;
let client: HarnessClient;
beforeEach(async () => {
  h = await startHarness({ bootMs: 1000 });
  client = h.client();
});
afterEach(() => h.close());

describe('/_sim/instances', () => {
  it('lists every instance with its ClientToken, tags, addresses and state', async () => {
    const [id] = await runInstances(client, {
      InstanceName: 'listed',
      ClientToken: 'admin-token',
      InternetAccessible: { InternetMaxBandwidthOut: 1 },
      TagSpecification: [{ ResourceType: 'instance', Tags: [{ Key: 'k', Value: 'v' }] }],
    });
    expect(await simInstances(h.sim)).toEqual([
      {
        InstanceId: id,
        InstanceState: 'PENDING',
        Region: 'ap-guangzhou',
        Zone: 'ap-guangzhou-3',
        InstanceName: 'listed',
        InstanceType: 'S5.MEDIUM4',
        ClientToken: 'admin-token',
        Tags: [{ Key: 'k', Value: 'v' }],
        PrivateIpAddress: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/),
        PublicIpAddress: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/),
        CreatedTime: new Date(h.clock.now()).toISOString(),
        LatestOperation: 'RunInstances',
        LatestOperationState: 'OPERATING',
        LatestOperationErrorMsg: null,
        VisibleTime: new Date(h.clock.now()).toISOString(),
      },
    ]);
  });

  it('shows ClientToken and PublicIpAddress as null when there are none', async () => {
    await runInstances(client);
    expect(await simInstances(h.sim)).toEqual([
      expect.objectContaining({ ClientToken: null, PublicIpAddress: null }),
    ]);
  });

  it('follows the simulator clock in InstanceState', async () => {
    await runInstances(client);
    h.clock.advance(1000);
    expect((await simInstances(h.sim))[0]?.InstanceState).toBe('RUNNING');
  });
});

describe('/_sim/stats', () => {
  const stats = async () =>
    ((await (await fetch(`${h.sim.url}/_sim/stats`)).json()) as { calls: Record<string, number> }).calls;

  it('counts the authenticated calls by action, failed ones included, and forgets them on reset', async () => {
    await runInstances(client);
    await describeInstances(client);
    await describeInstances(client);
    await addFault(h.sim, { action: 'RunInstances', mode: 'InternalError', count: 1 });
    await expect(runInstances(client)).rejects.toMatchObject({ code: 'InternalError' });
    const { staticCredentials } = await import('../../../lib/tencent/credentials.ts');
    const stranger = h.client({ credentials: staticCredentials('AKIDunknown', 'nope') });
    await expect(stranger.call('DescribeInstances')).rejects.toMatchObject({
      code: 'AuthFailure.SecretIdNotFound',
    });
    expect(await stats()).toEqual({ RunInstances: 2, DescribeInstances: 2 });
    expect(Object.fromEntries(h.sim.calls)).toEqual({ RunInstances: 2, DescribeInstances: 2 });
    await resetSim(h.sim);
    expect(await stats()).toEqual({});
  });

  it('counts the faults that struck, by action, mode and whether the action took effect first', async () => {
    const struck = async () =>
      ((await (await fetch(`${h.sim.url}/_sim/stats`)).json()) as { faults: Record<string, number> }).faults;
    await addFault(h.sim, { action: 'RunInstances', mode: 'InternalError', count: 1 });
    await addFault(h.sim, { action: 'RunInstances', mode: 'http502', when: 'after', count: 1 });
    await expect(runInstances(client)).rejects.toMatchObject({ code: 'InternalError' });
    await expect(runInstances(client)).rejects.toThrow();
    await runInstances(client);
    expect(await struck()).toEqual({
      'RunInstances InternalError before': 1,
      'RunInstances http502 after': 1,
    });
    // The lost answer's instance exists: the fault struck after the action.
    expect(await simInstances(h.sim)).toHaveLength(2);
    expect(Object.fromEntries(h.sim.struck)).toEqual(await struck());
    await resetSim(h.sim);
    expect(await struck()).toEqual({});
  });
});

describe('/_sim/reset', () => {
  it('answers 204', async () => {
    expect((await resetSim(h.sim)).status).toBe(204);
  });

  it('empties the instances', async () => {
    await runInstances(client, { InstanceCount: 3 });
    await resetSim(h.sim);
    expect(await simInstances(h.sim)).toEqual([]);
    expect((await describeInstances(client)).TotalCount).toBe(0);
  });

  it('removes every fault', async () => {
    await addFault(h.sim, { action: '*', mode: 'InternalError', rate: 1 });
    await resetSim(h.sim);
    expect(await listFaults(h.sim)).toEqual([]);
    expect(await runInstances(client)).toHaveLength(1);
  });

  it('frees the private IPs the instances held', async () => {
    const fixed = {
      ...BASE_RUN,
      VirtualPrivateCloud: {
        VpcId: 'vpc-m0cnatxj',
        SubnetId: 'subnet-mv4sn55k',
        PrivateIpAddresses: ['10.0.1.33'],
      },
    };
    await runInstances(client, fixed);
    await resetSim(h.sim);
    expect(await runInstances(client, fixed)).toHaveLength(1);
  });
});

it('answers an unknown admin path with 404', async () => {
  const response = await fetch(`${h.sim.url}/_sim/nothing-here`);
  expect(response.status).toBe(404);
});
