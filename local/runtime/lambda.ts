import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { ContainerData, ContainerReply, InvokeMessage, SerializedError } from './container.ts';

/**
 * One Lambda function on the local stack: its handler runs in a container (a worker thread) with the
 * function's own environment, started on the first invocation (a cold start) and reused after (warm). As on
 * Lambda, an invocation that outlives the function's timeout fails and its container is discarded; so is one
 * that crashed. Unlike Lambda, one container serves concurrent invocations (Node interleaves them), so a
 * timeout or a crash also fails the invocations in flight beside it — the same outcome as several containers
 * dying, on fewer threads.
 */
export interface LocalFunction {
  readonly name: string;
  readonly timeoutMs: number;
  /** Runs one invocation; rejects with InvocationError when the handler throws, times out or crashes. */
  invoke(event: unknown): Promise<unknown>;
  /** Invocations in flight now. */
  readonly inFlight: number;
  /** Ends the current container as a crash would (tests: a process killed mid-invocation). */
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
  pending: Map<number, Pending>;
  ended: boolean;
}

export function createLocalFunction(options: LocalFunctionOptions): LocalFunction {
  const timeoutMs = options.timeoutSeconds * 1000;
  let container: Container | undefined;
  let nextId = 1;
  let stopped = false;

  const end = async (target: Container, kind: 'timeout' | 'crash', error: SerializedError): Promise<void> => {
    if (target.ended) return;
    target.ended = true;
    if (container === target) container = undefined;
    for (const [, pending] of target.pending) {
      clearTimeout(pending.timer);
      pending.reject(new InvocationError(options.name, kind, error));
    }
    target.pending.clear();
    await target.worker.terminate();
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
    const target: Container = { worker, pending: new Map(), ended: false, ready: Promise.resolve() };
    target.ready = new Promise<void>((ready, failed) => {
      worker.on('message', (reply: ContainerReply) => {
        if (reply.type === 'ready') return ready();
        if (reply.type === 'init-error') {
          failed(new InvocationError(options.name, 'crash', reply.error));
          return void end(target, 'crash', reply.error);
        }
        const pending = target.pending.get(reply.id);
        if (!pending) return;
        target.pending.delete(reply.id);
        clearTimeout(pending.timer);
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

  return {
    name: options.name,
    timeoutMs,
    get inFlight() {
      return container?.pending.size ?? 0;
    },
    async invoke(event) {
      if (stopped) throw new Error(`${options.name} is stopped`);
      container ??= start();
      const target = container;
      const id = nextId++;
      const deadline = Date.now() + timeoutMs;
      const result = new Promise<unknown>((resolvePromise, reject) => {
        const timer = setTimeout(() => {
          void end(target, 'timeout', {
            name: 'Sandbox.Timedout',
            message: `Task timed out after ${options.timeoutSeconds.toFixed(2)} seconds`,
          });
        }, timeoutMs);
        target.pending.set(id, { resolve: resolvePromise, reject, timer });
      });
      // The cold start counts against the timeout, as on Lambda (init is billed to the first invocation).
      await target.ready.catch(() => undefined);
      if (!target.ended) {
        const message: InvokeMessage = { type: 'invoke', id, event, deadline, requestId: randomUUID() };
        try {
          target.worker.postMessage(message);
        } catch (error) {
          // An event the thread cannot be handed (not structured-cloneable) fails this invocation alone.
          const pending = target.pending.get(id);
          target.pending.delete(id);
          if (pending) {
            clearTimeout(pending.timer);
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
    },
    async crash() {
      if (container)
        await end(container, 'crash', { name: 'Runtime.ExitError', message: 'the container was killed' });
    },
    async stop() {
      stopped = true;
      if (container)
        await end(container, 'crash', { name: 'Runtime.ExitError', message: 'the stack stopped' });
    },
  };
}
