/**
 * What to do with a Tencent error code — common, RunInstances and Describe codes alike (docs/tencent.md,
 * "Error classes").
 *   transient   — retry the same request with the same ClientToken after backoff: it was not carried out
 *                 (throttling, an operation in progress, a mutex, an instance in the wrong state for now)
 *   unknown     — the request may have been carried out (an internal error after which the order state is
 *                 unknown): retryable with the same ClientToken, but a create must be looked for first
 *   credentials — the key, token or clock is wrong: a human (or a credentials refresh) must act first; the
 *                 request was not executed. Not retried as is: auth codes do not retry.
 *   capacity    — stock or capacity: retrying the same parameters will not help; another zone/type would
 *   quota       — account, quota or allowlist: needs a human
 *   invalid     — the request itself is wrong
 */
export const ERROR_CLASSES = ['transient', 'unknown', 'credentials', 'capacity', 'quota', 'invalid'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** Exact codes whose class differs from their category's (or whose category is not listed below). */
const BY_CODE: Readonly<Record<string, ErrorClass>> = {
  // transient: the same request with the same ClientToken may succeed after backoff
  // Tencent says to retry these with the same token "then reconcile": the order may have gone through.
  InternalError: 'unknown',
  'InternalError.TradeUnknownError': 'unknown',
  InternalServerError: 'unknown',
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
  // A SecretKey that is not the SecretId's signs wrongly: most often the key, not the code.
  'AuthFailure.SignatureFailure': 'credentials',
  // invalid although their category says otherwise
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
  InternalError: 'unknown',
  // Another operation holds the resource (MutexOperation.TaskRunning and the like): it will let go.
  MutexOperation: 'transient',
};

/**
 * Codes that say "not now" whatever their category: an operation in progress, an instance in a passing
 * state. Retried later, as throttling is.
 */
const RETRY_LATER = /InProgress|Operating|OperationConflict|InstanceState/;

/** The class of a Tencent error code; unknown codes are `invalid` (stop and surface, never loop). */
export function classifyTencentCode(code: string): ErrorClass {
  const exact = BY_CODE[code];
  if (exact) return exact;
  if (RETRY_LATER.test(code)) return 'transient';
  const dot = code.indexOf('.');
  return BY_CATEGORY[dot === -1 ? code : code.slice(0, dot)] ?? 'invalid';
}

/** Whether a request that failed with this code may be sent again unchanged (same ClientToken). */
export function isRetryableTencentCode(code: string): boolean {
  const errorClass = classifyTencentCode(code);
  return errorClass === 'transient' || errorClass === 'unknown';
}

/** What a user can do about a permanent error of each class (said in the job's error message). */
export const ADVICE: Readonly<Record<ErrorClass, string>> = {
  transient: 'Tencent was busy; the request is retried',
  unknown: 'Tencent could not say whether the request went through; it is looked for and retried',
  credentials: 'check the Tencent key (TENCENTCLOUD_* or the credentials secret) and the clock',
  capacity: 'Tencent has no capacity for this request now: try another zone or instance type, or later',
  quota: 'the account is short of quota, balance or permission: raise the quota, top up, or ask its owner',
  invalid: 'Tencent refused the request as invalid: fix it and submit a new job',
};
