import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The local stack's stand-ins for Slack's side of a conversation (docs/local-stack.md, "Chat"): a
 * `response_url` (`POST /_local/chat/<anything>`) and the Web API's `chat.postMessage`
 * (`POST /_local/slack-api/chat.postMessage`, answering `{ ok: true }`). `GET /_local/chat` lists every
 * follow-up that arrived either way, newest last.
 */

export const CHAT_SINK_PATH = '/_local/chat';
export const SLACK_API_PATH = '/_local/slack-api';
const MAX_KEPT = 1000;
const MAX_BODY_BYTES = 1024 * 1024;

export interface ChatArrival {
  receivedAt: string;
  /** `response_url` or `chat.postMessage`. */
  via: string;
  path: string;
  /** chat.postMessage only: whether it carried a bearer token (never the token itself). */
  authorized: boolean;
  body: unknown;
}

export interface ChatSink {
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  arrivals(): readonly ChatArrival[];
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body, null, 2));
}

export function createChatSink(): ChatSink {
  const kept: ChatArrival[] = [];
  return {
    handle(req, res) {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const isApi = path === `${SLACK_API_PATH}/chat.postMessage`;
      const isResponseUrl = path === CHAT_SINK_PATH || path.startsWith(`${CHAT_SINK_PATH}/`);
      if (!isApi && !isResponseUrl) return false;
      if (req.method === 'GET' && path === CHAT_SINK_PATH) {
        answer(res, 200, { messages: kept });
        return true;
      }
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: path === CHAT_SINK_PATH ? 'GET, POST' : 'POST' }).end();
        return true;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      req.on('error', () => res.destroy());
      req.on('end', () => {
        if (size > MAX_BODY_BYTES) return answer(res, 413, { ok: false, error: 'too_large' });
        let body: unknown = null;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return answer(res, 400, { ok: false, error: 'invalid_json' });
        }
        kept.push({
          receivedAt: new Date().toISOString(),
          via: isApi ? 'chat.postMessage' : 'response_url',
          path,
          authorized: /^Bearer \S+/.test(String(req.headers.authorization ?? '')),
          body,
        });
        if (kept.length > MAX_KEPT) kept.shift();
        // Slack's response_url answers a bare 200 "ok"; chat.postMessage a JSON { ok }.
        if (isApi) answer(res, 200, { ok: true });
        else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
      return true;
    },
    arrivals: () => kept,
  };
}
