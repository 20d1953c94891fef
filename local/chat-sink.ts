import type { IncomingMessage, ServerResponse } from 'node:http';
import { answer, keep, readBody } from './sinks.ts';

/**
 * The local stack's stand-ins for Slack's side of a conversation (docs/local-stack.md, "Chat"): a
 * `response_url` (`POST /_local/chat/<anything>`) and the Web API's `chat.postMessage`
 * (`POST /_local/slack-api/chat.postMessage`, answering `{ ok: true }`). `GET /_local/chat` lists every
 * follow-up that arrived either way, newest last.
 */

export const CHAT_SINK_PATH = '/_local/chat';
export const SLACK_API_PATH = '/_local/slack-api';

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
      const receive = (raw: Buffer) => {
        let body: unknown = null;
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          return answer(res, 400, { ok: false, error: 'invalid_json' });
        }
        keep(kept, {
          receivedAt: new Date().toISOString(),
          via: isApi ? 'chat.postMessage' : 'response_url',
          path,
          authorized: /^Bearer \S+/.test(String(req.headers.authorization ?? '')),
          body,
        });
        // Slack's response_url answers a bare 200 "ok"; chat.postMessage a JSON { ok }.
        if (isApi) answer(res, 200, { ok: true });
        else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      };
      readBody(req, res, receive, () => answer(res, 413, { ok: false, error: 'too_large' }));
      return true;
    },
    arrivals: () => kept,
  };
}
