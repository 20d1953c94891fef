/**
 * The two validation profiles as one table: each row is a limit, its value in each profile, and where the
 * value comes from. `seed-2017` is the RunInstances document this project was built from (Tencent's 2017
 * page, doc 213/9384, whose three examples live in events/); `current` is today's API (docs/tencent.md,
 * "RunInstances parameters").
 */
export const PROFILE_NAMES = ['seed-2017', 'current'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

interface Row<T> {
  'seed-2017': T;
  current: T;
  source: string;
}

const MONTHS_TO_36 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36] as const;
const SEED_DISK_TYPES = ['LOCAL_BASIC', 'LOCAL_SSD', 'CLOUD_BASIC', 'CLOUD_SSD', 'CLOUD_PREMIUM'] as const;

export const LIMITS = {
  laterParametersKnown: {
    'seed-2017': false,
    current: true,
    source: 'Parameters first seen after the 2017 document are UnknownParameter there (docs/tencent.md)',
  } satisfies Row<boolean>,
  instanceCountMax: {
    'seed-2017': 100,
    current: 500,
    source:
      '2017 doc: [1, 100]; CN doc since 2023-03-28: [1, 500] for PREPAID and POSTPAID_BY_HOUR (docs/tencent.md)',
  } satisfies Row<number>,
  instanceNameMax: {
    'seed-2017': { max: 60, unit: 'bytes' },
    current: { max: 128, unit: 'characters' },
    source:
      '2017 doc: at most 60 bytes; param doc since 2025-01: 128 characters including pattern text (docs/tencent.md)',
  } satisfies Row<{ max: number; unit: 'bytes' | 'characters' }>,
  dataDisks: {
    'seed-2017': { total: 1, local: 1, cloud: 1 },
    current: { total: 21, local: 1, cloud: 20 },
    source: '2017 doc: only one data disk; since 2019-11: 1 local + 20 cloud (docs/tencent.md)',
  } satisfies Row<{ total: number; local: number; cloud: number }>,
  securityGroupsMax: {
    'seed-2017': 1,
    current: Number.POSITIVE_INFINITY,
    source: '2017 doc: only one security group; current doc states no count limit (docs/tencent.md)',
  } satisfies Row<number>,
  fixedPrivateIps: {
    'seed-2017': { rule: 'forces-single-instance', max: 1 },
    current: { rule: 'one-per-instance', max: 20 },
    source:
      '2017 doc: a VPC IP forces InstanceCount 1; now: count must equal InstanceCount and be <= 20 (docs/tencent.md)',
  } satisfies Row<{ rule: 'forces-single-instance' | 'one-per-instance'; max: number }>,
  chargeTypes: {
    'seed-2017': ['PREPAID', 'POSTPAID_BY_HOUR'],
    current: ['PREPAID', 'POSTPAID_BY_HOUR', 'CDHPAID', 'SPOTPAID', 'CDCPAID'],
    source:
      '2017 doc: PREPAID, POSTPAID_BY_HOUR; CN doc today adds CDHPAID, SPOTPAID, CDCPAID (docs/tencent.md)',
  } satisfies Row<readonly string[]>,
  periods: {
    'seed-2017': MONTHS_TO_36,
    current: [...MONTHS_TO_36, 48, 60],
    source: 'Period months {1..12, 24, 36}; 48 and 60 added 2020-03 (docs/tencent.md)',
  } satisfies Row<readonly number[]>,
  renewFlags: {
    'seed-2017': ['NOTIFY_AND_AUTO_RENEW', 'NOTIFY_AND_MANUAL_RENEW', 'DISABLE_NOTIFY_AND_MANUAL_RENEW'],
    current: ['NOTIFY_AND_AUTO_RENEW', 'NOTIFY_AND_MANUAL_RENEW', 'DISABLE_NOTIFY_AND_MANUAL_RENEW'],
    source: 'InstanceChargePrepaid.RenewFlag (docs/tencent.md)',
  } satisfies Row<readonly string[]>,
  systemDiskTypes: {
    'seed-2017': SEED_DISK_TYPES,
    current: [...SEED_DISK_TYPES, 'CLOUD_BSSD', 'CLOUD_HSSD', 'CLOUD_TSSD'],
    source: 'SystemDisk.DiskType (docs/tencent.md); BSSD/HSSD/TSSD are later additions',
  } satisfies Row<readonly string[]>,
  dataDiskTypes: {
    'seed-2017': SEED_DISK_TYPES,
    current: [...SEED_DISK_TYPES, 'CLOUD_BSSD', 'CLOUD_HSSD', 'CLOUD_TSSD'],
    source:
      'DataDisk.DiskType (docs/tencent.md); LOCAL_NVME and LOCAL_PRO are implied by the type and cannot be chosen',
  } satisfies Row<readonly string[]>,
  internetChargeTypes: {
    'seed-2017': [
      'BANDWIDTH_PREPAID',
      'TRAFFIC_POSTPAID_BY_HOUR',
      'BANDWIDTH_POSTPAID_BY_HOUR',
      'BANDWIDTH_PACKAGE',
    ],
    current: [
      'BANDWIDTH_PREPAID',
      'TRAFFIC_POSTPAID_BY_HOUR',
      'BANDWIDTH_POSTPAID_BY_HOUR',
      'BANDWIDTH_PACKAGE',
    ],
    source: 'InternetAccessible.InternetChargeType (docs/tencent.md)',
  } satisfies Row<readonly string[]>,
  bandwidthOutMax: {
    'seed-2017': 2000,
    current: 2000,
    source:
      'Widest documented per-instance cap (bandwidth package, 2000 Mbps); the exact range is per type and region (docs/tencent.md)',
  } satisfies Row<number>,
  password: {
    'seed-2017': { min: 8, max: 30, classes: 'letters-digits-special', minClasses: 2 },
    current: { min: 8, max: 30, classes: 'lower-upper-digit-special', minClasses: 2 },
    source:
      'Linux rule (the OS is unknown before the image is looked up, so the laxer rule applies). 2017 counted letters as one class; ' +
      'its text said 8-16 characters, but the seed document\'s own examples use the 19-character "Qcloud@TestApi123++", so the ' +
      'length cap is the current 30 in both profiles (docs/tencent.md)',
  } satisfies Row<{ min: number; max: number; classes: PasswordClasses; minClasses: number }>,
  keepImageLoginValues: {
    'seed-2017': ['TRUE', 'FALSE', 'true', 'false'],
    current: ['TRUE', 'FALSE', 'true', 'false'],
    source:
      'KeepImageLogin is a string: "true"/"false" in docs, "TRUE"/"FALSE" in 2018 text and Terraform (docs/tencent.md)',
  } satisfies Row<readonly string[]>,
} as const;

export type PasswordClasses = 'letters-digits-special' | 'lower-upper-digit-special';

type LimitKey = keyof typeof LIMITS;
export type ValidationProfile = { readonly name: ProfileName } & {
  readonly [K in LimitKey]: (typeof LIMITS)[K][ProfileName];
};

const cache = new Map<ProfileName, ValidationProfile>();

/** The limits of one profile, read from the table above. */
export function getProfile(name: ProfileName): ValidationProfile {
  let profile = cache.get(name);
  if (!profile) {
    const entries = Object.entries(LIMITS).map(([key, row]) => [key, row[name]]);
    profile = Object.freeze({ name, ...Object.fromEntries(entries) }) as ValidationProfile;
    cache.set(name, profile);
  }
  return profile;
}

/**
 * Parameters (dotted, with `N` for array indexes) that the 2017 document did not have, with the first Go SDK
 * commit that carried them (docs/tencent.md, "RunInstances parameters"). Under `seed-2017` they are
 * UnknownParameter.
 */
export const LATER_PARAMETERS: ReadonlyMap<string, string> = new Map([
  ['HostName', '2018-04'],
  ['ActionTimer', '2018-04'],
  ['TagSpecification', '2018-04'],
  ['DisasterRecoverGroupIds', '2018-07'],
  ['InstanceMarketOptions', '2018-06'],
  ['UserData', '2018-06'],
  ['DryRun', '2019-08'],
  ['HpcClusterId', '2020-08'],
  ['CamRoleName', '2020-09'],
  ['LaunchTemplate', '2021-12'],
  ['ChcIds', '2022-02'],
  ['DisableApiTermination', '2022-04'],
  ['DedicatedClusterId', '2022-05'],
  ['CpuTopology', '2024-05'],
  ['Metadata', '2025-05'],
  ['EnableJumboFrame', '2025-07'],
  ['MinCount', '2025-09'],
  ['PartitionNumber', '2026-07'],
  ['NetworkInterfaces', '2026-08'],
  ['Placement.DedicatedResourcePackTenancy', 'after 2017'],
  ['Placement.DedicatedResourcePackIds', 'after 2017'],
  ['SystemDisk.DiskName', 'after 2017'],
  ['SystemDisk.CdcId', 'after 2017'],
  ['SystemDisk.Encrypt', 'after 2017'],
  ['SystemDisk.KmsKeyId', 'after 2017'],
  ['DataDisks.N.DeleteWithInstance', 'after 2017'],
  ['DataDisks.N.SnapshotId', 'after 2017'],
  ['DataDisks.N.Encrypt', 'after 2017'],
  ['DataDisks.N.KmsKeyId', 'after 2017'],
  ['DataDisks.N.ThroughputPerformance', 'after 2017'],
  ['DataDisks.N.CdcId', 'after 2017'],
  ['DataDisks.N.BurstPerformance', 'after 2017'],
  ['DataDisks.N.DiskName', 'after 2017'],
  ['VirtualPrivateCloud.Ipv6AddressCount', 'after 2017'],
  ['InternetAccessible.BandwidthPackageId', 'after 2017'],
  ['InternetAccessible.InternetServiceProvider', 'after 2017'],
  ['InternetAccessible.IPv4AddressType', 'after 2017'],
  ['InternetAccessible.IPv6AddressType', 'after 2017'],
  ['InternetAccessible.AntiDDoSPackageId', 'after 2017'],
  ['EnhancedService.AutomationService', 'after 2017'],
]);
