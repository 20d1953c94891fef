import type { IncomingMessage, ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { answer, keep, readBody } from './sinks.ts';

/**
 * The local stack's webhook receiver (docs/local-stack.md, "Webhooks"): unless DEFAULT_WEBHOOK_URL is set,
 * every event goes to `POST /_local/webhooks` on the stack's own port, and `GET /_local/webhooks` lists what
 * arrived, each with whether its signature verified (with the standardwebhooks library, as a receiver would).
 */

export const SINK_PATH = '/_local/webhooks';

export interface Arrival {
  receivedAt: string;
  webhookId: string | null;
  webhookTimestamp: string | null;
  /** Whether `webhook-signature` verified with the stack's WEBHOOK_SECRET. */
  verified: boolean;
  type: string | null;
  jobId: string | null;
  status: string | null;
  /** The body as sent, parsed (null when it was not JSON). */
  body: unknown;
}

export interface WebhookSink {
  /** Serves `/_local/webhooks`; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  arrivals(): readonly Arrival[];
}

const header = (req: IncomingMessage, name: string) => {
  const value = req.headers[name];
  return typeof value === 'string' ? value : null;
};

/** A sink verifying with `secrets` (the stack's WEBHOOK_SECRET, one or more `whsec_` secrets). */
export function createWebhookSink(secrets: readonly string[]): WebhookSink {
  const verifiers = secrets.map((secret) => new Webhook(secret));
  const kept: Arrival[] = [];

  const receive = (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    const headers = {
      'webhook-id': header(req, 'webhook-id') ?? '',
      'webhook-timestamp': header(req, 'webhook-timestamp') ?? '',
      'webhook-signature': header(req, 'webhook-signature') ?? '',
    };
    const verified = verifiers.some((verifier) => {
      try {
        verifier.verify(raw, headers);
        return true;
      } catch {
        return false;
      }
    });
    let body: unknown = null;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      // kept as null: not JSON
    }
    const event = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const data =
      typeof event.data === 'object' && event.data !== null ? (event.data as Record<string, unknown>) : {};
    keep(kept, {
      receivedAt: new Date().toISOString(),
      webhookId: header(req, 'webhook-id'),
      webhookTimestamp: header(req, 'webhook-timestamp'),
      verified,
      type: typeof event.type === 'string' ? event.type : null,
      jobId: typeof data.jobId === 'string' ? data.jobId : null,
      status: typeof data.status === 'string' ? data.status : null,
      body,
    });
    answer(res, 204);
  };

  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== SINK_PATH) return false;
      if (req.method === 'GET') {
        const jobId = url.searchParams.get('jobId');
        answer(res, 200, { webhooks: kept.filter((arrival) => !jobId || arrival.jobId === jobId) });
        return true;
      }
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'GET, POST' }).end();
        return true;
      }
      readBody(
        req,
        res,
        (raw) => receive(req, res, raw),
        () => answer(res, 413),
      );
      return true;
    },
    arrivals: () => kept,
  };
}
