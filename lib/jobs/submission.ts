import { InvalidRequestError, PolicyDeniedError } from '../errors.ts';
import { type ProfileName, type RunInstancesRequest, validateRunInstances } from '../run-instances/index.ts';
import { type ControlFields, checkControlFields } from './control-fields.ts';
import { DERIVED_CLIENT_TOKEN_PREFIX, isReservedClientToken } from './model.ts';
import { checkPolicy, type Policy } from './policy.ts';

/** What a request must satisfy before it is a job: the rules of RunInstances, our control fields, policy. */
export interface SubmissionRules {
  profile: ProfileName;
  policy: Policy;
  extraZones?: readonly string[];
  now: number;
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
  if (!validation.ok || violations.length) throw new InvalidRequestError(violations);
  const denied = checkPolicy(validation.request, rules.policy);
  if (denied.length) throw new PolicyDeniedError(denied);
  return { request: validation.request, region: validation.region, control };
}
