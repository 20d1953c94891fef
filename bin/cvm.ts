/**
 * Calls any CVM action with the configured credentials and endpoint — "is my key working?":
 *   npm run cvm -- DescribeInstances '{"Limit": 1}' --region ap-guangzhou
 * Prints the JSON Response and exits 0, or the classified error and exits 1. Usage errors exit 2.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config.ts';
import { createTencentClientFromConfig } from '../lib/deps.ts';
import { ConfigError, ProvisionerError, TencentApiError, UnknownOutcomeError } from '../lib/errors.ts';

const USAGE = "usage: npm run cvm -- <Action> '<json params>' [--region R] [--timeout-ms N]";

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const [action, json = '{}'] = parsed.positionals;
  if (!action || parsed.positionals.length > 2 || !/^[A-Z][A-Za-z0-9]+$/.test(action)) {
    console.error(USAGE);
    return 2;
  }
  let params: unknown;
  try {
    params = JSON.parse(json);
  } catch (error) {
    console.error(`the parameters are not JSON: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    console.error(`the parameters must be a JSON object\n${USAGE}`);
    return 2;
  }
  const rawTimeout = parsed.values['timeout-ms'];
  if (rawTimeout !== undefined && !/^[1-9]\d*$/.test(rawTimeout)) {
    console.error(`--timeout-ms must be a positive whole number of milliseconds\n${USAGE}`);
    return 2;
  }
  const timeout = rawTimeout === undefined ? undefined : Number(rawTimeout);
  try {
    const client = createTencentClientFromConfig(loadConfig());
    try {
      const response = await client.call(action, params as Record<string, unknown>, {
        ...(parsed.values.region ? { region: parsed.values.region } : {}),
        ...(timeout ? { timeoutMs: timeout } : {}),
      });
      console.log(JSON.stringify(response, null, 2));
      return 0;
    } finally {
      await client.close();
    }
  } catch (error) {
    console.log(JSON.stringify(describe(error), null, 2));
    return error instanceof ConfigError ? 2 : 1;
  }
}

function parse() {
  return parseArgs({
    options: { region: { type: 'string' }, 'timeout-ms': { type: 'string' } },
    allowPositionals: true,
  });
}

function describe(error: unknown) {
  if (error instanceof TencentApiError) {
    return {
      error: error.name,
      code: error.code,
      message: error.message,
      requestId: error.requestId,
      class: error.errorClass,
      retryable: error.retryable,
    };
  }
  if (error instanceof UnknownOutcomeError) {
    return {
      error: error.name,
      code: error.code,
      message: error.message,
      retryable: true,
      outcome: 'unknown',
    };
  }
  if (error instanceof ProvisionerError)
    return { error: error.name, code: error.code, message: error.message };
  return { error: 'Error', message: (error as Error).message };
}

process.exitCode = await main();
