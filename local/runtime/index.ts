import { fileURLToPath } from 'node:url';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig } from '../../lib/config.ts';
import type { HttpEvent } from '../../lib/http/types.ts';
import type { Logger } from '../../lib/log.ts';
import { type FunctionSpec, type ResolveContext, resolveEnvironment } from '../functions.ts';
import type { Route } from '../gateway.ts';
import { createLocalFunction, type LocalFunction } from './lambda.ts';
import { type ScheduleRunner, startScheduleSource } from './schedule-source.ts';
import { type SqsSourceRunner, startSqsSource } from './sqs-source.ts';

/**
 * The local runtime (docs/local-stack.md): every function serverless.yml declares, each in its own container
 * with its own environment, wired to its events as AWS wires them — httpApi routes to the gateway, SQS
 * event sources to a poller with Lambda's batch semantics, schedules to a timer. A new function is one entry
 * in serverless.yml and one handler file.
 */
export interface Runtime {
  functions: ReadonlyMap<string, LocalFunction>;
  /** The httpApi routes, for the gateway. */
  routes: Route[];
  sqsSources: ReadonlyMap<string, SqsSourceRunner>;
  schedules: ReadonlyMap<string, ScheduleRunner>;
  /** Queues (logical ids) that some function consumes. */
  consumedQueues: ReadonlySet<string>;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  service: string;
  stage: string;
  functions: readonly FunctionSpec[];
  /** How serverless.yml's variables and references resolve here. */
  resolve: ResolveContext;
  /** Settings the local stack adds to (and overrides in) every function's environment. */
  localEnv: Readonly<Record<string, string>>;
  sqs: Pick<SQSClient, 'send'>;
  queueUrls: Readonly<Record<string, string>>;
  pollIntervalMs: number;
  logger: Logger;
  /** Where the functions' own log lines go. */
  logSink: (line: string) => void;
  /** The project root, for the handler paths (the directory of serverless.yml). */
  root?: string;
}

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The environment a function runs with here; its configuration is checked now, so a mistake stops the start. */
export function functionEnvironment(
  spec: FunctionSpec,
  options: Pick<RuntimeOptions, 'resolve' | 'localEnv'>,
) {
  const env = { ...resolveEnvironment(spec, options.resolve), ...options.localEnv };
  loadConfig(env);
  return env;
}

/** How many containers a function runs at once: its reserved concurrency, else its SQS sources' maximum. */
function concurrencyOf(spec: FunctionSpec): number {
  if (spec.reservedConcurrency !== undefined) return spec.reservedConcurrency;
  const sqs = spec.events.flatMap((event) => (event.kind === 'sqs' ? [event.maximumConcurrency ?? 2] : []));
  return sqs.length ? sqs.reduce((a, b) => a + b, 0) : DEFAULT_CONCURRENCY;
}

/** Containers a function gets when serverless.yml names no concurrency (an HTTP function, say). */
const DEFAULT_CONCURRENCY = 4;

export function startRuntime(options: RuntimeOptions): Runtime {
  // Every function's environment first: a mistake in one stops the start before anything runs.
  const environments = new Map(
    options.functions.map((spec) => [spec.name, functionEnvironment(spec, options)]),
  );
  const functions = new Map<string, LocalFunction>();
  const routes: Route[] = [];
  const sqsSources = new Map<string, SqsSourceRunner>();
  const schedules = new Map<string, ScheduleRunner>();
  const consumedQueues = new Set<string>();
  const stop = async () => {
    await Promise.all([...schedules.values()].map((runner) => runner.stop()));
    await Promise.all([...sqsSources.values()].map((runner) => runner.stop()));
    await Promise.all([...functions.values()].map((fn) => fn.stop()));
  };
  try {
    for (const spec of options.functions) {
      const name = `${options.service}-${options.stage}-${spec.name}`;
      const fn = createLocalFunction({
        name,
        file: spec.file,
        exportName: spec.exportName,
        timeoutSeconds: spec.timeoutSeconds,
        memorySize: spec.memorySize,
        env: { ...environments.get(spec.name), AWS_LAMBDA_FUNCTION_NAME: name },
        logSink: options.logSink,
        root: options.root ?? PROJECT_ROOT,
        maxContainers: concurrencyOf(spec),
      });
      functions.set(spec.name, fn);
      spec.events.forEach((event, i) => {
        if (event.kind === 'httpApi') {
          routes.push({ routeKey: event.routeKey, invoke: (httpEvent: HttpEvent) => fn.invoke(httpEvent) });
        } else if (event.kind === 'sqs') {
          const queueUrl = options.queueUrls[event.queue];
          const queueArn = options.resolve.arns[event.queue];
          if (!queueUrl || !queueArn) throw new Error(`${spec.name}: no local queue ${event.queue}`);
          consumedQueues.add(event.queue);
          sqsSources.set(
            `${spec.name}:${event.queue}`,
            startSqsSource({
              fn,
              source: event,
              sqs: options.sqs,
              queueUrl,
              queueArn,
              logger: options.logger,
            }),
          );
        } else {
          schedules.set(
            `${spec.name}:${i}`,
            startScheduleSource({
              fn,
              ruleName: `${name}-schedule-${i}`,
              intervalMs: options.pollIntervalMs,
              reservedConcurrency: spec.reservedConcurrency,
              logger: options.logger,
            }),
          );
        }
      });
    }
  } catch (error) {
    void stop();
    throw error;
  }
  return { functions, routes, sqsSources, schedules, consumedQueues, stop };
}
