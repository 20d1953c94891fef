/**
 * What the simulated account owns and what the simulated region sells. The simulator keeps its own tables on
 * purpose: it must be able to disagree with the project's validator, or tests against it prove nothing.
 */
export interface Subnet {
  subnetId: string;
  vpcId: string;
  zone: string;
  cidr: string;
}

/** What DescribeInstances shows of an instance type (SDK `Instance.CPU`, `Instance.Memory` in GiB). */
export interface InstanceTypeSpec {
  CPU: number;
  Memory: number;
}

/** What DescribeInstances shows of an image, and what the instance's default host name is made of. */
export interface ImageSpec {
  OsName: string;
  DefaultLoginUser: string;
  DefaultLoginPort: number;
  /** The last part of the default host name (`VM-<ip>-<hostTag>`); Windows names are at most 15 characters. */
  hostTag: string;
}

export interface Catalog {
  /** region → zones */
  zones: Record<string, readonly string[]>;
  /** The images the region has, by id. */
  images: Readonly<Record<string, ImageSpec>>;
  /** The instance types the region sells, by name. */
  instanceTypes: Readonly<Record<string, InstanceTypeSpec>>;
  subnets: readonly Subnet[];
}

/**
 * Disk defaults of RunInstances (https://www.tencentcloud.com/document/api/213/33237): a 50 GiB system disk
 * of "a type in stock" (here CLOUD_PREMIUM); a data disk's documented default type is LOCAL_BASIC.
 */
export const DISK_DEFAULTS = {
  systemDiskType: 'CLOUD_PREMIUM',
  systemDiskSize: 50,
  dataDiskType: 'LOCAL_BASIC',
} as const;

export const DEFAULT_CATALOG: Catalog = {
  zones: {
    'ap-guangzhou': [
      'ap-guangzhou-1',
      'ap-guangzhou-2',
      'ap-guangzhou-3',
      'ap-guangzhou-4',
      'ap-guangzhou-6',
      'ap-guangzhou-7',
    ],
    'ap-shanghai': ['ap-shanghai-2', 'ap-shanghai-3', 'ap-shanghai-4', 'ap-shanghai-5'],
    'ap-beijing': ['ap-beijing-3', 'ap-beijing-5', 'ap-beijing-6', 'ap-beijing-7'],
    'ap-nanjing': ['ap-nanjing-1', 'ap-nanjing-2', 'ap-nanjing-3'],
    'ap-hongkong': ['ap-hongkong-2', 'ap-hongkong-3'],
    'ap-singapore': ['ap-singapore-1', 'ap-singapore-2'],
    'ap-shanghai-fsi': ['ap-shanghai-fsi-1', 'ap-shanghai-fsi-2'],
    'na-siliconvalley': ['na-siliconvalley-1', 'na-siliconvalley-2'],
    'eu-frankfurt': ['eu-frankfurt-1'],
  },
  // The public images of Tencent's examples (docs/tencent.md, "Resource ids") plus two more; the OS names are
  // the simulator's own, in the style of the console's image names.
  images: {
    'img-pmqg1cw7': {
      OsName: 'TencentOS Server 3.1 (TK4)',
      DefaultLoginUser: 'root',
      DefaultLoginPort: 22,
      hostTag: 'tencentos',
    },
    'img-9qabwvbn': {
      OsName: 'CentOS 7.9 64bit',
      DefaultLoginUser: 'root',
      DefaultLoginPort: 22,
      hostTag: 'centos',
    },
    'img-eb30mz89': {
      OsName: 'Ubuntu Server 22.04 LTS 64bit',
      DefaultLoginUser: 'ubuntu',
      DefaultLoginPort: 22,
      hostTag: 'ubuntu',
    },
    'img-l8og963d': {
      OsName: 'Windows Server 2022 DataCenter 64bit English',
      DefaultLoginUser: 'Administrator',
      DefaultLoginPort: 3389,
      hostTag: 'win',
    },
  },
  // Cores and GiB as the type names say (`S5.MEDIUM4`: MEDIUM is 2 cores, 4 GiB).
  instanceTypes: {
    'S1.SMALL1': { CPU: 1, Memory: 1 },
    'S2.SMALL1': { CPU: 1, Memory: 1 },
    'S3.MEDIUM4': { CPU: 2, Memory: 4 },
    'S5.SMALL2': { CPU: 1, Memory: 2 },
    'S5.MEDIUM4': { CPU: 2, Memory: 4 },
    'S5.LARGE8': { CPU: 4, Memory: 8 },
    'S5.2XLARGE16': { CPU: 8, Memory: 16 },
    'S5.16XLARGE256': { CPU: 64, Memory: 256 },
    'SA2.MEDIUM4': { CPU: 2, Memory: 4 },
    'SA9.96XLARGE1152': { CPU: 384, Memory: 1152 },
  },
  subnets: [
    { subnetId: 'subnet-mv4sn55k', vpcId: 'vpc-m0cnatxj', zone: 'ap-guangzhou-3', cidr: '10.0.1.0/24' },
    { subnetId: 'subnet-o3wvpizf', vpcId: 'vpc-1yg5ua6l', zone: 'ap-guangzhou-2', cidr: '172.16.0.0/24' },
    { subnetId: 'subnet-k2ls9dma', vpcId: 'vpc-m0cnatxj', zone: 'ap-guangzhou-4', cidr: '10.0.2.0/24' },
    { subnetId: 'subnet-s8hdu3ks', vpcId: 'vpc-p2kd8sna', zone: 'ap-shanghai-2', cidr: '192.168.10.0/28' },
  ],
};

/**
 * Parameters the simulated RunInstances knows, member by member (dotted, `N` for indexes) — today's API.
 * Anything else is `UnknownParameter`, as on the real service (docs/tencent.md, "RunInstances parameters").
 */
export const RUN_INSTANCES_PARAMETERS: ReadonlySet<string> = new Set([
  'InstanceChargeType',
  'InstanceChargePrepaid.Period',
  'InstanceChargePrepaid.RenewFlag',
  'Placement.Zone',
  'Placement.ProjectId',
  'Placement.HostIds.N',
  'InstanceType',
  'ImageId',
  'SystemDisk.DiskType',
  'SystemDisk.DiskSize',
  'SystemDisk.DiskName',
  'DataDisks.N.DiskType',
  'DataDisks.N.DiskSize',
  'DataDisks.N.DeleteWithInstance',
  'DataDisks.N.SnapshotId',
  'DataDisks.N.Encrypt',
  'DataDisks.N.DiskName',
  'VirtualPrivateCloud.VpcId',
  'VirtualPrivateCloud.SubnetId',
  'VirtualPrivateCloud.AsVpcGateway',
  'VirtualPrivateCloud.PrivateIpAddresses.N',
  'VirtualPrivateCloud.Ipv6AddressCount',
  'InternetAccessible.InternetChargeType',
  'InternetAccessible.InternetMaxBandwidthOut',
  'InternetAccessible.PublicIpAssigned',
  'InternetAccessible.BandwidthPackageId',
  'InstanceCount',
  'MinCount',
  'InstanceName',
  'LoginSettings.Password',
  'LoginSettings.KeyIds.N',
  'LoginSettings.KeepImageLogin',
  'SecurityGroupIds.N',
  'EnhancedService.SecurityService.Enabled',
  'EnhancedService.MonitorService.Enabled',
  'EnhancedService.AutomationService.Enabled',
  'ClientToken',
  'HostName',
  'ActionTimer.TimerAction',
  'ActionTimer.ActionTime',
  'DisasterRecoverGroupIds.N',
  'TagSpecification.N.ResourceType',
  'TagSpecification.N.Tags.N.Key',
  'TagSpecification.N.Tags.N.Value',
  'UserData',
  'DryRun',
  'CamRoleName',
  'DisableApiTermination',
  'Placement.DedicatedResourcePackTenancy',
  'Placement.DedicatedResourcePackIds.N',
  'SystemDisk.CdcId',
  'SystemDisk.Encrypt',
  'SystemDisk.KmsKeyId',
  'DataDisks.N.KmsKeyId',
  'DataDisks.N.ThroughputPerformance',
  'DataDisks.N.CdcId',
  'DataDisks.N.BurstPerformance',
  'InternetAccessible.InternetServiceProvider',
  'InternetAccessible.IPv4AddressType',
  'InternetAccessible.IPv6AddressType',
  'InternetAccessible.AntiDDoSPackageId',
  'InstanceMarketOptions.MarketType',
  'InstanceMarketOptions.SpotOptions.MaxPrice',
  'InstanceMarketOptions.SpotOptions.SpotInstanceType',
  'Metadata.Items.N.Key',
  'Metadata.Items.N.Value',
  'CpuTopology.CoreCount',
  'CpuTopology.ThreadPerCore',
  'HpcClusterId',
  'LaunchTemplate.LaunchTemplateId',
  'LaunchTemplate.LaunchTemplateVersion',
  'DedicatedClusterId',
  'ChcIds.N',
  'PartitionNumber',
  'EnableJumboFrame',
  'NetworkInterfaces.N.InterfaceType',
  'NetworkInterfaces.N.VpcId',
  'NetworkInterfaces.N.SubnetId',
  'NetworkInterfaces.N.PrivateIpv4AddressCount',
  'NetworkInterfaces.N.NetworkInterfaceId',
  'NetworkInterfaces.N.SecurityGroupIds.N',
  'NetworkInterfaces.N.DeleteWithInstance',
]);

/** Boolean members: their `TRUE`/`true` spellings mean the same (for the ClientToken fingerprint). */
export const BOOLEAN_PARAMETERS: ReadonlySet<string> = new Set([
  'DataDisks.N.DeleteWithInstance',
  'DataDisks.N.Encrypt',
  'DataDisks.N.BurstPerformance',
  'SystemDisk.Encrypt',
  'VirtualPrivateCloud.AsVpcGateway',
  'InternetAccessible.PublicIpAssigned',
  'EnhancedService.SecurityService.Enabled',
  'EnhancedService.MonitorService.Enabled',
  'EnhancedService.AutomationService.Enabled',
  'DryRun',
  'DisableApiTermination',
  'EnableJumboFrame',
  'NetworkInterfaces.N.DeleteWithInstance',
]);

export const DESCRIBE_PARAMETERS: ReadonlySet<string> = new Set([
  'InstanceIds.N',
  'Filters.N.Name',
  'Filters.N.Values.N',
  'Offset',
  'Limit',
]);

export const TERMINATE_PARAMETERS: ReadonlySet<string> = new Set([
  'InstanceIds.N',
  'ReleaseAddress',
  'ReleasePrepaidDataDisks',
]);
