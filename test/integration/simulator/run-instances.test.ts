import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../../local/cvm-simulator/index.ts';
import { inCidr } from '../../../local/cvm-simulator/state.ts';
import {
  BASE_RUN,
  describeOne,
  type Harness,
  type HarnessClient,
  runInstances,
  SECRET_ID,
  simInstances,
  startHarness,
} from '../../helpers/simulator.ts';

const VPC = { VpcId: 'vpc-m0cnatxj', SubnetId: 'subnet-mv4sn55k' }; // ap-guangzhou-3, 10.0.1.0/24

let h: Harness;
let client: HarnessClient;
beforeEach(async () => {
  h = await startHarness({ quota: 5 });
  client = h.client();
});
afterEach(() => h.close());

async function refusal(params: Record<string, unknown>): Promise<string> {
  try {
    await client.call('RunInstances', params);
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'accepted';
}

describe('RunInstances server-side rules', () => {
  it('refuses an unknown top-level parameter as UnknownParameter', async () => {
    expect(await refusal({ ...BASE_RUN, InstanceFlavour: 'large' })).toBe('UnknownParameter');
  });

  it('refuses an unknown nested member as UnknownParameter', async () => {
    expect(await refusal({ ...BASE_RUN, Placement: { Zone: 'ap-guangzhou-3', Rack: 7 } })).toBe(
      'UnknownParameter',
    );
  });

  it('refuses a zone of another region as InvalidZone.MismatchRegion', async () => {
    expect(await refusal({ ...BASE_RUN, Placement: { Zone: 'ap-shanghai-2' } })).toBe(
      'InvalidZone.MismatchRegion',
    );
  });

  it('refuses a zone the region does not have as InvalidZone.MismatchRegion', async () => {
    expect(await refusal({ ...BASE_RUN, Placement: { Zone: 'ap-guangzhou-5' } })).toBe(
      'InvalidZone.MismatchRegion',
    );
  });

  it('refuses a well-formed but unknown image as InvalidImageId.NotFound', async () => {
    expect(await refusal({ ...BASE_RUN, ImageId: 'img-00000000' })).toBe('InvalidImageId.NotFound');
  });

  it('refuses a well-formed but unknown instance type as InvalidParameterValue.InstanceTypeNotFound', async () => {
    expect(await refusal({ ...BASE_RUN, InstanceType: 'S9.HUGE999' })).toBe(
      'InvalidParameterValue.InstanceTypeNotFound',
    );
  });

  it('refuses a PREPAID period outside the allowed set as InvalidPeriod', async () => {
    expect(
      await refusal({ ...BASE_RUN, InstanceChargeType: 'PREPAID', InstanceChargePrepaid: { Period: 13 } }),
    ).toBe('InvalidPeriod');
  });

  it('accepts a PREPAID period from the allowed set', async () => {
    expect(
      await refusal({ ...BASE_RUN, InstanceChargeType: 'PREPAID', InstanceChargePrepaid: { Period: 36 } }),
    ).toBe('accepted');
  });

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
    expect(await refusal({ ...BASE_RUN, ...extra })).toBe('accepted');
  });

  it('refuses a ClientToken of 65 characters as InvalidClientToken.TooLong', async () => {
    expect(await refusal({ ...BASE_RUN, ClientToken: 'x'.repeat(65) })).toBe('InvalidClientToken.TooLong');
  });

  it('accepts a ClientToken of 64 characters', async () => {
    expect(await refusal({ ...BASE_RUN, ClientToken: 'x'.repeat(64) })).toBe('accepted');
  });

  it('refuses a non-ASCII ClientToken', async () => {
    expect(await refusal({ ...BASE_RUN, ClientToken: 'é'.repeat(10) })).toBe('InvalidParameterValue');
  });

  it('refuses PublicIpAssigned without bandwidth as InvalidParameterCombination', async () => {
    expect(await refusal({ ...BASE_RUN, InternetAccessible: { PublicIpAssigned: true } })).toBe(
      'InvalidParameterCombination',
    );
  });

  it('refuses an unknown subnet as InvalidParameterValue.SubnetNotExist', async () => {
    expect(
      await refusal({
        ...BASE_RUN,
        VirtualPrivateCloud: { VpcId: 'vpc-m0cnatxj', SubnetId: 'subnet-zzzzzzzz' },
      }),
    ).toBe('InvalidParameterValue.SubnetNotExist');
  });

  it('refuses a subnet of another VPC as InvalidParameterValue.VpcIdSubnetIdNotMatch', async () => {
    expect(
      await refusal({
        ...BASE_RUN,
        VirtualPrivateCloud: { VpcId: 'vpc-1yg5ua6l', SubnetId: 'subnet-mv4sn55k' },
      }),
    ).toBe('InvalidParameterValue.VpcIdSubnetIdNotMatch');
  });

  it('refuses a subnet of another zone as InvalidParameterValue.SubnetIdZoneIdNotMatch', async () => {
    expect(
      await refusal({
        ...BASE_RUN,
        Placement: { Zone: 'ap-guangzhou-4' },
        VirtualPrivateCloud: VPC,
      }),
    ).toBe('InvalidParameterValue.SubnetIdZoneIdNotMatch');
  });

  it('refuses a private IP outside the subnet CIDR as VpcAddrNotInSubNet', async () => {
    expect(
      await refusal({ ...BASE_RUN, VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ['10.0.2.10'] } }),
    ).toBe('VpcAddrNotInSubNet');
  });

  it('refuses a private IP another instance holds as VpcIpIsUsed', async () => {
    await runInstances(client, { VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ['10.0.1.50'] } });
    expect(
      await refusal({ ...BASE_RUN, VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ['10.0.1.50'] } }),
    ).toBe('VpcIpIsUsed');
  });

  it('refuses the same private IP twice in one request as VpcIpIsUsed', async () => {
    expect(
      await refusal({
        ...BASE_RUN,
        InstanceCount: 2,
        VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ['10.0.1.60', '10.0.1.60'] },
      }),
    ).toBe('VpcIpIsUsed');
  });

  it.each(['10.0.1.0', '10.0.1.1', '10.0.1.255'])(
    'refuses the reserved subnet address %s as VpcIpIsUsed',
    async (ip) => {
      const code = await refusal({ ...BASE_RUN, VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: [ip] } });
      expect(code).toBe('VpcIpIsUsed');
    },
  );

  it('frees a private IP once its instance is terminated and gone', async () => {
    const [id] = await runInstances(client, {
      VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ['10.0.1.70'] },
    });
    h.clock.advance(3000); // booted (2 s) and settled (1 s): TerminateInstances refuses it before
    await client.call('TerminateInstances', { InstanceIds: [id] });
    h.clock.advance(2000);
    expect(
      await refusal({ ...BASE_RUN, VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ['10.0.1.70'] } }),
    ).toBe('accepted');
  });

  it('refuses more live instances than the quota as InstancesQuotaLimitExceeded', async () => {
    await runInstances(client, { InstanceCount: 3 });
    expect(await refusal({ ...BASE_RUN, InstanceCount: 3 })).toBe('InstancesQuotaLimitExceeded');
  });

  it('accepts a request that fills the quota exactly', async () => {
    await runInstances(client, { InstanceCount: 3 });
    expect(await refusal({ ...BASE_RUN, InstanceCount: 2 })).toBe('accepted');
  });

  it('does not count terminated instances against the quota', async () => {
    const ids = await runInstances(client, { InstanceCount: 5 });
    h.clock.advance(3000);
    await client.call('TerminateInstances', { InstanceIds: ids });
    expect(await refusal({ ...BASE_RUN, InstanceCount: 5 })).toBe('accepted');
  });

  it('creates nothing for a refused request', async () => {
    await refusal({ ...BASE_RUN, InstanceCount: 2, ImageId: 'img-00000000' });
    await refusal({ ...BASE_RUN, InstanceCount: 6 });
    expect(await simInstances(h.sim)).toEqual([]);
  });

  it('creates nothing for a DryRun that passes', async () => {
    const response = await client.call('RunInstances', { ...BASE_RUN, DryRun: true });
    expect(response.InstanceIdSet).toBeUndefined();
    expect(await simInstances(h.sim)).toEqual([]);
  });

  it('still refuses an over-quota DryRun as InstancesQuotaLimitExceeded', async () => {
    expect(await refusal({ ...BASE_RUN, InstanceCount: 6, DryRun: true })).toBe(
      'InstancesQuotaLimitExceeded',
    );
  });
});

describe('private IP addresses', () => {
  it('assigns distinct private IPs inside the subnet CIDR, skipping network, gateway and broadcast', async () => {
    const ids = await runInstances(client, { InstanceCount: 5, VirtualPrivateCloud: VPC });
    const ips = (await simInstances(h.sim))
      .filter((i) => ids.includes(i.InstanceId))
      .map((i) => i.PrivateIpAddress);
    expect(new Set(ips).size).toBe(5);
    for (const ip of ips) {
      expect(inCidr(ip, '10.0.1.0/24')).toBe(true);
      expect(['10.0.1.0', '10.0.1.1', '10.0.1.255']).not.toContain(ip);
    }
  });

  it('assigns the requested fixed private IP and reports the VPC in Describe', async () => {
    const [id = ''] = await runInstances(client, {
      VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ['10.0.1.200'] },
    });
    const described = await describeOne(client, id);
    expect(described?.PrivateIpAddresses).toEqual(['10.0.1.200']);
    expect(described?.VirtualPrivateCloud).toMatchObject({ ...VPC, PrivateIpAddresses: ['10.0.1.200'] });
  });

  it('never hands an automatically chosen IP that is already fixed on another instance', async () => {
    await runInstances(client, { VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ['10.0.1.2'] } });
    const ids = await runInstances(client, { InstanceCount: 3, VirtualPrivateCloud: VPC });
    const ips = (await simInstances(h.sim))
      .filter((i) => ids.includes(i.InstanceId))
      .map((i) => i.PrivateIpAddress);
    expect(ips).not.toContain('10.0.1.2');
  });

  it('refuses a request a small subnet cannot hold as FailedOperation.NoAvailableIpAddressCountInSubnet', async () => {
    // subnet-s8hdu3ks is 192.168.10.0/28 in ap-shanghai-2: 13 usable addresses.
    const shanghai = {
      ...BASE_RUN,
      Placement: { Zone: 'ap-shanghai-2' },
      VirtualPrivateCloud: { VpcId: 'vpc-p2kd8sna', SubnetId: 'subnet-s8hdu3ks' },
    };
    const big = await startHarness({ quota: 100 });
    try {
      const c = big.client();
      await expect(
        c.call('RunInstances', { ...shanghai, InstanceCount: 14 }, 'ap-shanghai'),
      ).rejects.toMatchObject({
        code: 'FailedOperation.NoAvailableIpAddressCountInSubnet',
      });
      const created = await c.call('RunInstances', { ...shanghai, InstanceCount: 13 }, 'ap-shanghai');
      expect(created.InstanceIdSet).toHaveLength(13);
    } finally {
      await big.close();
    }
  });
});

describe('instance ids', () => {
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
});

describe('InstanceName patterns', () => {
  const namesOf = async (ids: string[]) =>
    (await simInstances(h.sim)).filter((i) => ids.includes(i.InstanceId)).map((i) => i.InstanceName);

  it('numbers a batch from x with {R:x}', async () => {
    const ids = await runInstances(client, { InstanceCount: 3, InstanceName: 'web-{R:7}' });
    expect(await namesOf(ids)).toEqual(['web-7', 'web-8', 'web-9']);
  });

  it('zero-pads to y digits with {R:x,F:y}', async () => {
    const ids = await runInstances(client, { InstanceCount: 2, InstanceName: 'db{R:9,F:3}' });
    expect(await namesOf(ids)).toEqual(['db009', 'db010']);
  });

  it('counts several patterns in one name independently', async () => {
    const ids = await runInstances(client, { InstanceCount: 2, InstanceName: 'a{R:1}-b{R:20}' });
    expect(await namesOf(ids)).toEqual(['a1-b20', 'a2-b21']);
  });

  it('appends 1…n to a batch name without a pattern', async () => {
    const ids = await runInstances(client, { InstanceCount: 3, InstanceName: 'node' });
    expect(await namesOf(ids)).toEqual(['node1', 'node2', 'node3']);
  });

  it('keeps a single instance name without a pattern unchanged', async () => {
    const ids = await runInstances(client, { InstanceName: 'solo' });
    expect(await namesOf(ids)).toEqual(['solo']);
  });
});
