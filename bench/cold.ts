/**
 * Cold-start benchmark (issue 14), printing figures only. For each function of serverless.yml:
 *   - its bundle as serverless-esbuild builds it (bundle, minify, ESM, node24, the createRequire banner);
 *   - its cold import-and-init time: the bundle imported by a fresh Node process with the environment the
 *     handler's module scope needs (configuration read, clients, logger and metrics built), median of RUNS;
 *   - the same without the Powertools pieces: lib/log.ts and lib/metrics.ts swapped at bundle time for plain
 *     stand-ins with the same exports (bench/cold/);
 *   - against the AWS SDK clients the function uses, alone (imported and constructed): the goal is <= 1.3x.
 * With @aws-lambda-powertools/tracer at hand, also each function with a Tracer constructed first: the project
 * does not install it (docs/operating.md, "Tracing"), so point --tracer-from at a node_modules holding it, e.g.
 * `npm install --prefix /tmp/tracer @aws-lambda-powertools/tracer@2.35.0`, then `--tracer-from
 * /tmp/tracer/node_modules` (its @aws-lambda-powertools/commons is taken from the project, as one install would).
 *   npm run bench:cold [-- --runs 21] [--analyze api] [--tracer-from DIR]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { analyzeMetafile, type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    analyze: { type: 'string' },
    'tracer-from': { type: 'string' },
  },
});
const RUNS = Math.max(15, Number(args.runs) || 15);
const GOAL = 1.3;

/** The SDK clients, as a function's composition root builds them (lib/deps/aws.ts, lib/deps.ts). */
const CLIENTS = {
  sqs: { from: '@aws-sdk/client-sqs', build: 'new m.SQSClient({})' },
  dynamodb: {
    from: '@aws-sdk/lib-dynamodb',
    also: '@aws-sdk/client-dynamodb',
    build: 'm.DynamoDBDocumentClient.from(new also.DynamoDBClient({}))',
  },
  secretsManager: { from: '@aws-sdk/client-secrets-manager', build: 'new m.SecretsManagerClient({})' },
} as const;
type ClientName = keyof typeof CLIENTS;

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012';
/** What every function gets on Lambda (and what Powertools reads), plus the settings serverless.yml gives all. */
const LAMBDA_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  JOBS_TABLE: 'cvm-provisioner-dev-jobs',
};
/** A worker's Tencent credentials come from Secrets Manager (read at the first call, not at init). */
const WORKER_ENV = { TENCENTCLOUD_CREDENTIALS_SECRET: 'cvm-provisioner/tencent' };

interface FunctionUnderTest {
  name: string;
  file: string;
  clients: readonly ClientName[];
  env: Record<string, string>;
}

/** Each function, the clients its composition root builds, and what its module scope needs to initialise. */
const FUNCTIONS: readonly FunctionUnderTest[] = [
  {
    name: 'api',
    file: 'handlers/api.ts',
    clients: ['sqs', 'dynamodb'],
    env: { SUBMIT_QUEUE_URL: `${QUEUE}/submit`, AUTH_MODE: 'iam' },
  },
  {
    name: 'chatops',
    file: 'handlers/chatops.ts',
    clients: ['sqs', 'dynamodb'],
    env: {
      SUBMIT_QUEUE_URL: `${QUEUE}/submit`,
      SLACK_SIGNING_SECRET: 'bench-signing-secret',
      SLACK_ALLOWED_USERS: '*',
    },
  },
  {
    name: 'submit',
    file: 'handlers/submit.ts',
    clients: ['sqs', 'dynamodb', 'secretsManager'],
    env: { SUBMIT_QUEUE_URL: `${QUEUE}/submit`, ...WORKER_ENV },
  },
  {
    name: 'deadLetter',
    file: 'handlers/dead-letter.ts',
    clients: ['sqs', 'dynamodb', 'secretsManager'],
    env: { SUBMIT_DLQ_URL: `${QUEUE}/submit-dlq`, ...WORKER_ENV },
  },
  {
    name: 'poll',
    file: 'handlers/poll.ts',
    clients: ['sqs', 'dynamodb', 'secretsManager'],
    env: { SUBMIT_QUEUE_URL: `${QUEUE}/submit`, WEBHOOK_SECRET: `whsec_${'A'.repeat(43)}=`, ...WORKER_ENV },
  },
];

/** serverless.yml's custom.esbuild settings (the source map is a separate file and is left out). */
const SERVERLESS_ESBUILD: BuildOptions = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'error',
  nodePaths: [join(ROOT, 'node_modules')],
};

/** Swaps the Powertools-backed modules for the plain stand-ins (an import of either, from anywhere). */
const withoutPowertools: Plugin = {
  name: 'without-powertools',
  setup(pluginBuild) {
    const swaps = new Map([
      [join(ROOT, 'lib/log.ts'), join(ROOT, 'bench/cold/plain-log.ts')],
      [join(ROOT, 'lib/metrics.ts'), join(ROOT, 'bench/cold/plain-metrics.ts')],
    ]);
    pluginBuild.onResolve({ filter: /(^|\/)(log|metrics)\.ts$/ }, (resolveArgs) => {
      const target = swaps.get(resolve(resolveArgs.resolveDir, resolveArgs.path));
      return target ? { path: target } : undefined;
    });
  },
};

const dir = mkdtempSync(join(tmpdir(), 'cvmp-cold-'));
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const kib = (bytes: number) => fmt(bytes / 1024);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

interface Bundle {
  file: string;
  bytes: number;
  gzip: number;
  metafile: Metafile;
  /** Bytes of @aws-lambda-powertools (and what it brings) in the bundle. */
  powertools: number;
}

async function bundle(name: string, options: BuildOptions): Promise<Bundle> {
  const file = join(dir, `${name}.mjs`);
  const result = await build({ ...SERVERLESS_ESBUILD, ...options, outfile: file });
  const metafile = result.metafile as Metafile;
  const text = readFileSync(file);
  const output = Object.values(metafile.outputs)[0];
  const powertools = Object.entries(output?.inputs ?? {})
    .filter(([path]) => /@aws-lambda-powertools|@aws\/lambda-invoke-store/.test(path))
    .reduce((sum, [, input]) => sum + input.bytesInOutput, 0);
  return { file, bytes: statSync(file).size, gzip: gzipSync(text).length, metafile, powertools };
}

/** An entry module written to the scratch directory (its bare imports resolve from the project). */
function entry(name: string, source: string): string {
  const file = join(dir, `${name}-entry.mjs`);
  writeFileSync(file, source);
  return file;
}

function sdkEntry(fn: FunctionUnderTest): string {
  const lines = fn.clients.flatMap((client, i) => {
    const spec = CLIENTS[client];
    return [
      `import * as m${i} from '${spec.from}';`,
      ...('also' in spec ? [`import * as also${i} from '${spec.also}';`] : []),
    ];
  });
  const builds = fn.clients.map((client, i) =>
    CLIENTS[client].build.replace(/\bm\./g, `m${i}.`).replace(/\balso\./g, `also${i}.`),
  );
  return entry(`${fn.name}-sdk`, `${lines.join('\n')}\nexport const clients = [${builds.join(', ')}];\n`);
}

/** Where the Tracer comes from: --tracer-from, or the project's own node_modules if it were installed. */
const tracerModules = args['tracer-from'] ? resolve(args['tracer-from']) : join(ROOT, 'node_modules');
const tracerInstalled = existsSync(join(tracerModules, '@aws-lambda-powertools/tracer/package.json'));
/** The Tracer's bare imports resolve from its own install, but Powertools' commons from the project's. */
const tracerFrom: Plugin = {
  name: 'tracer-from',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@aws-lambda-powertools\/tracer$/ }, (resolveArgs) =>
      resolveArgs.resolveDir === tracerModules
        ? undefined
        : pluginBuild.resolve(resolveArgs.path, { kind: resolveArgs.kind, resolveDir: tracerModules }),
    );
    pluginBuild.onResolve({ filter: /^@aws-lambda-powertools\/commons/ }, (resolveArgs) =>
      resolveArgs.resolveDir.startsWith(tracerModules) && tracerModules !== join(ROOT, 'node_modules')
        ? pluginBuild.resolve(resolveArgs.path, { kind: resolveArgs.kind, resolveDir: ROOT })
        : undefined,
    );
  },
};

interface Variants {
  fn: FunctionUnderTest;
  built: Bundle;
  plain: Bundle;
  sdk: Bundle;
  tracer?: Bundle;
}

const variants: Variants[] = [];
for (const fn of FUNCTIONS) {
  const handler = join(ROOT, fn.file);
  variants.push({
    fn,
    built: await bundle(fn.name, { entryPoints: [handler] }),
    plain: await bundle(`${fn.name}-plain`, { entryPoints: [handler], plugins: [withoutPowertools] }),
    sdk: await bundle(`${fn.name}-sdk`, { entryPoints: [sdkEntry(fn)] }),
    ...(tracerInstalled
      ? {
          tracer: await bundle(`${fn.name}-tracer`, {
            plugins: [tracerFrom],
            entryPoints: [
              entry(
                `${fn.name}-tracer`,
                `import { Tracer } from '@aws-lambda-powertools/tracer';\nexport const tracer = new Tracer({ serviceName: '${fn.name}' });\nexport * from ${JSON.stringify(handler)};\n`,
              ),
            ],
          }),
        }
      : {}),
  });
}

/**
 * Import time of a bundle in a fresh Node process, module evaluation and the handler's module scope included:
 * wall-clock (the cold start's own measure), and the process's CPU time over the same span, which other
 * processes on a shared machine disturb less.
 */
function coldImport(file: string, env: Record<string, string>): { wallMs: number; cpuMs: number } {
  const script =
    'const c = process.cpuUsage(); const t = performance.now(); ' +
    `await import(${JSON.stringify(file)}); ` +
    'const u = process.cpuUsage(c); console.log(performance.now() - t, (u.user + u.system) / 1000);';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...LAMBDA_ENV, ...env },
  });
  const [wallMs = Number.NaN, cpuMs = Number.NaN] = out.toString().trim().split(' ').map(Number);
  return { wallMs, cpuMs };
}

type Kind = 'built' | 'plain' | 'sdk' | 'tracer';
type Measure = 'wallMs' | 'cpuMs';
const kinds: Kind[] = ['built', 'plain', 'sdk', ...(tracerInstalled ? (['tracer'] as const) : [])];
const samples = new Map<string, Array<{ wallMs: number; cpuMs: number }>>();
const key = (fn: string, kind: Kind) => `${fn}:${kind}`;
// A first import of each warms the file cache; then the variants take turns, so drift hits them alike.
for (const v of variants) for (const kind of kinds) coldImport((v[kind] as Bundle).file, v.fn.env);
for (let run = 0; run < RUNS; run++) {
  for (const v of variants) {
    for (const kind of kinds) {
      const list = samples.get(key(v.fn.name, kind)) ?? [];
      list.push(coldImport((v[kind] as Bundle).file, v.fn.env));
      samples.set(key(v.fn.name, kind), list);
    }
  }
}
const series = (fn: string, kind: Kind, measure: Measure) =>
  (samples.get(key(fn, kind)) ?? []).map((sample) => sample[measure]);
/** A variant's median wall-clock time (or CPU time). */
const cold = (fn: string, kind: Kind, measure: Measure = 'wallMs') => median(series(fn, kind, measure));
/**
 * Ratios and differences pair the samples of one round (taken back to back), then take the median: a slower
 * stretch of the machine weighs on both sides of a pair alike.
 */
const paired = (
  fn: string,
  kind: Kind,
  other: Kind,
  combine: (a: number, b: number) => number,
  measure: Measure,
) => {
  const base = series(fn, other, measure);
  return median(series(fn, kind, measure).map((value, i) => combine(value, base[i] ?? Number.NaN)));
};
const ratio = (fn: string, kind: Kind, measure: Measure = 'wallMs') =>
  paired(fn, kind, 'sdk', (a, b) => a / b, measure);
const extra = (fn: string, kind: Kind, over: Kind) => paired(fn, kind, over, (a, b) => a - b, 'wallMs');

const row = (cells: Array<[string, number]>) => cells.map(([text, width]) => text.padEnd(width)).join('');
const ms = (value: number) => fmt(value, 1);
const cpu = cpus();
console.log(
  `cold import + init per function: ${RUNS} fresh Node processes per variant, taken in rounds; the medians of the rounds' ratios to the AWS SDK clients the function uses alone (goal <= ${GOAL}x) and of their differences; CPU: the same for the processes' CPU time`,
);
console.log('');
console.log(
  row([
    ['function', 11],
    ['clients', 34],
    ['ratio', 10],
    ['CPU ratio', 11],
    ['without Powertools', 20],
    ['Powertools adds', 17],
    [tracerInstalled ? 'with a Tracer' : '', 0],
  ]),
);
for (const { fn } of variants) {
  const built = ratio(fn.name, 'built');
  const added = extra(fn.name, 'built', 'plain');
  const tracer = tracerInstalled
    ? `${ratio(fn.name, 'tracer').toFixed(2)}x (${extra(fn.name, 'tracer', 'built').toFixed(1)} ms more)`
    : '';
  console.log(
    row([
      [fn.name, 11],
      [fn.clients.join(' + '), 34],
      [`${built.toFixed(2)}x${built <= GOAL ? '' : ' (!)'}`, 10],
      [`${ratio(fn.name, 'built', 'cpuMs').toFixed(2)}x`, 11],
      [`${ratio(fn.name, 'plain').toFixed(2)}x`, 20],
      [`${added >= 0 ? '+' : ''}${added.toFixed(1)} ms`, 17],
      [tracer, 0],
    ]),
  );
}
if (!tracerInstalled)
  console.log('(no @aws-lambda-powertools/tracer at hand, see --tracer-from: no Tracer variant)');
console.log('');
console.log(
  `machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown'}), ${platform()} ${release()}, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
);
console.log(
  row([
    ['function', 11],
    ['bundle KiB (gzip)', 19],
    ['Powertools KiB', 16],
    ['without KiB', 13],
    ['clients KiB', 13],
    ['cold ms (CPU)', 16],
    ['without ms', 12],
    ['clients ms (CPU)', 18],
    [tracerInstalled ? 'Tracer ms (KiB)' : '', 0],
  ]),
);
for (const v of variants) {
  const name = v.fn.name;
  console.log(
    row([
      [name, 11],
      [`${kib(v.built.bytes)} (${kib(v.built.gzip)})`, 19],
      [kib(v.built.powertools), 16],
      [kib(v.plain.bytes), 13],
      [kib(v.sdk.bytes), 13],
      [`${ms(cold(name, 'built'))} (${ms(cold(name, 'built', 'cpuMs'))})`, 16],
      [ms(cold(name, 'plain')), 12],
      [`${ms(cold(name, 'sdk'))} (${ms(cold(name, 'sdk', 'cpuMs'))})`, 18],
      [v.tracer ? `${ms(cold(name, 'tracer'))} (${kib(v.tracer.bytes)})` : '', 0],
    ]),
  );
}

if (args.analyze) {
  const v = variants.find((candidate) => candidate.fn.name === args.analyze);
  if (!v)
    throw new Error(`--analyze: no function ${args.analyze} (${FUNCTIONS.map((f) => f.name).join(', ')})`);
  console.log(`\nwhat the ${v.fn.name} bundle holds (esbuild analyzeMetafile):`);
  console.log(await analyzeMetafile(v.built.metafile, { verbose: false }));
}
rmSync(dir, { recursive: true, force: true });
