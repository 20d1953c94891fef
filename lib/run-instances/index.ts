export { CODES, type TencentCode, type Violation } from './codes.ts';
export { decodeFlattened, FORM_LIMITS, RESERVED_NAMES } from './form.ts';
export { getProfile, LIMITS, PROFILE_NAMES, type ProfileName, type ValidationProfile } from './profiles.ts';
export { REDACTED, redactRequest } from './redact.ts';
export { KNOWN_REGIONS, regionFromZone } from './regions.ts';
export { childSchema, memberNames, type RunInstancesRequest, schemaFor } from './schema.ts';
export {
  API_ACTION,
  COMMON_PARAMETERS,
  jsonSyntaxViolation,
  type ValidateOptions,
  type ValidationResult,
  validateFlattenedRunInstances,
  validateRunInstances,
} from './validate.ts';
