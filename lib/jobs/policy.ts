import type { Config } from '../config.ts';
import type { ParamError } from '../errors.ts';
import type { RunInstancesRequest } from '../run-instances/index.ts';

/** Guardrails an operator sets (ALLOWED_ZONES, ALLOWED_INSTANCE_TYPES, MAX_INSTANCES_PER_JOB); unset = unrestricted. */
export interface Policy {
  allowedZones?: readonly string[];
  /** Exact types (`S5.MEDIUM4`) or whole families (`S5.*`). */
  allowedInstanceTypes?: readonly string[];
  maxInstancesPerJob?: number;
}

function typeAllowed(type: string, allowed: readonly string[]): boolean {
  return allowed.some((rule) => (rule.endsWith('.*') ? type.startsWith(rule.slice(0, -1)) : rule === type));
}

/** Every guardrail the request breaks, each naming the rule (answered 403). */
export function checkPolicy(request: RunInstancesRequest, policy: Policy): ParamError[] {
  const errors: ParamError[] = [];
  const zone = request.Placement?.Zone;
  if (policy.allowedZones && (zone === undefined || !policy.allowedZones.includes(zone))) {
    errors.push({
      param: 'Placement.Zone',
      code: 'UnauthorizedOperation.ZoneNotAllowed',
      message: `${zone === undefined ? 'must be given: ALLOWED_ZONES is set' : `${zone} is not allowed by ALLOWED_ZONES`} (${policy.allowedZones.join(', ')})`,
    });
  }
  if (policy.allowedInstanceTypes) {
    const type = request.InstanceType;
    if (type === undefined) {
      errors.push({
        param: 'InstanceType',
        code: 'UnauthorizedOperation.InstanceTypeNotAllowed',
        message: 'must be given: ALLOWED_INSTANCE_TYPES is set, and Tencent would otherwise pick any type',
      });
    } else if (!typeAllowed(type, policy.allowedInstanceTypes)) {
      errors.push({
        param: 'InstanceType',
        code: 'UnauthorizedOperation.InstanceTypeNotAllowed',
        message: `${type} is not allowed by ALLOWED_INSTANCE_TYPES (${policy.allowedInstanceTypes.join(', ')})`,
      });
    }
  }
  const count = request.InstanceCount ?? 1;
  if (policy.maxInstancesPerJob !== undefined && count > policy.maxInstancesPerJob) {
    errors.push({
      param: 'InstanceCount',
      code: 'UnauthorizedOperation.TooManyInstances',
      message: `${count} exceeds MAX_INSTANCES_PER_JOB (${policy.maxInstancesPerJob})`,
    });
  }
  return errors;
}

/** The guardrails the configuration sets (ALLOWED_ZONES, ALLOWED_INSTANCE_TYPES, MAX_INSTANCES_PER_JOB). */
export function policyFromConfig(config: Config): Policy {
  return {
    ...(config.ALLOWED_ZONES ? { allowedZones: config.ALLOWED_ZONES } : {}),
    ...(config.ALLOWED_INSTANCE_TYPES ? { allowedInstanceTypes: config.ALLOWED_INSTANCE_TYPES } : {}),
    ...(config.MAX_INSTANCES_PER_JOB ? { maxInstancesPerJob: config.MAX_INSTANCES_PER_JOB } : {}),
  };
}
