import type * as z from 'zod/mini';
import { CVM_API_VERSION } from '../tencent/wire.ts';
import { CODES, type TencentCode, type Violation } from './codes.ts';
import { decodeFlattened } from './form.ts';
import { getProfile, LATER_PARAMETERS, type ProfileName } from './profiles.ts';
import { regionFromZone } from './regions.ts';
import { CROSS_FIELD_RULES } from './rules.ts';
import { childSchema, memberNames, type RunInstancesRequest, type SchemaNode, schemaFor } from './schema.ts';
import { suggestName } from './suggest.ts';
import { isKnownRegion, isKnownZone, zoneHint } from './zones.ts';

/**
 * Tencent common parameters a caller may send beside the business ones (docs/tencent.md, "Common
 * parameters").
 */
export const API_ACTION = 'RunInstances';
/** The common parameters a request may carry beside its business parameters (they must agree with it). */
export const COMMON_PARAMETERS = ['Action', 'Version', 'Region'] as const;

export type ValidationResult =
  | { ok: true; region: string; request: RunInstancesRequest }
  | { ok: false; errors: Violation[] };

export interface ValidateOptions {
  profile: ProfileName;
  /** For ActionTimer's "more than 5 minutes ahead": epoch milliseconds, the current time by default. */
  now?: number;
  /** Zones to admit beyond the catalog (EXTRA_ZONES). */
  extraZones?: readonly string[];
}

const DEFAULT_CODES: Readonly<Record<string, TencentCode>> = {
  invalid_type: CODES.invalidParameter,
  invalid_value: CODES.invalidValue,
  invalid_format: CODES.invalidValue,
  'too_big:number': CODES.range,
  'too_small:number': CODES.range,
  'too_big:array': CODES.limitExceeded,
  'too_small:array': CODES.invalidValue,
  'too_big:string': CODES.invalidValue,
  'too_small:string': CODES.invalidValue,
};

const EXPECTED: Readonly<Record<string, string>> = {
  number: 'an integer',
  int: 'an integer',
  string: 'a string',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  array: 'an array',
};

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function schemaAt(root: SchemaNode, path: ReadonlyArray<PropertyKey>): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  for (const key of path) node = childSchema(node, typeof key === 'number' ? key : String(key));
  return node;
}

const dotted = (path: ReadonlyArray<PropertyKey>) => path.map(String).join('.');
const normalised = (path: ReadonlyArray<PropertyKey>) =>
  path.map((k) => (typeof k === 'number' ? 'N' : String(k))).join('.');

/** The longest caller text a message quotes; the rest is elided. */
const MAX_QUOTED = 64;

/**
 * A caller's value as a message shows it: a primitive quoted (and cut short), anything else by its kind only.
 * Never recursive, so no depth of nesting can make a message expensive, and nothing nested is echoed.
 */
export function shown(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const cut = value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}…` : value;
    return JSON.stringify(cut);
  }
  return String(value);
}

function describe(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined ? 'is required' : `must be ${EXPECTED[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')} (got ${shown(value)})`;
    case 'too_big':
      if (issue.origin === 'array')
        return `accepts at most ${issue.maximum} item${issue.maximum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      return `must be at most ${issue.maximum} (got ${shown(value)})`;
    case 'too_small':
      if (issue.origin === 'array') return 'must not be empty';
      if (issue.origin === 'string') return 'must not be empty';
      return `must be at least ${issue.minimum} (got ${shown(value)})`;
    case 'invalid_format':
      return 'has an invalid format';
    default:
      return issue.message;
  }
}

function unknownKeyViolations(
  issue: z.core.$ZodIssueUnrecognizedKeys,
  schema: SchemaNode,
  profile: ProfileName,
): Violation[] {
  const known = memberNames(schemaAt(schema, issue.path));
  return issue.keys.map((key) => {
    const path = [...issue.path, key];
    const param = key === '' ? dotted([...issue.path, '(empty name)']) : dotted(path);
    const since = LATER_PARAMETERS.get(normalised(path));
    let message = 'is not a RunInstances parameter';
    if (since && !getProfile(profile).laterParametersKnown) {
      message = `is not part of the ${profile} RunInstances API (added ${since}); set VALIDATION_PROFILE=current to use it`;
    } else {
      const hint = suggestName(key, known);
      if (hint) message += `; did you mean ${dotted([...issue.path, hint])}?`;
    }
    return { param, code: CODES.unknownParameter, message };
  });
}

function issueViolations(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  schema: SchemaNode,
  profile: ProfileName,
) {
  const out: Violation[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      out.push(...unknownKeyViolations(issue, schema, profile));
      continue;
    }
    const value = valueAt(input, issue.path);
    const param = dotted(issue.path);
    let code: TencentCode | undefined;
    if (issue.code === 'custom') code = (issue.params as { code?: TencentCode } | undefined)?.code;
    else if (issue.code === 'invalid_type' && value === undefined) code = CODES.missing;
    else if (issue.code === 'too_big' || issue.code === 'too_small')
      code = DEFAULT_CODES[`${issue.code}:${issue.origin}`];
    else code = DEFAULT_CODES[issue.code];
    out.push({ param, code: code ?? CODES.invalidValue, message: describe(issue, value) });
  }
  return out;
}

function commonParameterViolations(
  input: Record<string, unknown>,
  zoneRegion: string | undefined,
  extraZones: readonly string[] | undefined,
): Violation[] {
  const out: Violation[] = [];
  if (input.Action !== undefined && input.Action !== API_ACTION) {
    out.push({
      param: 'Action',
      code: CODES.invalidAction,
      message: `must be ${API_ACTION} (got ${shown(input.Action)})`,
    });
  }
  if (input.Version !== undefined && input.Version !== CVM_API_VERSION) {
    out.push({
      param: 'Version',
      code: CODES.noSuchVersion,
      message: `must be ${CVM_API_VERSION} (got ${shown(input.Version)})`,
    });
  }
  if (input.Region !== undefined) {
    if (typeof input.Region !== 'string') {
      out.push({ param: 'Region', code: CODES.invalidParameter, message: 'must be a string' });
    } else if (!isKnownRegion(input.Region, extraZones)) {
      out.push({
        param: 'Region',
        code: CODES.invalidValue,
        message: `${shown(input.Region)} is not a known CVM region`,
      });
    } else if (zoneRegion !== undefined && zoneRegion !== input.Region) {
      out.push({
        param: 'Region',
        code: CODES.zoneMismatchRegion,
        message: `is ${input.Region}, but Placement.Zone is in ${zoneRegion}`,
      });
    }
  }
  return out;
}

/**
 * Validates a RunInstances request (Tencent API 3.0 shape, common parameters Action/Version/Region allowed)
 * against one profile. Reports every violation with Tencent's dotted parameter and error code; on success
 * returns the region (from Placement.Zone) and the business parameters.
 */
export function validateRunInstances(input: unknown, options: ValidateOptions): ValidationResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return {
      ok: false,
      errors: [
        {
          param: '(body)',
          code: CODES.invalidParameter,
          message: 'must be a JSON object of RunInstances parameters',
        },
      ],
    };
  }
  const raw = input as Record<string, unknown>;
  // fromEntries defines own properties: a "__proto__" member of parsed JSON stays a (rejected) parameter
  // instead of becoming the object's prototype.
  const business: Record<string, unknown> = Object.fromEntries(
    Object.entries(raw).filter(([key]) => !(COMMON_PARAMETERS as readonly string[]).includes(key)),
  );
  const profile = getProfile(options.profile);
  const schema = schemaFor(options.profile);
  const parsed = schema.safeParse(business);
  const errors = parsed.success
    ? []
    : issueViolations(parsed.error.issues, business, schema, options.profile);

  const zone = valueAt(business, ['Placement', 'Zone']);
  let region = typeof zone === 'string' ? regionFromZone(zone) : undefined;
  if (typeof zone === 'string' && region !== undefined && !isKnownZone(zone, options.extraZones)) {
    const known = isKnownRegion(region, options.extraZones);
    errors.push({
      param: 'Placement.Zone',
      code: CODES.zoneMismatchRegion,
      message: `${shown(zone)} is not ${known ? `a zone of ${region}` : 'a CVM zone'}; ${zoneHint(
        zone,
        known ? region : undefined,
        options.extraZones,
      )}`,
    });
    region = undefined;
  }
  errors.push(...commonParameterViolations(raw, region, options.extraZones));
  const context = { request: business, profile, now: options.now ?? Date.now() };
  for (const rule of CROSS_FIELD_RULES) {
    // A parameter the profile does not know is already UnknownParameter; its combinations are moot.
    for (const violation of rule(context))
      if (profile.laterParametersKnown || !isLaterParameter(violation.param)) errors.push(violation);
  }

  if (errors.length > 0 || !parsed.success) return { ok: false, errors: dedupe(errors) };
  // With a LaunchTemplate and no Placement, the region can only come from the Region parameter.
  const resolved = region ?? (typeof raw.Region === 'string' ? raw.Region : undefined);
  if (resolved === undefined) {
    return {
      ok: false,
      errors: [
        { param: 'Region', code: CODES.missing, message: 'is required when Placement.Zone is not given' },
      ],
    };
  }
  return { ok: true, region: resolved, request: parsed.data };
}

/** Validates a flattened form body (`Placement.Zone=…&DataDisks.0.DiskSize=…`) the same way. */
export function validateFlattenedRunInstances(body: string, options: ValidateOptions): ValidationResult {
  const decoded = decodeFlattened(body, schemaFor(options.profile));
  return decoded.ok ? validateRunInstances(decoded.value, options) : decoded;
}

/** Whether a dotted parameter (or one of its parents) was added after 2017. */
function isLaterParameter(param: string): boolean {
  const parts = param.split('.').map((part) => (/^\d+$/.test(part) ? 'N' : part));
  for (let end = 1; end <= parts.length; end++)
    if (LATER_PARAMETERS.has(parts.slice(0, end).join('.'))) return true;
  return false;
}

function dedupe(errors: Violation[]): Violation[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.param}\u0000${e.code}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The violation for a body that is not JSON. Node's SyntaxError message quotes the input around the fault,
 * which may be a password, so only the position is kept.
 */
export function jsonSyntaxViolation(error: unknown): Violation {
  const at = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined;
  return {
    param: '(body)',
    code: CODES.invalidParameter,
    message: `is not valid JSON${at === undefined ? '' : ` (error at character ${at})`}`,
  };
}
