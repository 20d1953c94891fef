import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  codeOf,
  type DescribedInstance,
  describeInstances,
  describeOne,
  type Harness,
  type HarnessClient,
  runInstances,
  startHarness,
  T0,
} from '../../helpers/simulator.ts';

// Two instances an hour apart, both RUNNING when the filters are tried:
//   vpc — in vpc-m0cnatxj / subnet-mv4sn55k, sg-aaaaaaaa, project 1002189, a public address, created at T0;
//   classic — no VPC, sg-bbbbbbbb and sg-aaaaaaaa, project 0, no public address, created at T0 + 1 h.
let h: Harness;
let client: HarnessClient;
let vpc: DescribedInstance;
let classic: DescribedInstance;
beforeEach(async () => {
  h = await startHarness({ bootMs: 1000 });
  client = h.client();
  const [vpcId = ''] = await runInstances(client, {
    Placement: { Zone: 'ap-guangzhou-3', ProjectId: 1002189 },
    VirtualPrivateCloud: { VpcId: 'vpc-m0cnatxj', SubnetId: 'subnet-mv4sn55k' },
    SecurityGroupIds: ['sg-aaaaaaaa'],
    InternetAccessible: { InternetMaxBandwidthOut: 5 },
  });
  h.clock.advance(3_600_000);
  const [classicId = ''] = await runInstances(client, { SecurityGroupIds: ['sg-bbbbbbbb', 'sg-aaaaaaaa'] });
  h.clock.advance(1000);
  vpc = (await describeOne(client, vpcId)) as DescribedInstance;
  classic = (await describeOne(client, classicId)) as DescribedInstance;
});
afterEach(() => h.close());

const matching = async (name: string, values: string[]) =>
  (await describeInstances(client, { Filters: [{ Name: name, Values: values }] })).InstanceSet.map(
    (i) => i.InstanceId,
  );

/** `YYYY-MM-DD hh:mm:ss` (UTC) of a time `ms` after T0. */
const at = (ms: number) => new Date(T0 + ms).toISOString().replace('T', ' ').slice(0, 19);

describe('the documented DescribeInstances filters', () => {
  type Row = [string, () => string[], () => string[]];
  const none = (): string[] => [];
  const rows: Row[] = [
    ['vpc-id', () => ['vpc-m0cnatxj'], () => [vpc.InstanceId]],
    ['vpc-id', () => ['vpc-1yg5ua6l'], none],
    ['subnet-id', () => ['subnet-mv4sn55k'], () => [vpc.InstanceId]],
    ['subnet-id', () => ['subnet-k2ls9dma'], none],
    ['uuid', () => [classic.Uuid], () => [classic.InstanceId]],
    ['uuid', () => ['00000000-0000-4000-8000-000000000000'], none],
    ['security-group-id', () => ['sg-aaaaaaaa'], () => [vpc.InstanceId, classic.InstanceId]],
    ['security-group-id', () => ['sg-bbbbbbbb'], () => [classic.InstanceId]],
    ['security-group-id', () => ['sg-cccccccc'], none],
    ['public-ip-address', () => vpc.PublicIpAddresses ?? [], () => [vpc.InstanceId]],
    ['public-ip-address', () => ['192.0.2.250'], none],
    ['project-id', () => ['1002189'], () => [vpc.InstanceId]],
    ['project-id', () => ['0'], () => [classic.InstanceId]],
    ['project-id', () => ['7', '0', '1002189'], () => [vpc.InstanceId, classic.InstanceId]],
    ['project-id', () => ['7'], none],
    ['creation-start-time', () => [at(60_000)], () => [classic.InstanceId]],
    ['creation-start-time', () => [at(0)], () => [vpc.InstanceId, classic.InstanceId]],
    ['creation-start-time', () => [at(3_601_000)], none],
    ['creation-end-time', () => [at(60_000)], () => [vpc.InstanceId]],
    ['creation-end-time', () => [at(3_600_000)], () => [vpc.InstanceId, classic.InstanceId]],
    ['creation-end-time', () => [at(-1000)], none],
    ['zone', () => ['ap-guangzhou-3'], () => [vpc.InstanceId, classic.InstanceId]],
    ['instance-state', () => ['RUNNING'], () => [vpc.InstanceId, classic.InstanceId]],
    ['host-id', () => ['host-aaaaaaaa'], none],
    ['dedicated-cluster-id', () => ['cluster-aaaaaaa'], none],
    ['ipv6-address', () => ['2001:db8::1'], none],
  ];
  it.each(rows)('%s (case %#) matches exactly the instances it should', async (name, values, expected) => {
    expect(await matching(name, values())).toEqual(expected());
  });

  it('matches the creation times at the second CreatedTime shows', async () => {
    expect(vpc.CreatedTime).toBe('2026-01-15T08:00:00Z');
    expect(await matching('creation-start-time', ['2026-01-15 08:00:00'])).toContain(vpc.InstanceId);
    expect(await matching('creation-end-time', ['2026-01-15 08:00:00'])).toEqual([vpc.InstanceId]);
  });

  it('finds no PENDING instance by its public address, which Describe does not show yet', async () => {
    const [pending = ''] = await runInstances(client, { InternetAccessible: { InternetMaxBandwidthOut: 5 } });
    const truth = h.sim.state.instances.get(pending)?.publicIp ?? '';
    expect(truth).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await matching('public-ip-address', [truth])).toEqual([]);
    h.clock.advance(1000);
    expect(await matching('public-ip-address', [truth])).toEqual([pending]);
  });

  it('requires every new filter to match when several are given', async () => {
    const result = await describeInstances(client, {
      Filters: [
        { Name: 'security-group-id', Values: ['sg-aaaaaaaa'] },
        { Name: 'creation-end-time', Values: [at(60_000)] },
        { Name: 'vpc-id', Values: ['vpc-m0cnatxj'] },
      ],
    });
    expect(result.InstanceSet.map((i) => i.InstanceId)).toEqual([vpc.InstanceId]);
  });

  it.each([
    ['creation-start-time', '2026-01-15T08:00:00Z'],
    ['creation-start-time', '2026-01-15 8:00:00'],
    ['creation-start-time', '2026-01-15'],
    ['creation-end-time', '2026-02-30 00:00:00'],
    ['creation-end-time', '2026-13-01 00:00:00'],
    ['creation-end-time', '2026-01-15 24:00:00'],
    ['creation-end-time', 'yesterday'],
  ])('refuses %s "%s" as InvalidParameterValue.InvalidTimeFormat', async (name, value) => {
    expect(await codeOf(matching(name, [value]))).toBe('InvalidParameterValue.InvalidTimeFormat');
  });

  it('refuses a project-id that is not an integer as InvalidParameterValue', async () => {
    expect(await codeOf(matching('project-id', ['default']))).toBe('InvalidParameterValue');
  });

  it.each(['vpc', 'created-after', 'security-group', 'Uuid'])(
    'refuses the undocumented filter %s as InvalidFilter',
    async (name) => {
      expect(await codeOf(matching(name, ['x']))).toBe('InvalidFilter');
    },
  );
});
