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

export interface Catalog {
  /** region → zones */
  zones: Record<string, readonly string[]>;
  images: readonly string[];
  instanceTypes: readonly string[];
  subnets: readonly Subnet[];
}

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
  // The public images of Tencent's examples (docs/tencent.md, "Resource ids") plus two more.
  images: ['img-pmqg1cw7', 'img-9qabwvbn', 'img-eb30mz89', 'img-l8og963d'],
  instanceTypes: [
    'S1.SMALL1',
    'S2.SMALL1',
    'S3.MEDIUM4',
    'S5.SMALL2',
    'S5.MEDIUM4',
    'S5.LARGE8',
    'S5.2XLARGE16',
    'S5.16XLARGE256',
    'SA2.MEDIUM4',
    'SA9.96XLARGE1152',
  ],
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
  'ReleasePrepaidDataDisks',
]);
