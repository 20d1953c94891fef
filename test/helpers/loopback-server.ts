import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The client's source port: one port across requests means one reused connection. */
  remotePort: number | undefined;
}

export type Reply = (request: ReceivedRequest, res: ServerResponse) => void;

export interface LoopbackServer {
  url: string;
  received: ReceivedRequest[];
  reply: Reply;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 with a replaceable reply, recording every request it receives. */
export async function startLoopbackServer(reply: Reply): Promise<LoopbackServer> {
  const state: LoopbackServer = {
    url: '',
    received: [],
    reply,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        remotePort: req.socket.remotePort,
      };
      state.received.push(received);
      state.reply(received, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** Answers like Tencent API 3.0: HTTP 200 with `{ Response: … }`. */
export function tencentReply(response: Record<string, unknown>, status = 200): Reply {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Response: { RequestId: 'req-0001', ...response } }));
  };
}
