export { CODES, type TencentCode, type Violation } from './codes.ts';
export { decodeFlattened, encodeForm, encodeRfc3986, FORM_LIMITS, flattenParams } from './form.ts';
export { getProfile, LIMITS, PROFILE_NAMES, type ProfileName, type ValidationProfile } from './profiles.ts';
export { REDACTED, redactRequest } from './redact.ts';
export { KNOWN_REGIONS, regionFromZone } from './regions.ts';
export { type RunInstancesRequest, schemaFor } from './schema.ts';
export {
  API_ACTION,
  API_VERSION,
  jsonSyntaxViolation,
  type ValidateOptions,
  type ValidationResult,
  validateFlattenedRunInstances,
  validateRunInstances,
} from './validate.ts';
