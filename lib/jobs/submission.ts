import { InvalidRequestError, type ParamError, PolicyDeniedError } from '../errors.ts';
import { type ProfileName, type RunInstancesRequest, validateRunInstances } from '../run-instances/index.ts';
import { type ControlFields, checkControlFields } from './control-fields.ts';
import { DERIVED_CLIENT_TOKEN_PREFIX, isReservedClientToken, JOB_TAG_KEY } from './model.ts';
import { checkPolicy, type Policy } from './policy.ts';

/** What a request must satisfy before it is a job: the rules of RunInstances, our control fields, policy. */
export interface SubmissionRules {
  profile: ProfileName;
  policy: Policy;
  extraZones?: readonly string[];
  now: number;
}

/** The rules a deployment's dependencies set (its profile, policy, extra zones), at this moment. */
export function submissionRules(deps: {
  profile: ProfileName;
  policy: Policy;
  extraZones?: readonly string[];
  now: () => number;
}): SubmissionRules {
  return {
    profile: deps.profile,
    policy: deps.policy,
    now: deps.now(),
    ...(deps.extraZones ? { extraZones: deps.extraZones } : {}),
  };
}

export interface CheckedSubmission {
  request: RunInstancesRequest;
  region: string;
  control: ControlFields;
}

/**
 * Checks a submission without accepting it (the pre-flight of `npm run validate`, and the first step of
 * acceptJob): every violation of the RunInstances rules and of our control fields → InvalidRequestError;
 * then the policy guardrails → PolicyDeniedError. Nothing is stored.
 */
export function checkSubmission(
  rules: SubmissionRules,
  input: { request: Record<string, unknown>; control?: Readonly<Record<string, unknown>> },
): CheckedSubmission {
  const { control, errors } = checkControlFields(input.control ?? {});
  const validation = validateRunInstances(input.request, {
    profile: rules.profile,
    now: rules.now,
    ...(rules.extraZones ? { extraZones: rules.extraZones } : {}),
  });
  const violations = [...(validation.ok ? [] : validation.errors), ...errors];
  const token = validation.ok ? validation.request.ClientToken : undefined;
  if (token !== undefined && isReservedClientToken(token)) {
    violations.push({
      param: 'ClientToken',
      code: 'InvalidClientToken.Reserved',
      message: `must not start with ${DERIVED_CLIENT_TOKEN_PREFIX}: this service derives such tokens from job ids; choose another, or send none`,
    });
  }
  if (validation.ok)
    violations.push(
      ...jobTagViolations(validation.request),
      ...minCountViolations(validation.request, control),
    );
  if (!validation.ok || violations.length) throw new InvalidRequestError(violations);
  const denied = checkPolicy(validation.request, rules.policy);
  if (denied.length) throw new PolicyDeniedError(denied);
  return { request: validation.request, region: validation.region, control };
}

/** Tencent's limit of tags on one resource; the submitter adds one of its own (lib/submit/request.ts). */
export const MAX_INSTANCE_TAGS = 50;

/**
 * The instance tag the submitter adds (JOB_TAG_KEY) is its own: a caller may not set it — it would let a job
 * claim another job's instances — and must leave it room under Tencent's 50 tags per instance.
 */
function jobTagViolations(request: RunInstancesRequest): ParamError[] {
  const violations: ParamError[] = [];
  let instanceTags = 0;
  (request.TagSpecification ?? []).forEach((spec, i) => {
    if (spec.ResourceType !== 'instance') return;
    instanceTags += spec.Tags.length;
    spec.Tags.forEach((tag, j) => {
      if (tag.Key.trim().toLowerCase() === JOB_TAG_KEY)
        violations.push({
          param: `TagSpecification.${i}.Tags.${j}.Key`,
          code: 'FailedOperation.TagKeyReserved',
          message: `${JOB_TAG_KEY} is reserved: this service tags every instance with its job id`,
        });
    });
  });
  if (instanceTags >= MAX_INSTANCE_TAGS)
    violations.push({
      param: 'TagSpecification',
      code: 'InvalidParameterValue.LimitExceeded',
      message: `gives the instances ${instanceTags} tags; at most ${MAX_INSTANCE_TAGS - 1}, as this service adds ${JOB_TAG_KEY}`,
    });
  return violations;
}

/**
 * minCount is kept to what the job can do: no more than the instances asked for, and instances it may
 * terminate (termination protection would leave the ones it must roll back running).
 */
function minCountViolations(request: RunInstancesRequest, control: ControlFields): ParamError[] {
  if (control.minCount === null) return [];
  const count = request.InstanceCount ?? 1;
  if (control.minCount > count)
    return [
      {
        param: 'minCount',
        code: 'InvalidParameterValue.Range',
        message: `is ${control.minCount}, more than the ${count} instance${count === 1 ? '' : 's'} InstanceCount asks for`,
      },
    ];
  if (request.DisableApiTermination === true)
    return [
      {
        param: 'minCount',
        code: 'InvalidParameterCombination',
        message:
          'cannot be met by terminating instances that DisableApiTermination protects: send one of them, not both',
      },
    ];
  return [];
}
