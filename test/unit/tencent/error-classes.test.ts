import { describe, expect, it } from 'vitest';
import { classifyTencentCode, isRetryableTencentCode } from '../../../lib/tencent/error-classes.ts';

describe('classifyTencentCode', () => {
  it.each([
    ['RequestLimitExceeded', 'transient', true],
    ['RequestLimitExceeded.UinLimitExceeded', 'transient', true],
    ['RequestLimitExceeded.IPLimitExceeded', 'transient', true],
    ['RequestLimitExceeded.GlobalRegionUinLimitExceeded', 'transient', true],
    ['InternalError', 'unknown', true],
    ['InternalError.TradeUnknownError', 'unknown', true],
    ['InternalError.SomethingNew', 'unknown', true],
    ['MutexOperation.TaskRunning', 'transient', true],
    ['OperationDenied.InstanceOperationInProgress', 'transient', true],
    ['UnsupportedOperation.InstanceStatePending', 'transient', true],
    ['FailedOperation.InstanceOperating', 'transient', true],
    ['ResourceInUse', 'transient', true],
    ['FailedOperation.InquiryPriceFailed', 'transient', true],
    ['FailedOperation.SecurityGroupActionFailed', 'transient', true],
    ['InvalidParameterValue.InvalidImageState', 'transient', true],
    ['ServiceUnavailable', 'transient', true],
    ['ResourcesSoldOut.SpecifiedInstanceType', 'capacity', false],
    ['ResourceInsufficient.AvailabilityZoneSoldOut', 'capacity', false],
    ['AuthFailure.SignatureExpire', 'credentials', false],
    ['AuthFailure.TokenFailure', 'credentials', false],
    ['AuthFailure.SecretIdNotFound', 'credentials', false],
    ['UnauthorizedOperation.InvalidToken', 'credentials', false],
    ['AuthFailure.SignatureFailure', 'credentials', false],
    ['AuthFailure.UnauthorizedOperation', 'quota', false],
    ['ResourceInsufficient.SpecifiedInstanceType', 'capacity', false],
    ['ResourcesSoldOut.EipInsufficient', 'capacity', false],
    ['InvalidParameterValue.InsufficientOffering', 'capacity', false],
    ['LimitExceeded.SpotQuota', 'capacity', false],
    ['InstancesQuotaLimitExceeded', 'quota', false],
    ['InvalidAccount.InsufficientBalance', 'quota', false],
    ['LimitExceeded.CvmInstanceQuota', 'quota', false],
    ['LimitExceeded.InstanceEniNumLimit', 'invalid', false],
    ['InvalidParameterValue.Range', 'invalid', false],
    ['InvalidZone.MismatchRegion', 'invalid', false],
    ['UnknownParameter', 'invalid', false],
    ['VpcIpIsUsed', 'invalid', false],
    ['SomeCodeNobodyDocumented', 'invalid', false],
  ] as const)('%s is %s (retryable: %s)', (code, errorClass, retryable) => {
    expect(classifyTencentCode(code)).toBe(errorClass);
    expect(isRetryableTencentCode(code)).toBe(retryable);
  });
});
