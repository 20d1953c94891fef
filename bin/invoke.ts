/**
 * Runs one function of serverless.yml with `serverless invoke local` (osls) against the running local stack
 * (docs/local-stack.md, "serverless invoke local"):
 *   npm run invoke -- <function> <event file> [more `serverless invoke local` options, e.g. -e NAME=value]
 * The stack is found through <DATA_DIR>/stack.json (DATA_DIR as for npm start, default .data). The function's
 * answer is osls's output on stdout; the exit code is osls's (1 when the handler failed). Usage errors exit 2.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { devNull, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SLACK_API_PATH } from '../local/chat-sink.ts';
import { LOCAL_AWS } from '../local/emulators.ts';
import { type FunctionSpec, readFunctions } from '../local/functions.ts';
import type { LocalStackSettings } from '../local/main.ts';
import { readStackResources } from '../local/resources.ts';
import { SINK_PATH } from '../local/webhook-sink.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OSLS = join(ROOT, 'node_modules/osls/bin/serverless.js');
/** The stage the local stack names its resources with (local/stack.ts). */
const STAGE = 'local';
/** Beyond the function's own timeout: osls starting and serverless-esbuild bundling (3–8 s on two cores). */
const STARTUP_ALLOWANCE_S = 60;

class UsageError extends Error {}

function fail(message: string, code = 1): never {
  console.error(`npm run invoke: ${message}`);
  process.exit(code);
}

/** The function serverless.yml names so; `dead-letter` and `deadLetter` are the same function. */
function functionNamed(functions: readonly FunctionSpec[], name: string): FunctionSpec {
  const camel = (text: string) => text.replace(/-([a-z])/g, (_all, letter: string) => letter.toUpperCase());
  const found =
    functions.find((spec) => spec.name === name) ??
    functions.find((spec) => camel(spec.name) === camel(name));
  if (!found)
    throw new UsageError(
      `serverless.yml has no function ${name}: ${functions.map((spec) => spec.name).join(', ')}`,
    );
  return found;
}

/** The running stack's settings, or undefined when none runs with its data there. */
function runningStack(dataDir: string): LocalStackSettings | undefined {
  const file = join(dataDir, 'stack.json');
  if (!existsSync(file)) return undefined;
  const settings = JSON.parse(readFileSync(file, 'utf8')) as LocalStackSettings;
  try {
    process.kill(settings.pid, 0);
    return settings;
  } catch (error) {
    // Left by a stack that was killed: nothing listens there any more.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? settings : undefined;
  }
}

/** A secret as the stack chose it: the shell's, else the one it keeps under its data directory. */
function stackSecret(dataDir: string, name: string, file: string): string | undefined {
  if (process.env[name]) return process.env[name];
  const path = join(dataDir, file);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

const xml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * osls resolves an environment value `Ref: <logicalId>` before it applies `-e` (invoke local's
 * before:invoke:local:loadEnvVars hook), by asking CloudFormation for the deployed stack's resources
 * (ListStackResources). This answers that one call on loopback with the local stack's table and queues, so a
 * `Ref` means what it means deployed: the table's name, the queue's URL.
 */
async function startCloudFormation(stackName: string, physicalIds: Record<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const ns = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
      if (form.get('Action') !== 'ListStackResources' || form.get('StackName') !== stackName) {
        const message = `the local stand-in answers only ListStackResources of ${stackName}`;
        res.writeHead(400, { 'content-type': 'text/xml' });
        res.end(
          `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>${xml(message)}</Message></Error><RequestId>local</RequestId></ErrorResponse>`,
        );
        return;
      }
      const members = Object.entries(physicalIds)
        .map(
          ([logicalId, physicalId]) =>
            `<member><LogicalResourceId>${xml(logicalId)}</LogicalResourceId><PhysicalResourceId>${xml(physicalId)}</PhysicalResourceId><ResourceStatus>CREATE_COMPLETE</ResourceStatus></member>`,
        )
        .join('');
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<ListStackResourcesResponse xmlns="${ns}"><ListStackResourcesResult><StackResourceSummaries>${members}</StackResourceSummaries></ListStackResourcesResult><ResponseMetadata><RequestId>local</RequestId></ResponseMetadata></ListStackResourcesResponse>`,
      );
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return server;
}

/**
 * osls 4.3.1 loads a Node handler with `require('<dir>/handlers/api')`, then `…/api.cjs`; never the `.mjs` that
 * serverless-esbuild writes for this project (custom.esbuild.outputFileExtension) and that Lambda's Node
 * runtimes load. This resolve hook, in the osls process only, lets that require find `<handler>.mjs` under the
 * bundle folder; Node 24 then requires the ES module synchronously.
 */
const mjsHandlers = (buildDir: string) =>
  `data:text/javascript,${encodeURIComponent(`
import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';
const buildDir = ${JSON.stringify(buildDir)};
registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (error) {
      const mjs = specifier + '.mjs';
      if (!specifier.startsWith(buildDir) || !existsSync(mjs)) throw error;
      return next(mjs, context);
    }
  },
});`)}`;

/**
 * A service directory of its own for this run: the project's entries linked, serverless.yml copied (osls wants
 * a regular file). serverless-esbuild bundles into `<service dir>/.esbuild`, which `serverless package` in the
 * project directory deletes when it ends: one run's bundle cannot vanish under another's.
 */
function serviceDir(): string {
  // Its real path: osls names the handler by the real working directory, which the hook compares with.
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'cvmp-invoke-')));
  for (const name of readdirSync(ROOT)) {
    if (['.esbuild', '.serverless', '.git', '.data'].includes(name)) continue;
    if (name === 'serverless.yml') copyFileSync(join(ROOT, name), join(dir, name));
    else symlinkSync(join(ROOT, name), join(dir, name));
  }
  return dir;
}

async function main(): Promise<number> {
  const [name, eventFile, ...more] = process.argv.slice(2);
  if (!name || !eventFile || name.startsWith('-'))
    throw new UsageError(
      'usage: npm run invoke -- <function> <event file> [serverless invoke local options]',
    );
  const { service, functions } = readFunctions(join(ROOT, 'serverless.yml'));
  const spec = functionNamed(functions, name);
  const event = resolve(eventFile);
  if (!existsSync(event)) throw new UsageError(`no event file ${eventFile}`);
  const dataDir = process.env.DATA_DIR || '.data';
  const stack = runningStack(dataDir);
  if (!stack)
    fail(
      `no local stack is running with its data in ${dataDir}/: start one with npm start (or set DATA_DIR to its data directory)`,
    );
  const tencentKeys = stack.simulatorKey ?? {
    secretId: process.env.TENCENTCLOUD_SECRET_ID,
    secretKey: process.env.TENCENTCLOUD_SECRET_KEY,
    sessionToken: process.env.TENCENTCLOUD_SESSION_TOKEN,
  };
  if (!tencentKeys.secretId || !tencentKeys.secretKey)
    fail(
      `the stack calls ${stack.tencentEndpoint}: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY for it`,
    );

  const { table } = readStackResources(STAGE, join(ROOT, 'serverless.yml'));
  const cloudFormation = await startCloudFormation(`${service}-${STAGE}`, {
    [table.logicalId]: stack.tableName,
    ...stack.queueUrls,
  });
  // What the stack gives its functions (local/stack.ts), but for AUTH_MODE and API_TOKENS: serverless.yml's
  // iam mode stays, so the events of events/api (API Gateway's IAM authorizer context) work as deployed.
  // Passed with -e, which osls applies last, over serverless.yml's own values ("false" for
  // WEBHOOK_ALLOW_PRIVATE, say).
  const settings: Record<string, string> = {
    AWS_REGION: LOCAL_AWS.region,
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: stack.sqsEndpoint,
    TENCENTCLOUD_ENDPOINT: stack.tencentEndpoint,
    WEBHOOK_ALLOW_PRIVATE: process.env.WEBHOOK_ALLOW_PRIVATE || 'true',
    SLACK_ALLOWED_USERS: process.env.SLACK_ALLOWED_USERS || '*',
    SLACK_API_URL: process.env.SLACK_API_URL || `${stack.url}${SLACK_API_PATH}`,
  };
  // Secrets only in osls's environment, never on its command line (where any local user could read them):
  // serverless.yml reads these from the environment (`${env:…}`), and the Tencent keys it does not name at all.
  // A webhook URL's path may hold a token.
  const secrets: Record<string, string | undefined> = {
    DEFAULT_WEBHOOK_URL: process.env.DEFAULT_WEBHOOK_URL || `${stack.url}${SINK_PATH}`,
    TENCENTCLOUD_SECRET_ID: tencentKeys.secretId,
    TENCENTCLOUD_SECRET_KEY: tencentKeys.secretKey,
    TENCENTCLOUD_SESSION_TOKEN: tencentKeys.sessionToken,
    IDEMPOTENCY_SECRET: stackSecret(dataDir, 'IDEMPOTENCY_SECRET', 'idempotency-secret'),
    WEBHOOK_SECRET: stackSecret(dataDir, 'WEBHOOK_SECRET', 'webhook-secret'),
    SLACK_SIGNING_SECRET: stackSecret(dataDir, 'SLACK_SIGNING_SECRET', 'slack-signing-secret'),
  };
  const inherited = Object.fromEntries(
    // No AWS setting of the shell (a profile, real keys) reaches osls: everything AWS here is the emulators.
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')),
  );
  const env: Record<string, string | undefined> = {
    ...inherited,
    ...settings,
    ...secrets,
    // The emulators take any key; osls passes these to the handler as Lambda would its role's.
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_CONFIG_FILE: devNull,
    AWS_SHARED_CREDENTIALS_FILE: devNull,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_CLOUDFORMATION: `http://127.0.0.1:${(cloudFormation.address() as AddressInfo).port}`,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };

  const dir = serviceDir();
  const args = [
    '--enable-source-maps',
    '--import',
    mjsHandlers(join(dir, '.esbuild')),
    OSLS,
    'invoke',
    'local',
    '--function',
    spec.name,
    '--path',
    event,
    '--stage',
    STAGE,
    '--region',
    LOCAL_AWS.region,
    ...Object.entries(settings).flatMap(([key, value]) => ['-e', `${key}=${value}`]),
    ...more,
  ];
  console.error(
    `serverless invoke local -f ${spec.name} -p ${eventFile} against the local stack at ${stack.url} (DynamoDB ${stack.dynamodbEndpoint}, SQS ${stack.sqsEndpoint}, Tencent ${stack.tencentEndpoint})`,
  );
  try {
    return await run(args, dir, env, (spec.timeoutSeconds + STARTUP_ALLOWANCE_S) * 1000);
  } finally {
    cloudFormation.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs osls to its end, or stops it after `timeoutMs` (a handler left waiting keeps its process alive). */
function run(
  args: string[],
  cwd: string,
  env: Record<string, string | undefined>,
  timeoutMs: number,
): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, args, { cwd, env, stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const timer = setTimeout(() => {
    console.error(
      `npm run invoke: serverless invoke local did not end within ${timeoutMs / 1000} s; stopped`,
    );
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((done, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      done(code ?? 1);
    });
  });
}

try {
  process.exitCode = await main();
} catch (error) {
  if (error instanceof UsageError) fail(error.message, 2);
  throw error;
}
