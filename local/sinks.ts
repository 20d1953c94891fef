import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the local stack's sinks (webhooks, chat) share: bounded bodies, JSON answers, a bounded history. */

/** The most a sink reads of one request. */
const MAX_BODY_BYTES = 1024 * 1024;
/** The most arrivals a sink keeps (oldest dropped first). */
const MAX_KEPT = 1000;

/** A JSON answer (pretty, for people reading it with curl), or an empty one without a body. */
export function answer(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body, null, 2));
}

/** Reads the request's body, up to MAX_BODY_BYTES: `done` with its bytes, or `tooLarge` past the bound. */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  done: (raw: Buffer) => void,
  tooLarge: () => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.on('error', () => res.destroy());
  req.on('end', () => (size > MAX_BODY_BYTES ? tooLarge() : done(Buffer.concat(chunks))));
}

/** Keeps an arrival, dropping the oldest beyond MAX_KEPT. */
export function keep<T>(kept: T[], arrival: T): void {
  kept.push(arrival);
  if (kept.length > MAX_KEPT) kept.shift();
}
