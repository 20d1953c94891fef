import { describe, expect, it } from 'vitest';
import { checkPolicy } from '../../../lib/jobs/policy.ts';
import type { RunInstancesRequest } from '../../../lib/run-instances/index.ts';
import { validRequest } from '../../helpers/requests.ts';

function without(request: RunInstancesRequest, key: keyof RunInstancesRequest): RunInstancesRequest {
  const copy = { ...request };
  delete copy[key];
  return copy;
}

describe('checkPolicy', () => {
  it('allows anything when no guardrail is set', () => {
    expect(checkPolicy(validRequest({ InstanceCount: 100 }), {})).toEqual([]);
  });

  it('allows a zone listed in ALLOWED_ZONES', () => {
    expect(checkPolicy(validRequest(), { allowedZones: ['ap-shanghai-2', 'ap-guangzhou-3'] })).toEqual([]);
  });

  it('denies a zone missing from ALLOWED_ZONES, naming the rule', () => {
    expect(checkPolicy(validRequest(), { allowedZones: ['ap-shanghai-2'] })).toEqual([
      {
        param: 'Placement.Zone',
        code: 'UnauthorizedOperation.ZoneNotAllowed',
        message: 'ap-guangzhou-3 is not allowed by ALLOWED_ZONES (ap-shanghai-2)',
      },
    ]);
  });

  it('allows an instance type listed exactly', () => {
    expect(checkPolicy(validRequest(), { allowedInstanceTypes: ['S5.MEDIUM4'] })).toEqual([]);
  });

  it('allows an instance type of an allowed family (S5.*)', () => {
    expect(
      checkPolicy(validRequest({ InstanceType: 'S5.LARGE8' }), { allowedInstanceTypes: ['S5.*'] }),
    ).toEqual([]);
  });

  it.each([
    ['another family', 'SA2.MEDIUM4', ['S5.*']],
    ['a family sharing the prefix letters', 'S5X.MEDIUM4', ['S5.*']],
    ['another size of an exact type', 'S5.LARGE8', ['S5.MEDIUM4']],
  ])('denies %s, naming ALLOWED_INSTANCE_TYPES', (_name, type, allowed) => {
    expect(checkPolicy(validRequest({ InstanceType: type }), { allowedInstanceTypes: allowed })).toEqual([
      {
        param: 'InstanceType',
        code: 'UnauthorizedOperation.InstanceTypeNotAllowed',
        message: expect.stringContaining('ALLOWED_INSTANCE_TYPES'),
      },
    ]);
  });

  it('denies an omitted InstanceType when ALLOWED_INSTANCE_TYPES is set', () => {
    expect(checkPolicy(without(validRequest(), 'InstanceType'), { allowedInstanceTypes: ['S5.*'] })).toEqual([
      expect.objectContaining({
        param: 'InstanceType',
        code: 'UnauthorizedOperation.InstanceTypeNotAllowed',
      }),
    ]);
  });

  it('allows InstanceCount equal to MAX_INSTANCES_PER_JOB', () => {
    expect(checkPolicy(validRequest({ InstanceCount: 3 }), { maxInstancesPerJob: 3 })).toEqual([]);
  });

  it('denies InstanceCount above MAX_INSTANCES_PER_JOB, naming the rule', () => {
    expect(checkPolicy(validRequest({ InstanceCount: 4 }), { maxInstancesPerJob: 3 })).toEqual([
      {
        param: 'InstanceCount',
        code: 'UnauthorizedOperation.TooManyInstances',
        message: expect.stringContaining('MAX_INSTANCES_PER_JOB'),
      },
    ]);
  });

  it('counts an omitted InstanceCount as one instance', () => {
    expect(checkPolicy(without(validRequest(), 'InstanceCount'), { maxInstancesPerJob: 1 })).toEqual([]);
  });

  it('lists every broken guardrail', () => {
    const denied = checkPolicy(validRequest({ InstanceType: 'SA2.MEDIUM4', InstanceCount: 5 }), {
      allowedZones: ['ap-beijing-1'],
      allowedInstanceTypes: ['S5.*'],
      maxInstancesPerJob: 2,
    });
    expect(denied.map((error) => error.param)).toEqual(['Placement.Zone', 'InstanceType', 'InstanceCount']);
  });
});
