/**
 * What to do with a Tencent error code — common, RunInstances and Describe codes alike (docs/tencent.md,
 * "Error classes").
 *   transient   — retry the same request with the same ClientToken after backoff
 *   credentials — the key, token or clock is wrong: a human (or a credentials refresh) must act first; the
 *                 request was not executed. Not retried as is: auth codes do not retry.
 *   capacity    — stock or capacity: retrying the same parameters will not help; another zone/type would
 *   quota       — account, quota or allowlist: needs a human
 *   invalid     — the request itself is wrong
 */
export const ERROR_CLASSES = ['transient', 'credentials', 'capacity', 'quota', 'invalid'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** Exact codes whose class differs from their category's (or whose category is not listed below). */
const BY_CODE: Readonly<Record<string, ErrorClass>> = {
  // transient: the same request with the same ClientToken may succeed after backoff
  InternalError: 'transient',
  'InternalError.TradeUnknownError': 'transient',
  InternalServerError: 'transient',
  RequestLimitExceeded: 'transient',
  'RequestLimitExceeded.UinLimitExceeded': 'transient',
  'RequestLimitExceeded.IPLimitExceeded': 'transient',
  'RequestLimitExceeded.GlobalRegionUinLimitExceeded': 'transient',
  ServiceUnavailable: 'transient',
  ResourceInUse: 'transient',
  ResourceUnavailable: 'transient',
  FailedOperation: 'transient',
  'FailedOperation.InquiryPriceFailed': 'transient',
  'FailedOperation.SecurityGroupActionFailed': 'transient',
  'InvalidParameterValue.InvalidImageState': 'transient',
  // credentials and clock
  'AuthFailure.SignatureExpire': 'credentials',
  'AuthFailure.TokenFailure': 'credentials',
  'AuthFailure.SecretIdNotFound': 'credentials',
  'AuthFailure.InvalidSecretId': 'credentials',
  'AuthFailure.MFAFailure': 'credentials',
  'UnauthorizedOperation.InvalidToken': 'credentials',
  // invalid although their category says otherwise
  'AuthFailure.SignatureFailure': 'invalid',
  'AuthFailure.InvalidAuthorization': 'invalid',
  'AuthFailure.CamRoleNameAuthenticateFailed': 'invalid',
  'ResourceInsufficient.CloudDiskUnavailable': 'invalid',
  'LimitExceeded.InstanceEniNumLimit': 'invalid',
  'InvalidParameterValue.InsufficientOffering': 'capacity',
  'InvalidParameterValue.ExternalIpQuotaLimited': 'quota',
  'InvalidParameterValue.TagQuotaLimitExceeded': 'quota',
  'InvalidParameter.SpecialParameterForSpecialAccount': 'quota',
  'InvalidParameter.InstanceTypeSupportedHostNotFound': 'capacity',
  'FailedOperation.NoAvailableIpAddressCountInSubnet': 'capacity',
  'FailedOperation.PromotionalRegionRestriction': 'quota',
  'LimitExceeded.SpotQuota': 'capacity',
  'LimitExceeded.VpcSubnetNum': 'capacity',
  'ResourceInsufficient.DisasterRecoverGroupCvmQuota': 'quota',
  'ResourceNotFound.NoDefaultCbs': 'capacity',
  'ResourceNotFound.NoDefaultCbsWithReason': 'capacity',
  'ResourceUnavailable.InstanceType': 'capacity',
  'UnsupportedOperation.OnlyForPrepaidAccount': 'quota',
  'UnsupportedOperation.UnsupportedInternationalUser': 'quota',
};

/**
 * Fallback by category, the part before the first `.` (Terraform matches the same way; docs/tencent.md,
 * "Error classes").
 */
const BY_CATEGORY: Readonly<Record<string, ErrorClass>> = {
  AuthFailure: 'quota',
  UnauthorizedOperation: 'quota',
  AccountQualificationRestrictions: 'quota',
  InvalidAccount: 'quota',
  InvalidPermission: 'quota',
  InstancesQuotaLimitExceeded: 'quota',
  IpInBlacklist: 'quota',
  IpNotInWhitelist: 'quota',
  LimitExceeded: 'quota',
  OperationDenied: 'quota',
  ResourceInsufficient: 'capacity',
  ResourcesSoldOut: 'capacity',
  RequestLimitExceeded: 'transient',
  InternalError: 'transient',
};

/** The class of a Tencent error code; unknown codes are `invalid` (stop and surface, never loop). */
export function classifyTencentCode(code: string): ErrorClass {
  const exact = BY_CODE[code];
  if (exact) return exact;
  const dot = code.indexOf('.');
  return BY_CATEGORY[dot === -1 ? code : code.slice(0, dot)] ?? 'invalid';
}

/** Whether a request that failed with this code may be sent again unchanged (same ClientToken). */
export function isRetryableTencentCode(code: string): boolean {
  return classifyTencentCode(code) === 'transient';
}
