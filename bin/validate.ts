/**
 * Pre-flight check of a RunInstances request as the API would take it (docs/http-api.md), for pipelines:
 *   npm run validate -- request.json
 *   npm run validate -- --form request.form
 *   cat request.json | npm run validate -- -
 * The body may carry the API's control fields (webhookUrl, metadata, minCount). Prints {"ok":true,"region":…,
 * "request":…} (password redacted) and exits 0, or {"ok":false,"errors":[…]} and exits 1 — invalid
 * parameters, or a guardrail (ALLOWED_ZONES, ALLOWED_INSTANCE_TYPES, MAX_INSTANCES_PER_JOB) that denies it.
 * Usage errors exit 2. Settings: VALIDATION_PROFILE (or --profile), EXTRA_ZONES and the guardrails.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadValidationSettings } from '../lib/config.ts';
import { RequestError } from '../lib/errors.ts';
import { parseRequestBody } from '../lib/http/body.ts';
import { splitControlFields } from '../lib/jobs/control-fields.ts';
import { policyFromConfig } from '../lib/jobs/policy.ts';
import { checkSubmission } from '../lib/jobs/submission.ts';
import { PROFILE_NAMES, redactRequest } from '../lib/run-instances/index.ts';

const USAGE = `usage: npm run validate -- [--form] [--profile ${PROFILE_NAMES.join('|')}] <file | ->`;
const HELP = `${USAGE}

Checks a RunInstances request (Tencent API 3.0 JSON, or with --form the flattened form of Tencent's examples)
against every rule the API applies, control fields (webhookUrl, metadata, minCount) and guardrails included, without
sending or storing anything.

  npm run validate -- events/seed/example-2.json
  npm run validate -- --form events/seed/example-2.form
  echo '{"Placement":{"Zone":"ap-guangzhou-3"},"ImageId":"img-pmqg1cw7"}' | npm run validate -- -

Exit status: 0 valid, 1 refused (every violation listed), 2 usage error.
Settings: VALIDATION_PROFILE (${PROFILE_NAMES.join(' or ')}; --profile overrides), EXTRA_ZONES, ALLOWED_ZONES,
ALLOWED_INSTANCE_TYPES, MAX_INSTANCES_PER_JOB.`;

const looksLikeJson = (text: string) => /^\s*[{[]/.test(text);
const looksLikeForm = (text: string) => /^\s*[A-Za-z][A-Za-z0-9.]*=/.test(text);

function usage(message: string): number {
  console.error(`${message}\n${USAGE}`);
  return 2;
}

function main(): number {
  let args: ReturnType<typeof parse>;
  try {
    args = parse();
  } catch (error) {
    return usage((error as Error).message);
  }
  if (args.values.help) {
    console.log(HELP);
    return 0;
  }
  const [file] = args.positionals;
  if (file === undefined || args.positionals.length > 1)
    return usage('give one file, or - for standard input');
  let settings: ReturnType<typeof loadValidationSettings>;
  try {
    settings = loadValidationSettings(
      args.values.profile ? { ...process.env, VALIDATION_PROFILE: args.values.profile } : process.env,
    );
  } catch (error) {
    return usage((error as Error).message);
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(file === '-' ? 0 : file);
  } catch (error) {
    return usage(`cannot read ${file}: ${(error as Error).message}`);
  }
  const head = bytes.subarray(0, 256).toString('latin1');
  if (!args.values.form && !looksLikeJson(head) && looksLikeForm(head))
    return usage(`${file} looks like a flattened form (Placement.Zone=…): add --form`);
  if (args.values.form && looksLikeJson(head)) return usage(`${file} looks like JSON: leave out --form`);

  // A form file's final newline is the editor's, not a parameter's: `curl --data @file` leaves it out too.
  if (args.values.form) {
    let end = bytes.length;
    while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
    bytes = bytes.subarray(0, end);
  }
  const profile = settings.VALIDATION_PROFILE;
  let body: Record<string, unknown>;
  try {
    // Exactly as the API reads a body: its bytes, strict UTF-8, the same size limit and decoders.
    body = parseRequestBody(
      {
        headers: {
          'content-type': args.values.form ? 'application/x-www-form-urlencoded' : 'application/json',
        },
        body: bytes.toString('base64'),
        isBase64Encoded: true,
      },
      profile,
    );
  } catch (error) {
    if (error instanceof RequestError)
      return refused(
        error.violations.length
          ? error.violations
          : [{ param: '(body)', code: error.code, message: error.message }],
      );
    throw error;
  }
  try {
    const checked = checkSubmission(
      {
        profile,
        policy: policyFromConfig(settings),
        now: Date.now(),
        ...(settings.EXTRA_ZONES ? { extraZones: settings.EXTRA_ZONES } : {}),
      },
      splitControlFields(body),
    );
    const { webhookUrl, metadata, minCount } = checked.control;
    console.log(
      JSON.stringify(
        {
          ok: true,
          region: checked.region,
          request: redactRequest(checked.request),
          ...(webhookUrl ? { webhookUrl } : {}),
          ...(Object.keys(metadata).length ? { metadata } : {}),
          ...(minCount === null ? {} : { minCount }),
        },
        null,
        2,
      ),
    );
    return 0;
  } catch (error) {
    if (error instanceof RequestError) return refused(error.violations);
    throw error;
  }
}

function refused(errors: ReadonlyArray<{ param: string; code: string; message: string }>): number {
  console.log(JSON.stringify({ ok: false, errors }, null, 2));
  return 1;
}

function parse() {
  return parseArgs({
    options: {
      form: { type: 'boolean', default: false },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
}

process.exitCode = main();
