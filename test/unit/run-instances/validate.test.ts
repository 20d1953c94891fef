import { describe, expect, it } from 'vitest';
import {
  CODES,
  type ProfileName,
  type TencentCode,
  type ValidationResult,
  type Violation,
  validateRunInstances,
} from '../../../lib/run-instances/index.ts';
import { validRequest, withoutKeys } from '../../helpers/requests.ts';

/** A fixed clock so ActionTimer cases do not depend on when the suite runs. */
const NOW = Date.parse('2025-06-01T12:00:00Z');
const minutesAfterNow = (minutes: number) =>
  new Date(NOW + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function validate(input: unknown, profile: ProfileName): ValidationResult {
  return validateRunInstances(input, { profile, now: NOW });
}

function errorsOf(result: ValidationResult): Violation[] {
  return result.ok ? [] : result.errors;
}

/** Pairs each row with a full title: vitest truncates long `$field` interpolations in test names. */
function titled<T>(rows: readonly T[], title: (row: T) => string): Array<[string, T]> {
  return rows.map((row) => [title(row), row]);
}

const VPC = { VpcId: 'vpc-m0cnatxj', SubnetId: 'subnet-mv4sn55k' } as const;
const ips = (count: number) => Array.from({ length: count }, (_, i) => `10.0.1.${i + 10}`);
const disks = (count: number, DiskType: string) =>
  Array.from({ length: count }, () => ({ DiskSize: 100, DiskType }));
const prepaid = { InstanceChargeType: 'PREPAID', InstanceChargePrepaid: { Period: 1 } } as const;

interface DefectCase {
  profile: ProfileName;
  defect: string;
  input: unknown;
  param: string;
  code: TencentCode;
}

/** One realistic request with one defect per row, and the violation Tencent would name for it. */
const DEFECTS: DefectCase[] = [
  // MissingParameter
  {
    profile: 'current',
    defect: 'Placement without Zone',
    input: { ...validRequest(), Placement: {} },
    param: 'Placement.Zone',
    code: CODES.missing,
  },
  {
    profile: 'seed-2017',
    defect: 'Placement without Zone',
    input: { ...validRequest(), Placement: {} },
    param: 'Placement.Zone',
    code: CODES.missing,
  },
  {
    profile: 'current',
    defect: 'PREPAID without InstanceChargePrepaid',
    input: { ...validRequest(), InstanceChargeType: 'PREPAID' },
    param: 'InstanceChargePrepaid',
    code: CODES.missing,
  },
  {
    profile: 'seed-2017',
    defect: 'PREPAID without InstanceChargePrepaid',
    input: { ...validRequest(), InstanceChargeType: 'PREPAID' },
    param: 'InstanceChargePrepaid',
    code: CODES.missing,
  },
  {
    profile: 'current',
    defect: 'InstanceChargePrepaid without Period',
    input: { ...validRequest(), InstanceChargeType: 'PREPAID', InstanceChargePrepaid: {} },
    param: 'InstanceChargePrepaid.Period',
    code: CODES.missing,
  },
  {
    profile: 'current',
    defect: 'no ImageId and no LaunchTemplate',
    input: withoutKeys(validRequest(), 'ImageId'),
    param: 'ImageId',
    code: CODES.missing,
  },
  {
    profile: 'seed-2017',
    defect: 'no ImageId',
    input: withoutKeys(validRequest(), 'ImageId'),
    param: 'ImageId',
    code: CODES.missing,
  },
  {
    profile: 'current',
    defect: 'no Placement and no LaunchTemplate',
    input: withoutKeys(validRequest(), 'Placement'),
    param: 'Placement',
    code: CODES.missing,
  },
  {
    profile: 'current',
    defect: 'CDHPAID without Placement.HostIds',
    input: { ...validRequest(), InstanceChargeType: 'CDHPAID', InstanceType: 'CDH_2C4G' },
    param: 'Placement.HostIds',
    code: CODES.missing,
  },
  {
    profile: 'current',
    defect: 'VirtualPrivateCloud without SubnetId',
    input: { ...validRequest(), VirtualPrivateCloud: { VpcId: 'vpc-m0cnatxj' } },
    param: 'VirtualPrivateCloud.SubnetId',
    code: CODES.missing,
  },
  {
    profile: 'current',
    defect: 'a LaunchTemplate without Placement and without Region',
    input: { LaunchTemplate: { LaunchTemplateId: 'lt-0a1b2c3d' } },
    param: 'Region',
    code: CODES.missing,
  },
  // InvalidParameter: the wrong JSON type
  {
    profile: 'current',
    defect: 'InstanceCount given as the string "2"',
    input: { ...validRequest(), InstanceCount: '2' },
    param: 'InstanceCount',
    code: CODES.invalidParameter,
  },
  {
    profile: 'seed-2017',
    defect: 'InstanceCount given as the string "2"',
    input: { ...validRequest(), InstanceCount: '2' },
    param: 'InstanceCount',
    code: CODES.invalidParameter,
  },
  {
    profile: 'current',
    defect: 'InstanceCount given as 1.5',
    input: { ...validRequest(), InstanceCount: 1.5 },
    param: 'InstanceCount',
    code: CODES.invalidParameter,
  },
  {
    profile: 'current',
    defect: 'DryRun given as the string "true"',
    input: { ...validRequest(), DryRun: 'true' },
    param: 'DryRun',
    code: CODES.invalidParameter,
  },
  {
    profile: 'current',
    defect: 'SecurityGroupIds given as a single string',
    input: { ...validRequest(), SecurityGroupIds: 'sg-p1ezv4wz' },
    param: 'SecurityGroupIds',
    code: CODES.invalidParameter,
  },
  {
    profile: 'current',
    defect: 'Region given as a number',
    input: { ...validRequest(), Region: 5 },
    param: 'Region',
    code: CODES.invalidParameter,
  },
  {
    profile: 'current',
    defect: 'a JSON array as the body',
    input: [validRequest()],
    param: '(body)',
    code: CODES.invalidParameter,
  },
  // InvalidParameterValue
  {
    profile: 'current',
    defect: 'a data disk of 105 GiB (not a multiple of 10)',
    input: { ...validRequest(), DataDisks: [{ DiskSize: 105, DiskType: 'CLOUD_PREMIUM' }] },
    param: 'DataDisks.0.DiskSize',
    code: CODES.invalidValue,
  },
  {
    profile: 'current',
    defect: 'an unknown Region',
    input: { ...validRequest(), Region: 'ap-atlantis' },
    param: 'Region',
    code: CODES.invalidValue,
  },
  {
    profile: 'seed-2017',
    defect: 'InstanceChargeType SPOTPAID (not in 2017)',
    input: { ...validRequest(), InstanceChargeType: 'SPOTPAID' },
    param: 'InstanceChargeType',
    code: CODES.invalidValue,
  },
  {
    profile: 'current',
    defect: 'a SystemDisk.DiskType that does not exist',
    input: { ...validRequest(), SystemDisk: { DiskType: 'CLOUD_FLOPPY', DiskSize: 50 } },
    param: 'SystemDisk.DiskType',
    code: CODES.invalidValue,
  },
  {
    profile: 'current',
    defect: 'a ClientToken with a non-ASCII character',
    input: { ...validRequest(), ClientToken: 'run-é-0001' },
    param: 'ClientToken',
    code: CODES.invalidValue,
  },
  {
    profile: 'current',
    defect: 'an empty SecurityGroupIds array',
    input: { ...validRequest(), SecurityGroupIds: [] },
    param: 'SecurityGroupIds',
    code: CODES.invalidValue,
  },
  // InvalidParameterValue.Range
  {
    profile: 'seed-2017',
    defect: 'InstanceCount 0',
    input: { ...validRequest(), InstanceCount: 0 },
    param: 'InstanceCount',
    code: CODES.range,
  },
  {
    profile: 'current',
    defect: 'InstanceCount 0',
    input: { ...validRequest(), InstanceCount: 0 },
    param: 'InstanceCount',
    code: CODES.range,
  },
  {
    profile: 'seed-2017',
    defect: 'InstanceCount 101',
    input: { ...validRequest(), InstanceCount: 101 },
    param: 'InstanceCount',
    code: CODES.range,
  },
  {
    profile: 'current',
    defect: 'InstanceCount 501',
    input: { ...validRequest(), InstanceCount: 501 },
    param: 'InstanceCount',
    code: CODES.range,
  },
  {
    profile: 'current',
    defect: 'InternetMaxBandwidthOut 2001 Mbps',
    input: { ...validRequest(), InternetAccessible: { InternetMaxBandwidthOut: 2001 } },
    param: 'InternetAccessible.InternetMaxBandwidthOut',
    code: CODES.range,
  },
  {
    profile: 'current',
    defect: 'an ActionTimer 4 minutes ahead',
    input: {
      ...validRequest(),
      ActionTimer: { TimerAction: 'TerminateInstances', ActionTime: minutesAfterNow(4) },
    },
    param: 'ActionTimer.ActionTime',
    code: CODES.range,
  },
  // InvalidParameterValue.LimitExceeded
  {
    profile: 'seed-2017',
    defect: 'two data disks',
    input: { ...validRequest(), DataDisks: disks(2, 'CLOUD_PREMIUM') },
    param: 'DataDisks',
    code: CODES.limitExceeded,
  },
  {
    profile: 'seed-2017',
    defect: 'two security groups',
    input: { ...validRequest(), SecurityGroupIds: ['sg-p1ezv4wz', 'sg-5v9qe2k1'] },
    param: 'SecurityGroupIds',
    code: CODES.limitExceeded,
  },
  {
    profile: 'current',
    defect: '22 data disks',
    input: { ...validRequest(), DataDisks: [...disks(1, 'LOCAL_BASIC'), ...disks(21, 'CLOUD_PREMIUM')] },
    param: 'DataDisks',
    code: CODES.limitExceeded,
  },
  {
    profile: 'current',
    defect: '21 cloud data disks',
    input: { ...validRequest(), DataDisks: disks(21, 'CLOUD_PREMIUM') },
    param: 'DataDisks',
    code: CODES.limitExceeded,
  },
  {
    profile: 'current',
    defect: 'two local data disks',
    input: {
      ...validRequest(),
      DataDisks: [
        { DiskSize: 100, DiskType: 'LOCAL_BASIC' },
        { DiskSize: 100, DiskType: 'LOCAL_SSD' },
      ],
    },
    param: 'DataDisks',
    code: CODES.limitExceeded,
  },
  {
    profile: 'current',
    defect: '21 fixed private IPs',
    input: {
      ...validRequest(),
      InstanceCount: 21,
      VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ips(21) },
    },
    param: 'VirtualPrivateCloud.PrivateIpAddresses',
    code: CODES.limitExceeded,
  },
  {
    profile: 'current',
    defect: 'two DisasterRecoverGroupIds',
    input: { ...validRequest(), DisasterRecoverGroupIds: ['ps-3kd8s9an', 'ps-7fh2m4pq'] },
    param: 'DisasterRecoverGroupIds',
    code: CODES.limitExceeded,
  },
  // InvalidParameterValue.Duplicate and .DuplicateTags
  {
    profile: 'current',
    defect: 'the same security group twice',
    input: { ...validRequest(), SecurityGroupIds: ['sg-p1ezv4wz', 'sg-p1ezv4wz'] },
    param: 'SecurityGroupIds',
    code: CODES.duplicate,
  },
  {
    profile: 'current',
    defect: 'the same key pair twice',
    input: { ...validRequest(), LoginSettings: { KeyIds: ['skey-b4vakk62', 'skey-b4vakk62'] } },
    param: 'LoginSettings.KeyIds',
    code: CODES.duplicate,
  },
  {
    profile: 'current',
    defect: 'the same private IP twice',
    input: {
      ...validRequest(),
      InstanceCount: 2,
      VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ['10.0.1.10', '10.0.1.10'] },
    },
    param: 'VirtualPrivateCloud.PrivateIpAddresses',
    code: CODES.duplicate,
  },
  {
    profile: 'current',
    defect: 'the same tag key twice',
    input: {
      ...validRequest(),
      TagSpecification: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'team', Value: 'web' },
            { Key: 'team', Value: 'api' },
          ],
        },
      ],
    },
    param: 'TagSpecification.0.Tags',
    code: CODES.duplicateTags,
  },
  // InvalidParameterValue.TooLarge
  {
    profile: 'current',
    defect: 'UserData of 16388 base64 characters',
    input: { ...validRequest(), UserData: 'QUJD'.repeat(4097) },
    param: 'UserData',
    code: CODES.tooLarge,
  },
  // InvalidParameterCombination
  {
    profile: 'current',
    defect: 'PublicIpAssigned without bandwidth',
    input: { ...validRequest(), InternetAccessible: { PublicIpAssigned: true } },
    param: 'InternetAccessible.PublicIpAssigned',
    code: CODES.combination,
  },
  {
    profile: 'seed-2017',
    defect: 'PublicIpAssigned with 0 Mbps',
    input: { ...validRequest(), InternetAccessible: { PublicIpAssigned: true, InternetMaxBandwidthOut: 0 } },
    param: 'InternetAccessible.PublicIpAssigned',
    code: CODES.combination,
  },
  {
    profile: 'current',
    defect: 'Password together with KeyIds',
    input: { ...validRequest(), LoginSettings: { Password: 'Web@Server2024', KeyIds: ['skey-b4vakk62'] } },
    param: 'LoginSettings.KeyIds',
    code: CODES.combination,
  },
  {
    profile: 'seed-2017',
    defect: 'Password together with KeyIds',
    input: { ...validRequest(), LoginSettings: { Password: 'Web@Server2024', KeyIds: ['skey-b4vakk62'] } },
    param: 'LoginSettings.KeyIds',
    code: CODES.combination,
  },
  {
    profile: 'seed-2017',
    defect: 'a fixed private IP with InstanceCount 2',
    input: {
      ...validRequest(),
      InstanceCount: 2,
      VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ips(1) },
    },
    param: 'VirtualPrivateCloud.PrivateIpAddresses',
    code: CODES.combination,
  },
  {
    profile: 'current',
    defect: 'two private IPs for InstanceCount 3',
    input: {
      ...validRequest(),
      InstanceCount: 3,
      VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ips(2) },
    },
    param: 'VirtualPrivateCloud.PrivateIpAddresses',
    code: CODES.combination,
  },
  {
    profile: 'current',
    defect: 'DeleteWithInstance on a PREPAID instance',
    input: {
      ...validRequest(prepaid),
      DataDisks: [{ DiskSize: 100, DiskType: 'CLOUD_PREMIUM', DeleteWithInstance: true }],
    },
    param: 'DataDisks.0.DeleteWithInstance',
    code: CODES.combination,
  },
  // InvalidParameter.ParameterConflict
  {
    profile: 'current',
    defect: 'KeepImageLogin TRUE with KeyIds',
    input: { ...validRequest(), LoginSettings: { KeyIds: ['skey-b4vakk62'], KeepImageLogin: 'TRUE' } },
    param: 'LoginSettings.KeepImageLogin',
    code: CODES.conflict,
  },
  {
    profile: 'seed-2017',
    defect: 'KeepImageLogin true with a Password',
    input: { ...validRequest(), LoginSettings: { Password: 'Web@Server2024', KeepImageLogin: 'true' } },
    param: 'LoginSettings.KeepImageLogin',
    code: CODES.conflict,
  },
  // InvalidParameter.LackCoreCountOrThreadPerCore
  {
    profile: 'current',
    defect: 'CpuTopology with CoreCount only',
    input: { ...validRequest(), CpuTopology: { CoreCount: 2 } },
    param: 'CpuTopology',
    code: CODES.lackCpuTopology,
  },
  {
    profile: 'current',
    defect: 'CpuTopology with ThreadPerCore only',
    input: { ...validRequest(), CpuTopology: { ThreadPerCore: 1 } },
    param: 'CpuTopology',
    code: CODES.lackCpuTopology,
  },
  // InvalidParameterValue.ThreadPerCoreValue / CoreCountValue
  {
    profile: 'current',
    defect: 'ThreadPerCore 3',
    input: { ...validRequest(), CpuTopology: { CoreCount: 2, ThreadPerCore: 3 } },
    param: 'CpuTopology.ThreadPerCore',
    code: CODES.threadPerCore,
  },
  {
    profile: 'current',
    defect: 'CoreCount 0',
    input: { ...validRequest(), CpuTopology: { CoreCount: 0, ThreadPerCore: 1 } },
    param: 'CpuTopology.CoreCount',
    code: CODES.coreCount,
  },
  // UnknownParameter
  {
    profile: 'current',
    defect: 'the typo InstanceCoutn',
    input: { ...validRequest(), InstanceCoutn: 2 },
    param: 'InstanceCoutn',
    code: CODES.unknownParameter,
  },
  {
    profile: 'seed-2017',
    defect: 'HostName (added 2018-04)',
    input: { ...validRequest(), HostName: 'web-1' },
    param: 'HostName',
    code: CODES.unknownParameter,
  },
  {
    profile: 'seed-2017',
    defect: 'a DataDisk SnapshotId (added after 2017)',
    input: {
      ...validRequest(),
      DataDisks: [{ DiskSize: 100, DiskType: 'CLOUD_PREMIUM', SnapshotId: 'snap-4k2j9d8s' }],
    },
    param: 'DataDisks.0.SnapshotId',
    code: CODES.unknownParameter,
  },
  {
    profile: 'current',
    defect: 'the nested typo Placement.Zonee',
    input: { ...validRequest(), Placement: { Zone: 'ap-guangzhou-3', Zonee: 'ap-guangzhou-4' } },
    param: 'Placement.Zonee',
    code: CODES.unknownParameter,
  },
  // InvalidAction and NoSuchVersion
  {
    profile: 'current',
    defect: 'Action RunInstance',
    input: { ...validRequest(), Action: 'RunInstance' },
    param: 'Action',
    code: CODES.invalidAction,
  },
  {
    profile: 'current',
    defect: 'Version 2022-03-12',
    input: { ...validRequest(), Version: '2022-03-12' },
    param: 'Version',
    code: CODES.noSuchVersion,
  },
  // Malformed values with their own codes
  {
    profile: 'current',
    defect: 'InstanceType S5-MEDIUM4',
    input: { ...validRequest(), InstanceType: 'S5-MEDIUM4' },
    param: 'InstanceType',
    code: CODES.instanceTypeMalformed,
  },
  {
    profile: 'seed-2017',
    defect: 'InstanceType "small"',
    input: { ...validRequest(), InstanceType: 'small' },
    param: 'InstanceType',
    code: CODES.instanceTypeMalformed,
  },
  {
    profile: 'current',
    defect: 'CDHPAID with a non-CDH InstanceType',
    input: {
      ...validRequest({ Placement: { Zone: 'ap-guangzhou-3', HostIds: ['host-ke8s2d9w'] } }),
      InstanceChargeType: 'CDHPAID',
    },
    param: 'InstanceType',
    code: CODES.instanceTypeMalformed,
  },
  {
    profile: 'current',
    defect: 'ImageId img-123 (too short)',
    input: { ...validRequest(), ImageId: 'img-123' },
    param: 'ImageId',
    code: CODES.imageIdMalformed,
  },
  {
    profile: 'seed-2017',
    defect: 'ImageId in upper case',
    input: { ...validRequest(), ImageId: 'img-PMQG1CW7' },
    param: 'ImageId',
    code: CODES.imageIdMalformed,
  },
  {
    profile: 'current',
    defect: 'Placement.HostIds host-1122',
    input: { ...validRequest(), Placement: { Zone: 'ap-guangzhou-3', HostIds: ['host-1122'] } },
    param: 'Placement.HostIds.0',
    code: CODES.hostIdMalformed,
  },
  {
    profile: 'current',
    defect: 'KeyIds skey-1122',
    input: { ...validRequest(), LoginSettings: { KeyIds: ['skey-1122'] } },
    param: 'LoginSettings.KeyIds.0',
    code: CODES.keyPairIdMalformed,
  },
  {
    profile: 'seed-2017',
    defect: "InstanceName 'é' x 31 (62 bytes)",
    input: { ...validRequest(), InstanceName: 'é'.repeat(31) },
    param: 'InstanceName',
    code: CODES.instanceNameTooLong,
  },
  {
    profile: 'current',
    defect: 'InstanceName of 129 characters',
    input: { ...validRequest(), InstanceName: 'a'.repeat(129) },
    param: 'InstanceName',
    code: CODES.instanceNameTooLong,
  },
  {
    profile: 'current',
    defect: 'a 7-character Password',
    input: { ...validRequest(), LoginSettings: { Password: 'Web@123' } },
    param: 'LoginSettings.Password',
    code: CODES.password,
  },
  {
    profile: 'current',
    defect: 'a Password of lower-case letters only',
    input: { ...validRequest(), LoginSettings: { Password: 'webserverpassword' } },
    param: 'LoginSettings.Password',
    code: CODES.password,
  },
  {
    profile: 'current',
    defect: 'a Password of 31 characters',
    input: { ...validRequest(), LoginSettings: { Password: `Web@${'x'.repeat(27)}` } },
    param: 'LoginSettings.Password',
    code: CODES.password,
  },
  {
    profile: 'seed-2017',
    defect: 'a Password with a character outside the allowed set',
    input: { ...validRequest(), LoginSettings: { Password: 'Web Server 2024' } },
    param: 'LoginSettings.Password',
    code: CODES.password,
  },
  {
    profile: 'current',
    defect: 'a ClientToken of 65 characters',
    input: { ...validRequest(), ClientToken: 't'.repeat(65) },
    param: 'ClientToken',
    code: CODES.clientTokenTooLong,
  },
  {
    profile: 'current',
    defect: 'Region ap-shanghai for zone ap-guangzhou-3',
    input: { ...validRequest(), Region: 'ap-shanghai' },
    param: 'Region',
    code: CODES.zoneMismatchRegion,
  },
  {
    profile: 'seed-2017',
    defect: 'Region ap-shanghai for zone ap-guangzhou-3',
    input: { ...validRequest(), Region: 'ap-shanghai' },
    param: 'Region',
    code: CODES.zoneMismatchRegion,
  },
  {
    profile: 'current',
    defect: 'a zone in an unknown region',
    input: { ...validRequest(), Placement: { Zone: 'ap-atlantis-1' } },
    param: 'Placement.Zone',
    code: CODES.zoneMismatchRegion,
  },
  {
    profile: 'current',
    defect: 'a zone without a zone number',
    input: { ...validRequest(), Placement: { Zone: 'ap-guangzhou' } },
    param: 'Placement.Zone',
    code: CODES.zoneMismatchRegion,
  },
  {
    profile: 'current',
    defect: 'Period 13',
    input: { ...validRequest(), InstanceChargeType: 'PREPAID', InstanceChargePrepaid: { Period: 13 } },
    param: 'InstanceChargePrepaid.Period',
    code: CODES.period,
  },
  {
    profile: 'seed-2017',
    defect: 'Period 13',
    input: { ...validRequest(), InstanceChargeType: 'PREPAID', InstanceChargePrepaid: { Period: 13 } },
    param: 'InstanceChargePrepaid.Period',
    code: CODES.period,
  },
  {
    profile: 'seed-2017',
    defect: 'Period 48 (added 2020-03)',
    input: { ...validRequest(), InstanceChargeType: 'PREPAID', InstanceChargePrepaid: { Period: 48 } },
    param: 'InstanceChargePrepaid.Period',
    code: CODES.period,
  },
  {
    profile: 'current',
    defect: 'VpcId vpc-1',
    input: { ...validRequest(), VirtualPrivateCloud: { ...VPC, VpcId: 'vpc-1' } },
    param: 'VirtualPrivateCloud.VpcId',
    code: CODES.vpcIdMalformed,
  },
  {
    profile: 'current',
    defect: 'SubnetId subnet-MV4SN55K',
    input: { ...validRequest(), VirtualPrivateCloud: { ...VPC, SubnetId: 'subnet-MV4SN55K' } },
    param: 'VirtualPrivateCloud.SubnetId',
    code: CODES.subnetIdMalformed,
  },
  {
    profile: 'current',
    defect: 'a private IP 10.0.1.256',
    input: { ...validRequest(), VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ['10.0.1.256'] } },
    param: 'VirtualPrivateCloud.PrivateIpAddresses.0',
    code: CODES.ipMalformed,
  },
  {
    profile: 'current',
    defect: 'a data disk SnapshotId snap-1',
    input: {
      ...validRequest(),
      DataDisks: [{ DiskSize: 100, DiskType: 'CLOUD_PREMIUM', SnapshotId: 'snap-1' }],
    },
    param: 'DataDisks.0.SnapshotId',
    code: CODES.snapshotIdMalformed,
  },
  {
    profile: 'current',
    defect: 'BandwidthPackageId bwp_12345678',
    input: { ...validRequest(), InternetAccessible: { BandwidthPackageId: 'bwp_12345678' } },
    param: 'InternetAccessible.BandwidthPackageId',
    code: CODES.bandwidthPackageIdMalformed,
  },
  {
    profile: 'current',
    defect: 'LaunchTemplateId lt-1',
    input: { ...validRequest(), LaunchTemplate: { LaunchTemplateId: 'lt-1' } },
    param: 'LaunchTemplate.LaunchTemplateId',
    code: CODES.launchTemplateIdMalformed,
  },
  {
    profile: 'current',
    defect: 'a CamRoleName with a space and "!"',
    input: { ...validRequest(), CamRoleName: 'web role!' },
    param: 'CamRoleName',
    code: CODES.camRoleNameMalformed,
  },
  {
    profile: 'current',
    defect: 'a HostName starting with "-"',
    input: { ...validRequest(), HostName: '-web' },
    param: 'HostName',
    code: CODES.illegalHostName,
  },
  {
    profile: 'current',
    defect: 'a HostName with ".."',
    input: { ...validRequest(), HostName: 'web..example' },
    param: 'HostName',
    code: CODES.illegalHostName,
  },
  {
    profile: 'current',
    defect: 'a one-character HostName',
    input: { ...validRequest(), HostName: 'w' },
    param: 'HostName',
    code: CODES.illegalHostName,
  },
  {
    profile: 'current',
    defect: 'a HostName of 61 characters',
    input: { ...validRequest(), HostName: 'w'.repeat(61) },
    param: 'HostName',
    code: CODES.illegalHostName,
  },
  {
    profile: 'current',
    defect: 'a HostName with an underscore',
    input: { ...validRequest(), HostName: 'server_{R:3}' },
    param: 'HostName',
    code: CODES.illegalHostName,
  },
  {
    profile: 'current',
    defect: 'UserData that is not base64',
    input: { ...validRequest(), UserData: '#!/bin/sh\necho hi' },
    param: 'UserData',
    code: CODES.userDataFormat,
  },
  {
    profile: 'current',
    defect: 'an ActionTime without the T and Z',
    input: {
      ...validRequest(),
      ActionTimer: { TimerAction: 'TerminateInstances', ActionTime: '2030-01-01 00:00:00' },
    },
    param: 'ActionTimer.ActionTime',
    code: CODES.timeFormat,
  },
  {
    profile: 'current',
    defect: 'MinCount 3 with InstanceCount 2',
    input: { ...validRequest(), InstanceCount: 2, MinCount: 3 },
    param: 'MinCount',
    code: CODES.minCount,
  },
  {
    profile: 'current',
    defect: 'a 50 GiB CLOUD_SSD data disk',
    input: { ...validRequest(), DataDisks: [{ DiskSize: 50, DiskType: 'CLOUD_SSD' }] },
    param: 'DataDisks.0.DiskSize',
    code: CODES.cloudSsdTooSmall,
  },
];

describe('validateRunInstances error-code matrix', () => {
  it.each(
    titled(DEFECTS, (row) => `${row.profile}: ${row.defect} is reported as ${row.code} at ${row.param}`),
  )('%s', (_title, { profile, input, param, code }) => {
    expect(errorsOf(validate(input, profile))).toContainEqual(expect.objectContaining({ param, code }));
  });

  it('reaches every code in CODES from at least one row', () => {
    const reached = new Set(DEFECTS.map((row) => row.code));
    expect(Object.values(CODES).filter((code) => !reached.has(code))).toEqual([]);
  });

  it('reaches every code under the current profile', () => {
    const reached = new Set(DEFECTS.filter((row) => row.profile === 'current').map((row) => row.code));
    expect(Object.values(CODES).filter((code) => !reached.has(code))).toEqual([]);
  });
});

interface ValidCase {
  profile: ProfileName;
  variant: string;
  input: unknown;
}

/** Boundary values and profile differences that must pass. */
const VALID: ValidCase[] = [
  { profile: 'current', variant: 'the helper request', input: validRequest() },
  { profile: 'seed-2017', variant: 'the helper request', input: validRequest() },
  { profile: 'seed-2017', variant: 'InstanceCount 100', input: validRequest({ InstanceCount: 100 }) },
  { profile: 'current', variant: 'InstanceCount 101', input: validRequest({ InstanceCount: 101 }) },
  { profile: 'current', variant: 'InstanceCount 500', input: validRequest({ InstanceCount: 500 }) },
  {
    profile: 'seed-2017',
    variant: "InstanceName 'é' x 30 (60 bytes)",
    input: validRequest({ InstanceName: 'é'.repeat(30) }),
  },
  {
    profile: 'current',
    variant: 'InstanceName of 128 characters',
    input: validRequest({ InstanceName: 'a'.repeat(128) }),
  },
  {
    profile: 'current',
    variant: "InstanceName '中' x 128 (384 bytes)",
    input: validRequest({ InstanceName: '中'.repeat(128) }),
  },
  {
    profile: 'current',
    variant: 'a ClientToken of 64 characters',
    input: validRequest({ ClientToken: 't'.repeat(64) }),
  },
  {
    profile: 'current',
    variant: 'Period 48',
    input: validRequest({ InstanceChargeType: 'PREPAID', InstanceChargePrepaid: { Period: 48 } }),
  },
  {
    profile: 'seed-2017',
    variant: 'Period 36',
    input: validRequest({ InstanceChargeType: 'PREPAID', InstanceChargePrepaid: { Period: 36 } }),
  },
  { profile: 'current', variant: 'HostName web-1', input: validRequest({ HostName: 'web-1' }) },
  {
    profile: 'current',
    variant: 'HostName with {IP} and {R:x} patterns',
    input: validRequest({ HostName: 'node-{IP}-{R:1}' }),
  },
  { profile: 'current', variant: 'SPOTPAID', input: validRequest({ InstanceChargeType: 'SPOTPAID' }) },
  {
    profile: 'current',
    variant: 'UserData of 16384 characters',
    input: validRequest({ UserData: 'QUJD'.repeat(4096) }),
  },
  {
    profile: 'current',
    variant: 'the DEFAULT VPC',
    input: validRequest({ VirtualPrivateCloud: { VpcId: 'DEFAULT', SubnetId: 'DEFAULT' } }),
  },
  {
    profile: 'current',
    variant: 'a CamRoleName using +=,.@_-',
    input: validRequest({ CamRoleName: 'cvm+role=a,b.c@d_e-1' }),
  },
  {
    profile: 'current',
    variant: 'two security groups',
    input: validRequest({ SecurityGroupIds: ['sg-p1ezv4wz', 'sg-5v9qe2k1'] }),
  },
  {
    profile: 'seed-2017',
    variant: 'a 19-character seed Password',
    input: validRequest({ LoginSettings: { Password: 'Qcloud@TestApi123++' } }),
  },
  {
    profile: 'current',
    variant: 'a 30-character Password',
    input: validRequest({ LoginSettings: { Password: `Web@${'x'.repeat(26)}` } }),
  },
  {
    profile: 'current',
    variant: 'MinCount below InstanceCount',
    input: validRequest({ InstanceCount: 5, MinCount: 2 }),
  },
];

describe('validateRunInstances accepts boundary values', () => {
  it.each(titled(VALID, (row) => `${row.profile}: accepts ${row.variant}`))(
    '%s',
    (_title, { profile, input }) => {
      expect(validate(input, profile)).toMatchObject({ ok: true });
    },
  );
});

describe('validateRunInstances results', () => {
  it('returns ok with the region derived from the zone and the request', () => {
    expect(validate(validRequest(), 'current')).toEqual({
      ok: true,
      region: 'ap-guangzhou',
      request: validRequest(),
    });
  });

  it.each([
    ['ap-guangzhou-2', 'ap-guangzhou'],
    ['ap-shanghai-fsi-1', 'ap-shanghai-fsi'],
    ['na-siliconvalley-2', 'na-siliconvalley'],
  ])('derives the region of zone %s as %s', (zone, region) => {
    expect(validate(validRequest({ Placement: { Zone: zone } }), 'current')).toMatchObject({
      ok: true,
      region,
    });
  });

  it('strips Action, Version and Region from the returned request', () => {
    const input = {
      ...validRequest(),
      Action: 'RunInstances',
      Version: '2017-03-12',
      Region: 'ap-guangzhou',
    };
    expect(validate(input, 'current')).toEqual({ ok: true, region: 'ap-guangzhou', request: validRequest() });
  });

  it('takes the region from Region when only a LaunchTemplate is given', () => {
    const input = { LaunchTemplate: { LaunchTemplateId: 'lt-0a1b2c3d' }, Region: 'ap-singapore' };
    expect(validate(input, 'current')).toEqual({
      ok: true,
      region: 'ap-singapore',
      request: { LaunchTemplate: { LaunchTemplateId: 'lt-0a1b2c3d' } },
    });
  });

  it('reports every violation: three independent defects give three violations', () => {
    const input = { ...validRequest(), InstanceCount: 0, ImageId: 'img-1', ClientToken: 't'.repeat(65) };
    const errors = errorsOf(validate(input, 'current'));
    expect(errors).toHaveLength(3);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ param: 'InstanceCount', code: CODES.range }),
        expect.objectContaining({ param: 'ImageId', code: CODES.imageIdMalformed }),
        expect.objectContaining({ param: 'ClientToken', code: CODES.clientTokenTooLong }),
      ]),
    );
  });

  it('reports schema and cross-field violations from the same request', () => {
    const input = {
      ...validRequest(),
      InstanceType: 'S5-MEDIUM4',
      InternetAccessible: { PublicIpAssigned: true },
      Placement: { Zone: 'ap-guangzhou-3', Zonee: 'x' },
    };
    const errors = errorsOf(validate(input, 'seed-2017'));
    expect(errors.map((e) => e.code).sort()).toEqual(
      [CODES.instanceTypeMalformed, CODES.combination, CODES.unknownParameter].sort(),
    );
  });

  it('gives every violation a non-empty message', () => {
    const input = { ...validRequest(), InstanceCount: 0, ImageId: 'img-1', Bogus: true };
    const errors = errorsOf(validate(input, 'current'));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.message.length > 0)).toBe(true);
  });

  it.each([null, 'RunInstances', 42, true])(
    'rejects the non-object body %j as (body) InvalidParameter',
    (body) => {
      expect(validate(body, 'current')).toEqual({
        ok: false,
        errors: [expect.objectContaining({ param: '(body)', code: CODES.invalidParameter })],
      });
    },
  );

  it('suggests InstanceCount for the unknown parameter InstanceCoutn', () => {
    const errors = errorsOf(validate({ ...validRequest(), InstanceCoutn: 2 }, 'current'));
    expect(errors).toContainEqual(
      expect.objectContaining({ param: 'InstanceCoutn', message: expect.stringContaining('InstanceCount') }),
    );
  });

  it('suggests Placement.Zone for the unknown nested parameter Placement.Zonee', () => {
    const input = { ...validRequest(), Placement: { Zone: 'ap-guangzhou-3', Zonee: 'ap-guangzhou-4' } };
    expect(errorsOf(validate(input, 'current'))).toContainEqual(
      expect.objectContaining({
        param: 'Placement.Zonee',
        message: expect.stringContaining('Placement.Zone?'),
      }),
    );
  });

  it('names the date a later parameter was added when the seed profile rejects it', () => {
    expect(errorsOf(validate({ ...validRequest(), HostName: 'web-1' }, 'seed-2017'))).toContainEqual(
      expect.objectContaining({ param: 'HostName', message: expect.stringContaining('2018-04') }),
    );
  });

  it('rejects an ActionTimer 4 minutes after the now option', () => {
    const input = validRequest({
      ActionTimer: { TimerAction: 'TerminateInstances', ActionTime: minutesAfterNow(4) },
    });
    expect(errorsOf(validate(input, 'current'))).toContainEqual(
      expect.objectContaining({ param: 'ActionTimer.ActionTime', code: CODES.range }),
    );
  });

  it('accepts an ActionTimer 10 minutes after the now option', () => {
    const input = validRequest({
      ActionTimer: { TimerAction: 'TerminateInstances', ActionTime: minutesAfterNow(10) },
    });
    expect(validate(input, 'current')).toMatchObject({ ok: true });
  });

  it('measures the ActionTimer lead from the now option, not the wall clock', () => {
    const input = validRequest({
      ActionTimer: { TimerAction: 'TerminateInstances', ActionTime: minutesAfterNow(10) },
    });
    const later = NOW + 6 * 60_000;
    expect(validateRunInstances(input, { profile: 'current', now: later })).toMatchObject({ ok: false });
  });

  it('does not mutate its input', () => {
    const input = { ...validRequest(), Action: 'RunInstances', Region: 'ap-guangzhou' };
    const before = structuredClone(input);
    validate(input, 'current');
    expect(input).toEqual(before);
  });
});

interface RuleCase {
  rule: string;
  profile: ProfileName;
  passing: unknown;
  failing: unknown;
  param: string;
  code: TencentCode;
}

/** Each cross-field rule of rules.ts with one request it accepts and one it rejects. */
const RULES: RuleCase[] = [
  {
    rule: 'templateOrPlacementAndImage (ImageId)',
    profile: 'current',
    passing: { LaunchTemplate: { LaunchTemplateId: 'lt-0a1b2c3d' }, Region: 'ap-guangzhou' },
    failing: withoutKeys(validRequest(), 'ImageId'),
    param: 'ImageId',
    code: CODES.missing,
  },
  {
    rule: 'templateOrPlacementAndImage (Placement)',
    profile: 'current',
    passing: {
      ...withoutKeys(validRequest(), 'Placement'),
      LaunchTemplate: { LaunchTemplateId: 'lt-0a1b2c3d' },
      Region: 'ap-guangzhou',
    },
    failing: withoutKeys(validRequest(), 'Placement'),
    param: 'Placement',
    code: CODES.missing,
  },
  {
    rule: 'prepaidNeedsChargePrepaid',
    profile: 'current',
    passing: validRequest({
      InstanceChargeType: 'PREPAID',
      InstanceChargePrepaid: { Period: 1, RenewFlag: 'NOTIFY_AND_AUTO_RENEW' },
    }),
    failing: validRequest({ InstanceChargeType: 'PREPAID' }),
    param: 'InstanceChargePrepaid',
    code: CODES.missing,
  },
  {
    rule: 'cdhNeedsHosts (HostIds)',
    profile: 'current',
    passing: validRequest({
      InstanceChargeType: 'CDHPAID',
      InstanceType: 'CDH_2C4G',
      Placement: { Zone: 'ap-guangzhou-3', HostIds: ['host-ke8s2d9w'] },
    }),
    failing: validRequest({ InstanceChargeType: 'CDHPAID', InstanceType: 'CDH_2C4G' }),
    param: 'Placement.HostIds',
    code: CODES.missing,
  },
  {
    rule: 'cdhNeedsHosts (InstanceType)',
    profile: 'current',
    passing: validRequest({
      InstanceChargeType: 'CDHPAID',
      InstanceType: 'CDH_1C1G',
      Placement: { Zone: 'ap-guangzhou-3', HostIds: ['host-ke8s2d9w'] },
    }),
    failing: validRequest({
      InstanceChargeType: 'CDHPAID',
      InstanceType: 'S5.MEDIUM4',
      Placement: { Zone: 'ap-guangzhou-3', HostIds: ['host-ke8s2d9w'] },
    }),
    param: 'InstanceType',
    code: CODES.instanceTypeMalformed,
  },
  {
    rule: 'fixedPrivateIps (2017: forces a single instance)',
    profile: 'seed-2017',
    passing: validRequest({ VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ips(1) } }),
    failing: validRequest({ InstanceCount: 2, VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ips(1) } }),
    param: 'VirtualPrivateCloud.PrivateIpAddresses',
    code: CODES.combination,
  },
  {
    rule: 'fixedPrivateIps (current: one per instance)',
    profile: 'current',
    passing: validRequest({ InstanceCount: 3, VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ips(3) } }),
    failing: validRequest({ InstanceCount: 3, VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ips(2) } }),
    param: 'VirtualPrivateCloud.PrivateIpAddresses',
    code: CODES.combination,
  },
  {
    rule: 'fixedPrivateIps (current: default InstanceCount 1)',
    profile: 'current',
    passing: validRequest({ VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ips(1) } }),
    failing: validRequest({ VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ips(2) } }),
    param: 'VirtualPrivateCloud.PrivateIpAddresses',
    code: CODES.combination,
  },
  {
    rule: 'fixedPrivateIps (duplicates)',
    profile: 'current',
    passing: validRequest({
      InstanceCount: 2,
      VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ['10.0.1.10', '10.0.1.11'] },
    }),
    failing: validRequest({
      InstanceCount: 2,
      VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ['10.0.1.10', '10.0.1.10'] },
    }),
    param: 'VirtualPrivateCloud.PrivateIpAddresses',
    code: CODES.duplicate,
  },
  {
    rule: 'loginExclusive (Password and KeyIds)',
    profile: 'current',
    passing: validRequest({ LoginSettings: { Password: 'Web@Server2024' } }),
    failing: validRequest({ LoginSettings: { Password: 'Web@Server2024', KeyIds: ['skey-b4vakk62'] } }),
    param: 'LoginSettings.KeyIds',
    code: CODES.combination,
  },
  {
    rule: 'loginExclusive (KeepImageLogin)',
    profile: 'current',
    passing: validRequest({ LoginSettings: { KeyIds: ['skey-b4vakk62'], KeepImageLogin: 'FALSE' } }),
    failing: validRequest({ LoginSettings: { KeyIds: ['skey-b4vakk62'], KeepImageLogin: 'TRUE' } }),
    param: 'LoginSettings.KeepImageLogin',
    code: CODES.conflict,
  },
  {
    rule: 'publicIpNeedsBandwidth',
    profile: 'current',
    passing: validRequest({ InternetAccessible: { PublicIpAssigned: true, InternetMaxBandwidthOut: 10 } }),
    failing: validRequest({ InternetAccessible: { PublicIpAssigned: true, InternetMaxBandwidthOut: 0 } }),
    param: 'InternetAccessible.PublicIpAssigned',
    code: CODES.combination,
  },
  {
    rule: 'dataDisks (local count)',
    profile: 'current',
    passing: validRequest({ DataDisks: [...disks(1, 'LOCAL_SSD'), ...disks(1, 'CLOUD_PREMIUM')] }),
    failing: validRequest({ DataDisks: [...disks(1, 'LOCAL_SSD'), ...disks(1, 'LOCAL_BASIC')] }),
    param: 'DataDisks',
    code: CODES.limitExceeded,
  },
  {
    rule: 'dataDisks (cloud count)',
    profile: 'current',
    passing: validRequest({ DataDisks: [...disks(1, 'LOCAL_BASIC'), ...disks(20, 'CLOUD_PREMIUM')] }),
    failing: validRequest({ DataDisks: disks(21, 'CLOUD_PREMIUM') }),
    param: 'DataDisks',
    code: CODES.limitExceeded,
  },
  {
    rule: 'dataDisks (multiple of 10 GiB)',
    profile: 'seed-2017',
    passing: validRequest({ DataDisks: [{ DiskSize: 110, DiskType: 'CLOUD_BASIC' }] }),
    failing: validRequest({ DataDisks: [{ DiskSize: 115, DiskType: 'CLOUD_BASIC' }] }),
    param: 'DataDisks.0.DiskSize',
    code: CODES.invalidValue,
  },
  {
    rule: 'dataDisks (CLOUD_SSD at least 100 GiB)',
    profile: 'current',
    passing: validRequest({ DataDisks: [{ DiskSize: 100, DiskType: 'CLOUD_SSD' }] }),
    failing: validRequest({ DataDisks: [{ DiskSize: 90, DiskType: 'CLOUD_SSD' }] }),
    param: 'DataDisks.0.DiskSize',
    code: CODES.cloudSsdTooSmall,
  },
  {
    rule: 'dataDisks (DeleteWithInstance only when postpaid)',
    profile: 'current',
    passing: validRequest({
      InstanceChargeType: 'POSTPAID_BY_HOUR',
      DataDisks: [{ DiskSize: 100, DiskType: 'CLOUD_PREMIUM', DeleteWithInstance: true }],
    }),
    failing: validRequest({
      ...prepaid,
      DataDisks: [{ DiskSize: 100, DiskType: 'CLOUD_PREMIUM', DeleteWithInstance: true }],
    }),
    param: 'DataDisks.0.DeleteWithInstance',
    code: CODES.combination,
  },
  {
    rule: 'minCountWithinCount',
    profile: 'current',
    passing: validRequest({ InstanceCount: 2, MinCount: 2 }),
    failing: validRequest({ InstanceCount: 2, MinCount: 3 }),
    param: 'MinCount',
    code: CODES.minCount,
  },
  {
    rule: 'minCountWithinCount (default InstanceCount 1)',
    profile: 'current',
    passing: validRequest({ MinCount: 1 }),
    failing: validRequest({ MinCount: 2 }),
    param: 'MinCount',
    code: CODES.minCount,
  },
  {
    rule: 'cpuTopologyBoth',
    profile: 'current',
    passing: validRequest({ CpuTopology: { CoreCount: 4, ThreadPerCore: 2 } }),
    failing: validRequest({ CpuTopology: { CoreCount: 4 } }),
    param: 'CpuTopology',
    code: CODES.lackCpuTopology,
  },
  {
    rule: 'actionTimerInFuture',
    profile: 'current',
    passing: validRequest({
      ActionTimer: { TimerAction: 'TerminateInstances', ActionTime: minutesAfterNow(10) },
    }),
    failing: validRequest({
      ActionTimer: { TimerAction: 'TerminateInstances', ActionTime: minutesAfterNow(5) },
    }),
    param: 'ActionTimer.ActionTime',
    code: CODES.range,
  },
  {
    rule: 'noDuplicateIds (security groups)',
    profile: 'current',
    passing: validRequest({ SecurityGroupIds: ['sg-p1ezv4wz', 'sg-5v9qe2k1'] }),
    failing: validRequest({ SecurityGroupIds: ['sg-p1ezv4wz', 'sg-5v9qe2k1', 'sg-p1ezv4wz'] }),
    param: 'SecurityGroupIds',
    code: CODES.duplicate,
  },
  {
    rule: 'noDuplicateIds (key pairs)',
    profile: 'current',
    passing: validRequest({ LoginSettings: { KeyIds: ['skey-b4vakk62', 'skey-3n8d2k1a'] } }),
    failing: validRequest({ LoginSettings: { KeyIds: ['skey-b4vakk62', 'skey-b4vakk62'] } }),
    param: 'LoginSettings.KeyIds',
    code: CODES.duplicate,
  },
  {
    rule: 'noDuplicateIds (tags)',
    profile: 'current',
    passing: validRequest({
      TagSpecification: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'team', Value: 'web' },
            { Key: 'env', Value: 'prod' },
          ],
        },
      ],
    }),
    failing: validRequest({
      TagSpecification: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'team', Value: 'web' },
            { Key: 'team', Value: 'web' },
          ],
        },
      ],
    }),
    param: 'TagSpecification.0.Tags',
    code: CODES.duplicateTags,
  },
];

describe('cross-field rules', () => {
  it.each(titled(RULES, (row) => `${row.rule} (${row.profile}) accepts its passing case`))(
    '%s',
    (_title, { profile, passing }) => {
      expect(validate(passing, profile)).toMatchObject({ ok: true });
    },
  );

  it.each(
    titled(
      RULES,
      (row) => `${row.rule} (${row.profile}) reports ${row.code} at ${row.param} for its failing case`,
    ),
  )('%s', (_title, { profile, failing, param, code }) => {
    expect(errorsOf(validate(failing, profile))).toContainEqual(expect.objectContaining({ param, code }));
  });

  it('does not apply the CLOUD_SSD minimum under seed-2017', () => {
    const input = validRequest({ DataDisks: [{ DiskSize: 50, DiskType: 'CLOUD_SSD' }] });
    expect(validate(input, 'seed-2017')).toMatchObject({ ok: true });
  });
});

describe('validateRunInstances edge cases', () => {
  it('treats a "__proto__" member of parsed JSON as an unknown parameter, not as a prototype', () => {
    const input: unknown = JSON.parse(
      '{"Placement":{"Zone":"ap-guangzhou-3"},"__proto__":{"ImageId":"img-pmqg1cw7"}}',
    );
    const errors = errorsOf(validate(input, 'current'));
    expect(errors).toContainEqual(
      expect.objectContaining({ param: '__proto__', code: CODES.unknownParameter }),
    );
    expect(errors).toContainEqual(expect.objectContaining({ param: 'ImageId', code: CODES.missing }));
  });

  it.each(['2099-13-01T00:00:00Z', '2099-02-30T00:00:00Z', '2099-01-01T24:00:00Z'])(
    'rejects the impossible ActionTime %s as InvalidTimeFormat',
    (ActionTime) => {
      const input = { ...validRequest(), ActionTimer: { TimerAction: 'TerminateInstances', ActionTime } };
      expect(errorsOf(validate(input, 'current'))).toContainEqual(
        expect.objectContaining({ param: 'ActionTimer.ActionTime', code: CODES.timeFormat }),
      );
    },
  );

  it('rejects a lone surrogate in free text, which no wire encoding can carry', () => {
    expect(errorsOf(validate(validRequest({ InstanceName: 'web-\ud800' }), 'current'))).toContainEqual(
      expect.objectContaining({ param: 'InstanceName', code: CODES.invalidValue }),
    );
  });

  it('reports only UnknownParameter for a later parameter under seed-2017, not its combinations', () => {
    const errors = errorsOf(
      validate({ ...validRequest(), MinCount: 5, CpuTopology: { CoreCount: 1 } }, 'seed-2017'),
    );
    expect(errors.map((e) => e.code)).toEqual([CODES.unknownParameter, CODES.unknownParameter]);
  });

  it('names an empty parameter name instead of reporting an empty param', () => {
    expect(errorsOf(validate({ ...validRequest(), '': 1 }, 'current'))).toContainEqual(
      expect.objectContaining({ param: '(empty name)', code: CODES.unknownParameter }),
    );
  });
});

describe('validateRunInstances reports distinct violations of one rule separately', () => {
  it('lists each duplicated security group', () => {
    const errors = errorsOf(
      validate(
        validRequest({ SecurityGroupIds: ['sg-aaaaaaaa', 'sg-aaaaaaaa', 'sg-bbbbbbbb', 'sg-bbbbbbbb'] }),
        'current',
      ),
    );
    expect(errors.filter((e) => e.code === CODES.duplicate).map((e) => e.message)).toEqual([
      'lists sg-aaaaaaaa more than once',
      'lists sg-bbbbbbbb more than once',
    ]);
  });

  it('reports the local and the cloud disk limits besides the total', () => {
    const DataDisks = [...disks(2, 'LOCAL_BASIC'), ...disks(21, 'CLOUD_BASIC')];
    const messages = errorsOf(validate(validRequest({ DataDisks }), 'current'))
      .filter((e) => e.param === 'DataDisks')
      .map((e) => e.message);
    expect(messages).toEqual(
      expect.arrayContaining([expect.stringContaining('2 local'), expect.stringContaining('21 cloud')]),
    );
  });

  it('reports only the charge type for CDHPAID under seed-2017, which does not know it', () => {
    const errors = errorsOf(validate(validRequest({ InstanceChargeType: 'CDHPAID' }), 'seed-2017'));
    expect(errors).toEqual([
      expect.objectContaining({ param: 'InstanceChargeType', code: CODES.invalidValue }),
    ]);
  });
});

describe('zones (lib/run-instances/zones.ts)', () => {
  const zoneErrors = (zone: string, extraZones?: string[]) =>
    errorsOf(
      validateRunInstances(validRequest({ Placement: { Zone: zone } }), {
        profile: 'current',
        now: NOW,
        ...(extraZones ? { extraZones } : {}),
      }),
    ).filter((e) => e.param === 'Placement.Zone');

  it('refuses a zone its region does not have, listing the zones it has', () => {
    expect(zoneErrors('ap-guangzhou-9')).toEqual([
      {
        param: 'Placement.Zone',
        code: CODES.zoneMismatchRegion,
        message: expect.stringContaining('ap-guangzhou has ap-guangzhou-1, ap-guangzhou-2, ap-guangzhou-3'),
      },
    ]);
  });

  it('suggests the zone a misspelt one was meant to be', () => {
    expect(zoneErrors('ap-guangzhuo-3')[0]?.message).toContain('did you mean ap-guangzhou-3?');
  });

  it('says how to admit a zone opened after the catalog was made', () => {
    expect(zoneErrors('ap-guangzhou-9')[0]?.message).toContain('EXTRA_ZONES');
  });

  it('admits a zone of EXTRA_ZONES, even in a region the catalog does not know', () => {
    expect(zoneErrors('ap-guangzhou-9', ['ap-guangzhou-9'])).toEqual([]);
    expect(zoneErrors('ap-newcity-1', ['ap-newcity-1'])).toEqual([]);
  });

  it('keeps sold-out zones: they exist, and the seed itself uses Guangzhou zone 2', () => {
    expect(zoneErrors('ap-guangzhou-2')).toEqual([]);
    expect(zoneErrors('ap-shanghai-1')).toEqual([]);
  });
});

describe('messages that say what to do', () => {
  const passwordMessages = (password: string) =>
    errorsOf(validate(validRequest({ LoginSettings: { Password: password } }), 'current'))
      .filter((e) => e.param === 'LoginSettings.Password')
      .map((e) => e.message);

  it.each([
    ['too short', 'Ab1', ['must be 8-30 characters long']],
    [
      'of one character class',
      'webserverpassword',
      ['must mix at least 2 of: lower-case letters, upper-case letters, digits, special characters'],
    ],
    [
      'with a character outside the set',
      'Web Server 2024',
      [expect.stringContaining('may hold only letters, digits and the special characters')],
    ],
    [
      'too short and of one class',
      'abc',
      ['must be 8-30 characters long', expect.stringContaining('must mix at least 2')],
    ],
  ])('names the password rule broken by a password %s, never the password', (_name, password, messages) => {
    const got = passwordMessages(password);
    expect(got).toEqual(messages);
    for (const message of got) expect(message).not.toContain(password);
  });

  it('reports two data disks under seed-2017 once', () => {
    const errors = errorsOf(
      validate(validRequest({ DataDisks: disks(2, 'CLOUD_BASIC') }), 'seed-2017'),
    ).filter((e) => e.param === 'DataDisks');
    expect(errors).toEqual([expect.objectContaining({ message: 'accepts at most 1 item' })]);
  });

  it('renders a nested value by its kind, however deep, instead of echoing it', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const errors = errorsOf(validate({ ...validRequest(), InstanceChargeType: deep }, 'current'));
    expect(errors).toEqual([
      expect.objectContaining({
        param: 'InstanceChargeType',
        message: expect.stringContaining('(got an array)'),
      }),
    ]);
  });

  it('cuts a long string it quotes short', () => {
    const [error] = errorsOf(
      validate({ ...validRequest(), InstanceChargeType: 'X'.repeat(10_000) }, 'current'),
    );
    expect(error?.message.length).toBeLessThan(200);
  });
});
