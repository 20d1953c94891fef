import type { Instance } from 'tencentcloud-sdk-nodejs-cvm/tencentcloud/services/cvm/v20170312/cvm_models.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG } from '../../../local/cvm-simulator/index.ts';
import {
  codeOf,
  type DescribedInstance,
  describeInstances,
  describeOne,
  type Harness,
  type HarnessClient,
  runInstances,
  sdkModelFields,
  startHarness,
} from '../../helpers/simulator.ts';

let h: Harness;
let client: HarnessClient;
beforeEach(async () => {
  h = await startHarness({ bootMs: 1000, settleMs: 0 });
  client = h.client();
});
afterEach(() => h.close());

/** Every field the simulator's DescribeInstances returns, all of them named as in the SDK's `Instance`. */
const IMPLEMENTED = [
  'Placement',
  'InstanceId',
  'InstanceType',
  'CPU',
  'Memory',
  'RestrictState',
  'InstanceName',
  'InstanceChargeType',
  'SystemDisk',
  'DataDisks',
  'PrivateIpAddresses',
  'PublicIpAddresses',
  'InternetAccessible',
  'VirtualPrivateCloud',
  'ImageId',
  'RenewFlag',
  'CreatedTime',
  'ExpiredTime',
  'OsName',
  'SecurityGroupIds',
  'LoginSettings',
  'InstanceState',
  'Tags',
  'StopChargingMode',
  'Uuid',
  'LatestOperation',
  'LatestOperationState',
  'LatestOperationRequestId',
  'IPv6Addresses',
  'CamRoleName',
  'IsolatedSource',
  'DisasterRecoverGroupIds',
  'LicenseType',
  'DisableApiTermination',
  'HostName',
  'DefaultLoginUser',
  'DefaultLoginPort',
  'LatestOperationErrorMsg',
] as const satisfies ReadonlyArray<keyof Instance>;

const EVERYTHING = {
  InstanceChargeType: 'PREPAID',
  InstanceChargePrepaid: { Period: 1, RenewFlag: 'NOTIFY_AND_AUTO_RENEW' },
  Placement: { Zone: 'ap-guangzhou-3', ProjectId: 1002189 },
  InstanceType: 'S5.LARGE8',
  ImageId: 'img-eb30mz89',
  SystemDisk: { DiskType: 'CLOUD_SSD', DiskSize: 80 },
  DataDisks: [
    { DiskType: 'CLOUD_PREMIUM', DiskSize: 100, DeleteWithInstance: false },
    { DiskType: 'CLOUD_SSD', DiskSize: 200, Encrypt: true, SnapshotId: 'snap-abcd1234' },
  ],
  VirtualPrivateCloud: { VpcId: 'vpc-m0cnatxj', SubnetId: 'subnet-mv4sn55k' },
  InternetAccessible: { InternetChargeType: 'BANDWIDTH_PREPAID', InternetMaxBandwidthOut: 10 },
  InstanceName: 'shape',
  LoginSettings: { KeyIds: ['skey-b4vakk62'] },
  SecurityGroupIds: ['sg-p1ezv4wz'],
  HostName: 'web-{R:1}',
  CamRoleName: 'cvm-role',
  DisableApiTermination: true,
};

async function described(params: Record<string, unknown> = {}): Promise<DescribedInstance> {
  const [id = ''] = await runInstances(client, params);
  h.clock.advance(1000);
  const instance = await describeOne(client, id);
  if (!instance) throw new Error(`Describe does not show ${id}`);
  return instance;
}

describe("DescribeInstances follows the SDK's Instance model", () => {
  it("returns exactly the implemented fields, every one a field of the SDK's Instance", async () => {
    const keys = Object.keys(await described());
    expect(keys.sort()).toEqual([...IMPLEMENTED].sort());
    const sdk = sdkModelFields('Instance');
    expect(keys.filter((key) => !sdk.includes(key))).toEqual([]);
  });

  it.each([
    ['Placement', 'Placement'],
    ['SystemDisk', 'SystemDisk'],
    ['DataDisks', 'DataDisk'],
    ['InternetAccessible', 'InternetAccessible'],
    ['VirtualPrivateCloud', 'VirtualPrivateCloud'],
    ['LoginSettings', 'LoginSettings'],
  ] as const)('names the members of %s as the SDK model %s does', async (field, model) => {
    const value = (await described(EVERYTHING))[field];
    const members = Object.keys((Array.isArray(value) ? value[0] : value) ?? {});
    expect(members.length).toBeGreaterThan(0);
    expect(members.filter((key) => !sdkModelFields(model).includes(key))).toEqual([]);
  });

  it('types every field as the model does (null only where Tencent documents it)', async () => {
    const instance = await described(EVERYTHING);
    const types = Object.fromEntries(
      Object.entries(instance).map(([key, value]) => [
        key,
        value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value,
      ]),
    );
    expect(types).toEqual({
      Placement: 'object',
      InstanceId: 'string',
      InstanceType: 'string',
      CPU: 'number',
      Memory: 'number',
      RestrictState: 'string',
      InstanceName: 'string',
      InstanceChargeType: 'string',
      SystemDisk: 'object',
      DataDisks: 'array',
      PrivateIpAddresses: 'array',
      PublicIpAddresses: 'array',
      InternetAccessible: 'object',
      VirtualPrivateCloud: 'object',
      ImageId: 'string',
      RenewFlag: 'string',
      CreatedTime: 'string',
      ExpiredTime: 'string',
      OsName: 'string',
      SecurityGroupIds: 'array',
      LoginSettings: 'object',
      InstanceState: 'string',
      Tags: 'array',
      StopChargingMode: 'string',
      Uuid: 'string',
      LatestOperation: 'string',
      LatestOperationState: 'string',
      LatestOperationRequestId: 'string',
      IPv6Addresses: 'null',
      CamRoleName: 'string',
      IsolatedSource: 'string',
      DisasterRecoverGroupIds: 'array',
      LicenseType: 'string',
      DisableApiTermination: 'boolean',
      HostName: 'string',
      DefaultLoginUser: 'string',
      DefaultLoginPort: 'number',
      LatestOperationErrorMsg: 'null',
    });
  });
});

describe('values derived from the request and the catalog', () => {
  it('describes a fully specified prepaid instance as it was asked for', async () => {
    const instance = await described(EVERYTHING);
    expect(instance).toMatchObject({
      Placement: { Zone: 'ap-guangzhou-3', ProjectId: 1002189 },
      InstanceType: 'S5.LARGE8',
      CPU: 4,
      Memory: 8,
      InstanceChargeType: 'PREPAID',
      SystemDisk: {
        DiskType: 'CLOUD_SSD',
        DiskSize: 80,
        DiskId: expect.stringMatching(/^disk-[0-9a-z]{8}$/),
      },
      DataDisks: [
        { DiskType: 'CLOUD_PREMIUM', DiskSize: 100, DeleteWithInstance: false, Encrypt: false },
        {
          DiskType: 'CLOUD_SSD',
          DiskSize: 200,
          DeleteWithInstance: true,
          Encrypt: true,
          SnapshotId: 'snap-abcd1234',
        },
      ],
      InternetAccessible: {
        InternetChargeType: 'BANDWIDTH_PREPAID',
        InternetMaxBandwidthOut: 10,
        PublicIpAssigned: true,
      },
      OsName: 'Ubuntu Server 22.04 LTS 64bit',
      DefaultLoginUser: 'ubuntu',
      DefaultLoginPort: 22,
      RenewFlag: 'NOTIFY_AND_AUTO_RENEW',
      CreatedTime: '2026-01-15T08:00:00Z',
      ExpiredTime: '2026-02-15T08:00:00Z',
      LoginSettings: { KeyIds: ['skey-b4vakk62'] },
      SecurityGroupIds: ['sg-p1ezv4wz'],
      HostName: 'web-1',
      CamRoleName: 'cvm-role',
      DisableApiTermination: true,
      StopChargingMode: 'NOT_APPLICABLE',
      IsolatedSource: 'NOTISOLATED',
      RestrictState: 'NORMAL',
    });
    const diskIds = [instance.SystemDisk.DiskId, ...(instance.DataDisks ?? []).map((d) => d.DiskId)];
    expect(new Set(diskIds).size).toBe(3);
    expect(diskIds.every((id) => /^disk-[0-9a-z]{8}$/.test(id))).toBe(true);
  });

  it('describes a minimal postpaid instance with the defaults and the nulls Tencent documents', async () => {
    expect(await described()).toMatchObject({
      Placement: { Zone: 'ap-guangzhou-3', ProjectId: 0 },
      SystemDisk: { DiskType: 'CLOUD_PREMIUM', DiskSize: 50 },
      DataDisks: null,
      InternetAccessible: {
        InternetChargeType: 'TRAFFIC_POSTPAID_BY_HOUR',
        InternetMaxBandwidthOut: 0,
        PublicIpAssigned: false,
      },
      RenewFlag: null,
      ExpiredTime: null,
      LoginSettings: { KeyIds: null },
      CamRoleName: null,
      IPv6Addresses: null,
      DisableApiTermination: false,
      HostName: expect.stringMatching(/^VM-\d+-\d+-tencentos$/),
    });
  });

  it.each(Object.entries(DEFAULT_CATALOG.instanceTypes))(
    'shows %s with its catalog CPU and Memory',
    async (type, spec) => {
      expect(await described({ InstanceType: type })).toMatchObject(spec);
    },
  );

  it.each(Object.entries(DEFAULT_CATALOG.images))(
    'shows image %s with its OsName and default login',
    async (imageId, image) => {
      expect(await described({ ImageId: imageId })).toMatchObject({
        OsName: image.OsName,
        DefaultLoginUser: image.DefaultLoginUser,
        DefaultLoginPort: image.DefaultLoginPort,
      });
    },
  );

  it.each([
    [1, Date.UTC(2026, 0, 15, 8), '2026-02-15T08:00:00Z'],
    [12, Date.UTC(2026, 0, 15, 8), '2027-01-15T08:00:00Z'],
    [1, Date.UTC(2026, 0, 31, 23, 59, 59), '2026-02-28T23:59:59Z'],
    [36, Date.UTC(2027, 1, 28, 12), '2030-02-28T12:00:00Z'],
  ])('ends a %s-month prepaid period created at %s on %s', async (period, at, expired) => {
    h.clock.set(at);
    const instance = await described({
      InstanceChargeType: 'PREPAID',
      InstanceChargePrepaid: { Period: period },
    });
    expect(instance).toMatchObject({ RenewFlag: 'NOTIFY_AND_MANUAL_RENEW', ExpiredTime: expired });
  });

  it('gives every instance of a batch its own Uuid (RFC 4122 version 4)', async () => {
    await runInstances(client, { InstanceCount: 5 });
    const uuids = (await describeInstances(client)).InstanceSet.map((i) => i.Uuid);
    expect(new Set(uuids).size).toBe(5);
    for (const uuid of uuids)
      expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it.each([
    ['web-{R:7}', ['web-7', 'web-8']],
    ['node', ['node1', 'node2']],
    ['node-{IP}', ['node-10-0-1-2', 'node-10-0-1-3']],
  ])('names the hosts of a batch from the HostName %s', async (pattern, names) => {
    await runInstances(client, {
      InstanceCount: 2,
      HostName: pattern,
      VirtualPrivateCloud: { VpcId: 'vpc-m0cnatxj', SubnetId: 'subnet-mv4sn55k' },
    });
    expect((await describeInstances(client)).InstanceSet.map((i) => i.HostName)).toEqual(names);
  });

  it('places a CDHPAID instance on one of the hosts given', async () => {
    const instance = await described({
      InstanceChargeType: 'CDHPAID',
      Placement: { Zone: 'ap-guangzhou-3', HostIds: ['host-aaaaaaaa', 'host-bbbbbbbb'] },
    });
    expect(['host-aaaaaaaa', 'host-bbbbbbbb']).toContain(instance.Placement.HostId);
  });

  it.each([
    ['STOPPED', 'POSTPAID_BY_HOUR', { StopChargingMode: 'KEEP_CHARGING', IsolatedSource: 'NOTISOLATED' }],
    ['SHUTDOWN', 'POSTPAID_BY_HOUR', { StopChargingMode: 'NOT_APPLICABLE', IsolatedSource: 'ARREAR' }],
    ['SHUTDOWN', 'PREPAID', { StopChargingMode: 'NOT_APPLICABLE', IsolatedSource: 'EXPIRE' }],
  ] as const)('shows a forced %s %s instance with %o', async (state, chargeType, expected) => {
    const [id = ''] = await runInstances(client, {
      InstanceChargeType: chargeType,
      ...(chargeType === 'PREPAID' ? { InstanceChargePrepaid: { Period: 1 } } : {}),
    });
    h.sim.state.forceState(id, { InstanceState: state });
    expect(await describeOne(client, id)).toMatchObject(expected);
  });

  it.each([
    ['a data disk without DiskSize', { DataDisks: [{ DiskType: 'CLOUD_SSD' }] }, 'MissingParameter'],
    [
      'an unknown RenewFlag',
      { InstanceChargeType: 'PREPAID', InstanceChargePrepaid: { Period: 1, RenewFlag: 'ALWAYS' } },
      'InvalidParameterValue',
    ],
    [
      'a ProjectId that is not an integer',
      { Placement: { Zone: 'ap-guangzhou-3', ProjectId: 'x' } },
      'InvalidParameterValue',
    ],
  ])('refuses %s', async (_what, params, code) => {
    expect(await codeOf(runInstances(client, params))).toBe(code);
  });
});
