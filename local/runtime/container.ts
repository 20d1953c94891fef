/**
 * A Lambda container on a worker thread (docs/local-stack.md): it imports one handler module, with the
 * function's own environment as `process.env`, and runs the invocations the main thread posts. Module scope
 * lives as long as the container, as on Lambda (warm invocations reuse clients); a crash or a timeout ends it.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';

export interface ContainerData {
  /** Absolute path of the handler module. */
  file: string;
  exportName: string;
  functionName: string;
  memorySize: number;
}

export interface InvokeMessage {
  type: 'invoke';
  id: number;
  event: unknown;
  /** Epoch ms at which the function's timeout ends the invocation. */
  deadline: number;
  requestId: string;
}

export type ContainerReply =
  | { type: 'ready' }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: SerializedError };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const data = workerData as ContainerData;
const port = parentPort;
if (!port) throw new Error('container.ts runs on a worker thread');

const serialize = (error: unknown): SerializedError =>
  error instanceof Error
    ? { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) }
    : { name: 'Error', message: String(error) };

function contextFor(message: InvokeMessage): Context {
  const name = data.functionName;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: String(data.memorySize),
    awsRequestId: message.requestId || randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

let handler: Handler;
try {
  const module = (await import(pathToFileURL(data.file).href)) as Record<string, unknown>;
  const exported = module[data.exportName];
  if (typeof exported !== 'function') throw new Error(`${data.file} exports no function ${data.exportName}`);
  handler = exported as Handler;
  port.postMessage({ type: 'ready' } satisfies ContainerReply);
} catch (error) {
  port.postMessage({ type: 'init-error', error: serialize(error) } satisfies ContainerReply);
  throw error;
}

port.on('message', (message: InvokeMessage) => {
  void (async () => {
    try {
      const result = await handler(message.event, contextFor(message));
      port.postMessage({ type: 'result', id: message.id, result: result ?? null } satisfies ContainerReply);
    } catch (error) {
      port.postMessage({ type: 'error', id: message.id, error: serialize(error) } satisfies ContainerReply);
    }
  })();
});
