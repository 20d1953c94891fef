/**
 * Pre-flight check of a RunInstances request, for pipelines:
 *   npm run validate -- request.json
 *   npm run validate -- --form request.form
 *   cat request.json | npm run validate -- -
 * Prints {"ok":true,"region":…,"request":…} (password redacted) and exits 0, or {"ok":false,"errors":[…]}
 * and exits 1. Usage errors exit 2. The profile comes from VALIDATION_PROFILE or --profile.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadValidationProfile } from '../lib/config.ts';
import {
  jsonSyntaxViolation,
  PROFILE_NAMES,
  type ProfileName,
  redactRequest,
  type ValidationResult,
  validateFlattenedRunInstances,
  validateRunInstances,
} from '../lib/run-instances/index.ts';

const USAGE = `usage: npm run validate -- [--form] [--profile ${PROFILE_NAMES.join('|')}] <file | ->`;

function main(): number {
  let args: ReturnType<typeof parse>;
  try {
    args = parse();
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const [file] = args.positionals;
  if (file === undefined || args.positionals.length > 1) {
    console.error(USAGE);
    return 2;
  }
  let profile: ProfileName;
  try {
    // Only VALIDATION_PROFILE matters here; other settings (Tencent keys…) are not this tool's business.
    profile = (args.values.profile ?? loadValidationProfile()) as ProfileName;
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!PROFILE_NAMES.includes(profile)) {
    console.error(`unknown profile ${profile}\n${USAGE}`);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    console.error(`cannot read ${file}: ${(error as Error).message}`);
    return 2;
  }
  const result = args.values.form
    ? validateFlattenedRunInstances(text.trim(), { profile })
    : validateJson(text, profile);
  const output = result.ok ? { ...result, request: redactRequest(result.request) } : result;
  console.log(JSON.stringify(output, null, 2));
  return result.ok ? 0 : 1;
}

function parse() {
  return parseArgs({
    options: { form: { type: 'boolean', default: false }, profile: { type: 'string' } },
    allowPositionals: true,
  });
}

function validateJson(text: string, profile: ProfileName): ValidationResult {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    return { ok: false, errors: [jsonSyntaxViolation(error)] };
  }
  return validateRunInstances(input, { profile });
}

process.exitCode = main();
