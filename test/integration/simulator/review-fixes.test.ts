import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../../local/cvm-simulator/index.ts';
import {
  BASE_RUN,
  describeOne,
  type Harness,
  rawTc3,
  rawV1,
  runInstances,
  SECRET_ID,
  startHarness,
} from '../../helpers/simulator.ts';

const VPC = { VpcId: 'vpc-m0cnatxj', SubnetId: 'subnet-mv4sn55k' }; // ap-guangzhou-3, 10.0.1.0/24

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe('simulator fixes found in review', () => {
  it.each(['10.0.1.0', '10.0.1.1', '10.0.1.255'])(
    'refuses the reserved subnet address %s as VpcIpIsUsed',
    async (ip) => {
      h = await startHarness();
      const code = await codeOf(
        h
          .client()
          .call('RunInstances', { ...BASE_RUN, VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: [ip] } }),
      );
      expect(code).toBe('VpcIpIsUsed');
    },
  );

  it.each([
    [
      'InstanceMarketOptions',
      {
        InstanceChargeType: 'SPOTPAID',
        InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { MaxPrice: '1.5' } },
      },
    ],
    ['CpuTopology', { CpuTopology: { CoreCount: 2, ThreadPerCore: 2 } }],
    ['SystemDisk.Encrypt', { SystemDisk: { DiskType: 'CLOUD_PREMIUM', DiskSize: 50, Encrypt: true } }],
    [
      'InternetServiceProvider',
      { InternetAccessible: { InternetMaxBandwidthOut: 5, InternetServiceProvider: 'BGP' } },
    ],
    ['Metadata', { Metadata: { Items: [{ Key: 'team', Value: 'web' }] } }],
    [
      'CDHPAID with HostIds',
      { InstanceChargeType: 'CDHPAID', Placement: { Zone: 'ap-guangzhou-3', HostIds: ['host-abcdefgh'] } },
    ],
  ])('accepts the current parameter %s', async (_name, extra) => {
    h = await startHarness();
    expect(await codeOf(h.client().call('RunInstances', { ...BASE_RUN, ...extra }))).toBe('accepted');
  });

  it('gives every live instance its own public address, beyond 254 of them', async () => {
    h = await startHarness({ quota: 1000 });
    const client = h.client();
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

  it('refuses a ClientToken reused with InstanceName TRUE after true: case matters in strings', async () => {
    h = await startHarness();
    const client = h.client();
    await client.call('RunInstances', { ...BASE_RUN, InstanceName: 'TRUE', ClientToken: 'case-token' });
    const code = await codeOf(
      client.call('RunInstances', { ...BASE_RUN, InstanceName: 'true', ClientToken: 'case-token' }),
    );
    expect(code).toBe('UnsupportedOperation.IdempotentParameterMismatch');
  });

  it.each(['garbage', 'TC3-HMAC-SHA1 Credential=x'])(
    'answers Authorization "%s" with AuthFailure.InvalidAuthorization',
    async (authorization) => {
      h = await startHarness();
      const response = await fetch(`${h.sim.url}/`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', 'x-tc-action': 'DescribeInstances' },
        body: '{}',
      });
      const body = (await response.json()) as { Response: { Error: { Code: string } } };
      expect(body.Response.Error.Code).toBe('AuthFailure.InvalidAuthorization');
    },
  );

  it('still creates distinct instances when the injected random() never changes', async () => {
    const sim = await startSimulator({
      port: 0,
      random: () => 0.5,
      rateLimits: false,
      credentials: { [SECRET_ID]: 'k' },
    });
    try {
      sim.state.instances.clear();
      const ids = new Set<string>();
      for (let i = 0; i < 3; i++) ids.add(sim.state.newInstanceId());
      // newInstanceId returns a free id without registering it; register to force the next one to differ.
      for (const id of ids) sim.state.instances.set(id, { instanceId: id } as never);
      expect(sim.state.newInstanceId()).not.toBe([...ids][0]);
    } finally {
      await sim.close();
    }
  });

  it.each([
    ['a v1 index gap', { 'InstanceIds.1': 'ins-abcdefgh' }, 'v1'],
    ['a JSON null in the list', '{"InstanceIds":[null,"ins-abcdefgh"]}', 'tc3'],
  ] as const)(
    'refuses InstanceIds with %s instead of treating them as no filter',
    async (_what, params, style) => {
      h = await startHarness();
      const timestamp = Math.floor(h.clock.now() / 1000);
      const { body } =
        style === 'v1'
          ? await rawV1(h.sim, { method: 'GET', params: params as Record<string, string>, timestamp })
          : await rawTc3(h.sim, { payload: params as string, timestamp });
      expect(body.Response.Error?.Code).toBe('InvalidParameter');
    },
  );

  it('treats an empty ClientToken as none, so unrelated requests are not deduplicated', async () => {
    h = await startHarness();
    const client = h.client();
    const first = await runInstances(client, { ClientToken: '', InstanceName: 'a' });
    const second = await runInstances(client, { ClientToken: '', InstanceName: 'b' });
    expect(second).not.toEqual(first);
  });

  it('refuses a non-ASCII ClientToken', async () => {
    h = await startHarness();
    expect(await codeOf(h.client().call('RunInstances', { ...BASE_RUN, ClientToken: 'é'.repeat(10) }))).toBe(
      'InvalidParameterValue',
    );
  });

  it('refuses a TC3 credential scope naming another service', async () => {
    h = await startHarness();
    const error = await codeOf(h.client({ service: 'cbs' }).call('DescribeInstances'));
    expect(error).toBe('AuthFailure.SignatureFailure');
  });
});
