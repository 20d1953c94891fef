import * as z from 'zod/mini';
import type { ParamError } from '../errors.ts';
import { type ProfileName, RESERVED_NAMES, schemaFor } from '../run-instances/index.ts';

/**
 * Fields of our own that ride along with the RunInstances parameters and never reach Tencent
 * (docs/http-api.md, "Control fields").
 * Lower-case initials keep them apart from Tencent's PascalCase names.
 */
export const CONTROL_FIELDS = ['webhookUrl', 'metadata', 'minCount'] as const;

/** metadata: a flat map of short strings, echoed in every event. */
export const METADATA_LIMITS = { maxEntries: 20, maxKeyLength: 64, maxValueLength: 256 } as const;
/**
 * Keys a flattened form can carry as well as JSON (`metadata.<key>=…`): no `.` (the form would nest it) and
 * not all digits (the form would make a list) — the same key, the same rule, whichever way it came.
 */
const METADATA_KEY = /^(?!\d+$)[A-Za-z0-9_:-]+$/;
const MAX_URL_LENGTH = 2048;

export interface ControlFields {
  webhookUrl: string | null;
  metadata: Record<string, string>;
  /** All or nothing: fewer instances than this RUNNING → the job terminates them and fails (null: off). */
  minCount: number | null;
}

/**
 * The control fields' shapes, for the flattened form (which leaves are integers) and the OpenAPI document.
 * Their checks are checkControlFields' and checkSubmission's, whose messages say which rule failed.
 */
export const CONTROL_FIELDS_SHAPE = {
  webhookUrl: z.optional(
    z.string().check(z.maxLength(MAX_URL_LENGTH)).register(z.globalRegistry, {
      description: "An https URL that receives this job's events, besides any configured default.",
      format: 'uri',
    }),
  ),
  metadata: z.optional(
    z
      .record(z.string().check(z.regex(METADATA_KEY), z.maxLength(METADATA_LIMITS.maxKeyLength)), z.string())
      .register(z.globalRegistry, {
        description: `Up to ${METADATA_LIMITS.maxEntries} short strings of your own, echoed in every event.`,
      }),
  ),
  minCount: z.optional(
    z.int().check(z.minimum(1)).register(z.globalRegistry, {
      description:
        'All or nothing: if fewer than this many instances reach RUNNING, the job terminates the ones it launched and ends FAILED with code MinCountNotMet. At most InstanceCount.',
    }),
  ),
} as const satisfies Record<(typeof CONTROL_FIELDS)[number], z.ZodMiniType>;

const submissionSchemas = new Map<ProfileName, z.ZodMiniType>();

/** A submission's body as a schema: the profile's RunInstances parameters and the control fields. */
export function submissionSchemaFor(profile: ProfileName): z.ZodMiniType {
  let schema = submissionSchemas.get(profile);
  if (!schema) {
    schema = z.extend(schemaFor(profile), CONTROL_FIELDS_SHAPE);
    submissionSchemas.set(profile, schema);
  }
  return schema;
}

/** minCount: an integer from 1; checkSubmission holds it to the request's InstanceCount. */
function checkMinCount(value: unknown, errors: ParamError[]): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    errors.push({ param: 'minCount', code: 'InvalidParameter', message: 'must be an integer' });
    return null;
  }
  if (value < 1) {
    errors.push({ param: 'minCount', code: 'InvalidParameterValue.Range', message: 'must be at least 1' });
    return null;
  }
  return value;
}

function checkWebhookUrl(value: unknown, errors: ParamError[]): string | null {
  if (value === undefined) return null;
  const fail = (message: string, code = 'InvalidParameterValue') => {
    errors.push({ param: 'webhookUrl', code, message });
    return null;
  };
  if (typeof value !== 'string') return fail('must be a string', 'InvalidParameter');
  if (value.length > MAX_URL_LENGTH) return fail(`must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('must be an absolute https URL');
  }
  if (url.protocol !== 'https:') return fail('must use https');
  if (url.username || url.password) return fail('must not carry credentials');
  // Where it points (private addresses, DNS) is checked at delivery, on every attempt.
  return url.toString();
}

function checkMetadata(value: unknown, errors: ParamError[]): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push({
      param: 'metadata',
      code: 'InvalidParameter',
      message: 'must be an object of string values',
    });
    return {};
  }
  const entries = Object.entries(value);
  if (entries.length > METADATA_LIMITS.maxEntries) {
    errors.push({
      param: 'metadata',
      code: 'InvalidParameterValue.LimitExceeded',
      message: `holds ${entries.length} entries; at most ${METADATA_LIMITS.maxEntries} are allowed`,
    });
  }
  const metadata: Record<string, string> = {};
  for (const [key, item] of entries) {
    const param = `metadata.${key}`;
    if (RESERVED_NAMES.has(key)) {
      // The same rule as for the names of a form body (lib/run-instances/form.ts).
      errors.push({ param, code: 'InvalidParameter', message: `uses the reserved name "${key}"` });
    } else if (!METADATA_KEY.test(key) || key.length > METADATA_LIMITS.maxKeyLength) {
      errors.push({
        param,
        code: 'InvalidParameterValue',
        message: `keys must be 1-${METADATA_LIMITS.maxKeyLength} characters of letters, digits and _:- (not all digits)`,
      });
    } else if (typeof item !== 'string') {
      errors.push({ param, code: 'InvalidParameter', message: 'must be a string' });
    } else if (item.length > METADATA_LIMITS.maxValueLength || !item.isWellFormed()) {
      errors.push({
        param,
        code: 'InvalidParameterValue',
        message: `must be well-formed text of at most ${METADATA_LIMITS.maxValueLength} characters`,
      });
    } else {
      Object.defineProperty(metadata, key, {
        value: item,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return metadata;
}

/** Splits a request body into Tencent's parameters and our control fields (as given; see checkControlFields). */
export function splitControlFields(body: Record<string, unknown>): {
  request: Record<string, unknown>;
  control: Record<string, unknown>;
} {
  const request: Record<string, unknown> = {};
  const control: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const target = (CONTROL_FIELDS as readonly string[]).includes(key) ? control : request;
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return { request, control };
}

/** Checks the control fields of a request; unknown members are refused. */
export function checkControlFields(raw: Readonly<Record<string, unknown>>): {
  control: ControlFields;
  errors: ParamError[];
} {
  const errors: ParamError[] = [];
  for (const key of Object.keys(raw)) {
    if (!(CONTROL_FIELDS as readonly string[]).includes(key))
      errors.push({ param: key, code: 'UnknownParameter', message: 'is not a control field' });
  }
  const control = {
    webhookUrl: checkWebhookUrl(raw.webhookUrl, errors),
    metadata: checkMetadata(raw.metadata, errors),
    minCount: checkMinCount(raw.minCount, errors),
  };
  return { control, errors };
}
