import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { ContainerData, ContainerReply, InvokeMessage, SerializedError } from './container.ts';

/**
 * One Lambda function on the local stack: its handler runs in containers (worker threads) with the function's
 * own environment. As on Lambda, a container runs one invocation at a time; a second concurrent invocation
 * gets a second container (a cold start), up to the function's concurrency, beyond which invocations wait
 * for a container to be free. A container is reused while it lives (warm starts keep module scope); one whose
 * invocation outlives the function's timeout, or that crashed, is discarded.
 */
export interface LocalFunction {
  readonly name: string;
  readonly timeoutMs: number;
  /** Runs one invocation; rejects with InvocationError when the handler throws, times out or crashes. */
  invoke(event: unknown): Promise<unknown>;
  /** Invocations in flight now (busy containers). */
  readonly inFlight: number;
  /** Containers alive now (busy or idle). */
  readonly containers: number;
  /** Ends every container as a crash would (tests: a process killed mid-invocation). */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalFunctionOptions {
  /** The deployed function's name (`<service>-<stage>-<function>`). */
  name: string;
  /** The handler module, relative to the project root, and its export. */
  file: string;
  exportName: string;
  timeoutSeconds: number;
  memorySize: number;
  env: Record<string, string>;
  /** Where the handler's log lines go (its stdout and stderr, line by line). */
  logSink: (line: string) => void;
  /** The project root (the directory of serverless.yml). */
  root: string;
  /** Containers at most (the function's concurrency); invocations beyond wait for a free one. */
  maxContainers: number;
}

/** Why an invocation failed, as Lambda reports it: the handler's error, a timeout, or a crashed runtime. */
export class InvocationError extends Error {
  readonly errorType: string;
  constructor(functionName: string, kind: 'handler' | 'timeout' | 'crash', error: SerializedError) {
    super(`${functionName}: ${error.message}`);
    this.name = 'InvocationError';
    this.errorType =
      kind === 'handler' ? error.name : kind === 'timeout' ? 'Sandbox.Timedout' : 'Runtime.ExitError';
    if (error.stack) this.stack = error.stack;
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface Container {
  worker: Worker;
  ready: Promise<void>;
  /** Taken by an invocation (from the moment it is handed out until the invocation settles). */
  busy: boolean;
  /** The one invocation it runs. */
  pending: Pending | undefined;
  ended: boolean;
}

export function createLocalFunction(options: LocalFunctionOptions): LocalFunction {
  const timeoutMs = options.timeoutSeconds * 1000;
  const maxContainers = Math.max(1, options.maxContainers);
  const pool: Container[] = [];
  const waiting: Array<(container: Container) => void> = [];
  let stopped = false;

  const end = async (target: Container, kind: 'timeout' | 'crash', error: SerializedError): Promise<void> => {
    if (target.ended) return;
    target.ended = true;
    pool.splice(pool.indexOf(target), 1);
    const pending = target.pending;
    target.pending = undefined;
    if (pending) {
      clearTimeout(pending.timer);
      pending.reject(new InvocationError(options.name, kind, error));
    }
    await target.worker.terminate();
    // Someone may be waiting for a container: the pool has room again.
    const next = waiting.shift();
    if (next && !stopped) next(start());
  };

  const release = (target: Container) => {
    target.pending = undefined;
    target.busy = false;
    if (target.ended) return;
    const next = waiting.shift();
    if (next) {
      target.busy = true;
      next(target);
    }
  };

  const start = (): Container => {
    const data: ContainerData = {
      file: resolve(options.root, options.file),
      exportName: options.exportName,
      functionName: options.name,
      memorySize: options.memorySize,
    };
    const worker = new Worker(new URL('./container.ts', import.meta.url), {
      workerData: data,
      env: options.env,
      stdout: true,
      stderr: true,
    });
    for (const stream of [worker.stdout, worker.stderr]) {
      createInterface({ input: stream }).on('line', (line) => options.logSink(line));
    }
    const target: Container = {
      worker,
      busy: true,
      pending: undefined,
      ended: false,
      ready: Promise.resolve(),
    };
    pool.push(target);
    target.ready = new Promise<void>((ready, failed) => {
      worker.on('message', (reply: ContainerReply) => {
        if (reply.type === 'ready') return ready();
        if (reply.type === 'init-error') {
          failed(new InvocationError(options.name, 'crash', reply.error));
          return void end(target, 'crash', reply.error);
        }
        const pending = target.pending;
        if (!pending) return;
        clearTimeout(pending.timer);
        release(target);
        if (reply.type === 'result') pending.resolve(reply.result);
        else pending.reject(new InvocationError(options.name, 'handler', reply.error));
      });
      const crashed = (error: SerializedError) => {
        failed(new InvocationError(options.name, 'crash', error));
        void end(target, 'crash', error);
      };
      worker.on('error', (error) => crashed({ name: error.name, message: error.message }));
      worker.on('exit', (code) =>
        crashed({ name: 'Runtime.ExitError', message: `the runtime exited (${code})` }),
      );
    });
    // Nobody may be waiting for readiness yet; failures reach invocations through `end`.
    target.ready.catch(() => undefined);
    return target;
  };

  /** An idle container, a new one if the pool has room, or the next one to come free — taken (busy). */
  const acquire = (): Promise<Container> => {
    const idle = pool.find((container) => !container.busy && !container.ended);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    if (pool.length < maxContainers) return Promise.resolve(start());
    return new Promise((resolveContainer) => waiting.push(resolveContainer));
  };

  const run = async (target: Container, event: unknown): Promise<unknown> => {
    const deadline = Date.now() + timeoutMs;
    const result = new Promise<unknown>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        void end(target, 'timeout', {
          name: 'Sandbox.Timedout',
          message: `Task timed out after ${options.timeoutSeconds.toFixed(2)} seconds`,
        });
      }, timeoutMs);
      target.pending = { resolve: resolvePromise, reject, timer };
    });
    // Ended while we wait for the cold start (a stop, a crash): the caller gets the rejection when it awaits
    // `result` below, not the process as an unhandled one.
    result.catch(() => undefined);
    // The cold start counts against the timeout, as on Lambda (init is billed to the first invocation).
    await target.ready.catch(() => undefined);
    if (!target.ended) {
      const message: InvokeMessage = { type: 'invoke', id: 1, event, deadline, requestId: randomUUID() };
      try {
        target.worker.postMessage(message);
      } catch (error) {
        // An event the thread cannot be handed (not structured-cloneable) fails this invocation alone.
        const pending = target.pending;
        if (pending) {
          clearTimeout(pending.timer);
          release(target);
          pending.reject(
            new InvocationError(options.name, 'handler', {
              name: 'Runtime.InvalidEvent',
              message: String(error),
            }),
          );
        }
      }
    }
    return result;
  };

  return {
    name: options.name,
    timeoutMs,
    get inFlight() {
      return pool.filter((container) => container.busy).length;
    },
    get containers() {
      return pool.length;
    },
    async invoke(event) {
      if (stopped) throw new Error(`${options.name} is stopped`);
      return run(await acquire(), event);
    },
    async crash() {
      await Promise.all(
        [...pool].map((container) =>
          end(container, 'crash', { name: 'Runtime.ExitError', message: 'the container was killed' }),
        ),
      );
    },
    async stop() {
      stopped = true;
      waiting.length = 0;
      await Promise.all(
        [...pool].map((container) =>
          end(container, 'crash', { name: 'Runtime.ExitError', message: 'the stack stopped' }),
        ),
      );
    },
  };
}
