import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { SERVERLESS_YML } from './resources.ts';

/**
 * The `functions` of serverless.yml, as the local runtime runs them (docs/local-stack.md): each function's
 * handler file and export, its timeout, its environment (provider's and its own, still unresolved) and its
 * event sources. Only what Lambda would use is read; anything the local runtime cannot honour is an error.
 */

export interface HttpApiSource {
  kind: 'httpApi';
  /** `METHOD /path/{param}`, as API Gateway names the route, or `$default` for the catch-all. */
  routeKey: string;
}

export interface SqsSource {
  kind: 'sqs';
  /** The logical id of the queue in `resources` (`arn: { Fn::GetAtt: [SubmitQueue, Arn] }`). */
  queue: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
  /** At most this many batches in flight (Lambda's ScalingConfig.MaximumConcurrency). */
  maximumConcurrency: number | undefined;
}

export interface ScheduleSource {
  kind: 'schedule';
  /** As written (`rate(1 minute)`); locally the schedule runs every POLL_INTERVAL_MS instead. */
  expression: string;
}

export type EventSource = HttpApiSource | SqsSource | ScheduleSource;

export interface FunctionSpec {
  name: string;
  /** The handler module, relative to the project root (`handlers/api.ts`), and its export (`handler`). */
  file: string;
  exportName: string;
  timeoutSeconds: number;
  memorySize: number;
  reservedConcurrency: number | undefined;
  /** provider.environment overlaid with the function's own, values as serverless.yml writes them. */
  environment: Record<string, unknown>;
  events: EventSource[];
  /** serverless.yml's `params`, which the environment's `${param:…}` values read (resolveEnvironment). */
  params?: StageParams;
}

/** serverless.yml's `params`: for each stage (and `default`), each parameter's value as written. */
export type StageParams = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export interface ServerlessFunctions {
  service: string;
  functions: FunctionSpec[];
}

/** Lambda's default timeout (the Serverless Framework's: 6 s) and memory, when serverless.yml gives none. */
const DEFAULT_TIMEOUT_SECONDS = 6;
const DEFAULT_MEMORY_MB = 1024;
/** Lambda's default batch size for an SQS event source. */
const DEFAULT_SQS_BATCH_SIZE = 10;

type Yaml = Record<string, unknown>;

const isObject = (value: unknown): value is Yaml =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function fail(where: string, what: string): never {
  throw new Error(`serverless.yml: ${where}: ${what}`);
}

function parseEvent(where: string, event: unknown): EventSource {
  if (!isObject(event)) fail(where, 'an event must be a mapping');
  const [kind, settings] = Object.entries(event)[0] ?? [];
  if (kind === 'httpApi') {
    // `httpApi: '*'` is API Gateway's catch-all route; `httpApi: 'GET /path'` the short form of a route.
    if (settings === '*') return { kind, routeKey: '$default' };
    if (typeof settings === 'string' && /^[A-Z]+ \//.test(settings)) return { kind, routeKey: settings };
    if (typeof settings === 'string') fail(where, `httpApi '${settings}' must be '*' or 'METHOD /path'`);
    if (!isObject(settings)) fail(where, 'httpApi needs method and path');
    // `method: '*'` is API Gateway's ANY.
    const method = settings.method === '*' ? 'ANY' : String(settings.method ?? '').toUpperCase();
    const path = String(settings.path ?? '');
    if (!method || !path.startsWith('/')) fail(where, 'httpApi needs method and path');
    return { kind, routeKey: `${method} ${path}` };
  }
  if (kind === 'sqs') {
    if (!isObject(settings)) fail(where, 'sqs needs an arn');
    const arn = settings.arn;
    const queue = isObject(arn) && Array.isArray(arn['Fn::GetAtt']) ? arn['Fn::GetAtt'][0] : undefined;
    if (typeof queue !== 'string') fail(where, 'sqs.arn must be { Fn::GetAtt: [<queue>, Arn] }');
    const types = settings.functionResponseType;
    return {
      kind,
      queue,
      batchSize: typeof settings.batchSize === 'number' ? settings.batchSize : DEFAULT_SQS_BATCH_SIZE,
      reportBatchItemFailures: types === 'ReportBatchItemFailures',
      maximumConcurrency:
        typeof settings.maximumConcurrency === 'number' ? settings.maximumConcurrency : undefined,
    };
  }
  if (kind === 'schedule') {
    const expression =
      typeof settings === 'string' ? settings : isObject(settings) ? settings.rate : undefined;
    if (typeof expression !== 'string') fail(where, 'schedule needs a rate');
    return { kind, expression };
  }
  return fail(where, `the event type ${String(kind)} is not run locally`);
}

/** Reads the functions of serverless.yml (or another file of the same shape, for tests). */
export function readFunctions(file: URL | string = SERVERLESS_YML): ServerlessFunctions {
  const document = parse(readFileSync(file, 'utf8')) as Yaml;
  const provider = isObject(document.provider) ? document.provider : {};
  const providerEnv = isObject(provider.environment) ? provider.environment : {};
  const functions = isObject(document.functions) ? document.functions : {};
  const params: StageParams = isObject(document.params)
    ? Object.fromEntries(
        Object.entries(document.params).map(([stage, values]) => [stage, isObject(values) ? values : {}]),
      )
    : {};
  return {
    service: String(document.service),
    functions: Object.entries(functions).map(([name, raw]): FunctionSpec => {
      const where = `functions.${name}`;
      if (!isObject(raw) || typeof raw.handler !== 'string') fail(where, 'needs a handler');
      const match = /^(.+)\.([A-Za-z_$][\w$]*)$/.exec(raw.handler);
      if (!match) fail(where, `handler ${raw.handler} must be <file>.<export>`);
      return {
        name,
        file: `${match[1]}.ts`,
        exportName: match[2] as string,
        timeoutSeconds: firstNumber(raw.timeout, provider.timeout) ?? DEFAULT_TIMEOUT_SECONDS,
        memorySize: firstNumber(raw.memorySize, provider.memorySize) ?? DEFAULT_MEMORY_MB,
        reservedConcurrency:
          typeof raw.reservedConcurrency === 'number' ? raw.reservedConcurrency : undefined,
        environment: { ...providerEnv, ...(isObject(raw.environment) ? raw.environment : {}) },
        events: (Array.isArray(raw.events) ? raw.events : []).map((event, i) =>
          parseEvent(`${where}.events[${i}]`, event),
        ),
        params,
      };
    }),
  };
}

/** The first of a function's and the provider's setting that is a number. */
const firstNumber = (...values: unknown[]): number | undefined =>
  values.find((value): value is number => typeof value === 'number');

/** What the values of serverless.yml refer to, on the local stack. */
export interface ResolveContext {
  service: string;
  stage: string;
  /** `${env:NAME}` reads from here (the environment `npm start` runs in). */
  env: Readonly<Record<string, string | undefined>>;
  /** `Ref: <logicalId>`: a table's name, a queue's URL. */
  refs: Readonly<Record<string, string>>;
  /** `Fn::GetAtt: [<logicalId>, Arn]`. */
  arns: Readonly<Record<string, string>>;
  /** `${param:name}`: the stage's entry, else `default`'s (as osls reads them); resolveEnvironment adds the function's. */
  params?: StageParams;
}

/** A parameter's value as written for the stage, else for `default`; osls skips a null one. */
function paramValue(context: ResolveContext, name: string): unknown {
  for (const stage of [context.stage, 'default']) {
    const value = context.params?.[stage]?.[name];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

const VARIABLE = /\$\{([^}]+)\}/g;

function resolveVariable(expression: string, context: ResolveContext, where: string): string {
  const comma = expression.indexOf(',');
  const source = (comma === -1 ? expression : expression.slice(0, comma)).trim();
  const fallback = comma === -1 ? undefined : expression.slice(comma + 1).trim();
  const unquote = (text: string) => text.replace(/^(['"])(.*)\1$/, '$2');
  if (source === 'self:service') return context.service;
  if (source === 'sls:stage') return context.stage;
  if (source.startsWith('param:')) {
    // A parameter's own value may hold variables (`${env:WEBHOOK_SECRET, ''}`): resolved in turn.
    const value = paramValue(context, source.slice('param:'.length));
    if (value !== undefined) return resolveValue(value, context, where);
    if (fallback !== undefined) return unquote(fallback);
    return fail(where, `\${${expression}} names no parameter of stage ${context.stage} or default`);
  }
  if (source.startsWith('env:')) {
    const value = context.env[source.slice(4)];
    if (value !== undefined) return value;
    if (fallback !== undefined) return unquote(fallback);
    return fail(where, `\${${expression}} is not set and has no default`);
  }
  return fail(where, `\${${expression}} cannot be resolved locally`);
}

/** Resolves one environment value as CloudFormation and the Serverless Framework would. */
export function resolveValue(value: unknown, context: ResolveContext, where: string): string {
  if (typeof value === 'string')
    return value.replace(VARIABLE, (_all, expr: string) => resolveVariable(expr, context, where));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isObject(value)) {
    if (typeof value.Ref === 'string') {
      const ref = context.refs[value.Ref];
      if (ref === undefined) fail(where, `Ref ${value.Ref} names no local resource`);
      return ref;
    }
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && typeof getAtt[0] === 'string') {
      const arn = context.arns[getAtt[0]];
      if (arn === undefined) fail(where, `Fn::GetAtt ${getAtt[0]}.Arn names no local resource`);
      return arn;
    }
  }
  return fail(where, `${JSON.stringify(value)} cannot be resolved locally`);
}

/** A function's environment with every value resolved; an empty value counts as unset (left out). */
export function resolveEnvironment(spec: FunctionSpec, context: ResolveContext): Record<string, string> {
  const withParams = context.params || !spec.params ? context : { ...context, params: spec.params };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.environment)) {
    const resolved = resolveValue(value, withParams, `functions.${spec.name}.environment.${name}`);
    if (resolved !== '') env[name] = resolved;
  }
  return env;
}
