/**
 * Tencent-style error codes the request model can answer with. Sources: the 2017 RunInstances document's
 * error table, Tencent's common error codes and the current RunInstances list (docs/tencent.md, "Responses
 * and errors").
 */
export const CODES = {
  missing: 'MissingParameter',
  invalidParameter: 'InvalidParameter',
  invalidValue: 'InvalidParameterValue',
  range: 'InvalidParameterValue.Range',
  limitExceeded: 'InvalidParameterValue.LimitExceeded',
  duplicate: 'InvalidParameterValue.Duplicate',
  duplicateTags: 'InvalidParameterValue.DuplicateTags',
  tooLarge: 'InvalidParameterValue.TooLarge',
  combination: 'InvalidParameterCombination',
  conflict: 'InvalidParameter.ParameterConflict',
  lackCpuTopology: 'InvalidParameter.LackCoreCountOrThreadPerCore',
  unknownParameter: 'UnknownParameter',
  invalidAction: 'InvalidAction',
  noSuchVersion: 'NoSuchVersion',
  instanceTypeMalformed: 'InvalidInstanceType.Malformed',
  imageIdMalformed: 'InvalidImageId.Malformed',
  hostIdMalformed: 'InvalidHostId.Malformed',
  keyPairIdMalformed: 'InvalidKeyPairId.Malformed',
  instanceNameTooLong: 'InvalidInstanceName.TooLong',
  password: 'InvalidPassword',
  clientTokenTooLong: 'InvalidClientToken.TooLong',
  zoneMismatchRegion: 'InvalidZone.MismatchRegion',
  period: 'InvalidPeriod',
  vpcIdMalformed: 'InvalidParameterValue.VpcIdMalformed',
  subnetIdMalformed: 'InvalidParameterValue.SubnetIdMalformed',
  ipMalformed: 'InvalidParameterValue.IPAddressMalformed',
  snapshotIdMalformed: 'InvalidParameterValue.SnapshotIdMalformed',
  bandwidthPackageIdMalformed: 'InvalidParameterValue.BandwidthPackageIdMalformed',
  launchTemplateIdMalformed: 'InvalidParameterValue.LaunchTemplateIdMalformed',
  camRoleNameMalformed: 'InvalidParameterValue.CamRoleNameMalformed',
  illegalHostName: 'InvalidParameterValue.IllegalHostName',
  userDataFormat: 'InvalidParameterValue.InvalidUserDataFormat',
  timeFormat: 'InvalidParameterValue.InvalidTimeFormat',
  minCount: 'InvalidParameterValue.InvalidParameterMinCount',
  cloudSsdTooSmall: 'InvalidParameterValue.CloudSsdDataDiskSizeTooSmall',
  coreCount: 'InvalidParameterValue.CoreCountValue',
  threadPerCore: 'InvalidParameterValue.ThreadPerCoreValue',
} as const;

export type TencentCode = (typeof CODES)[keyof typeof CODES];

/** One violation of the RunInstances rules, named the way Tencent names it. */
export interface Violation {
  /** Tencent's dotted parameter path, e.g. `DataDisks.0.DiskSize`. */
  param: string;
  code: TencentCode;
  message: string;
}
