import { type Dispatcher, request } from 'undici';
import { parseRetryAfter } from './schedule.ts';
import { checkTargetUrl, WebhookTargetRefusedError } from './ssrf.ts';

/**
 * One webhook attempt over undici (docs/webhooks.md, "Delivery"): a POST of the exact bytes signed, through the
 * SSRF-guarded dispatcher, with a per-attempt deadline; redirects are never followed (undici's request does
 * not, and a 3xx counts as a failure).
 */

/** What an attempt came to. */
export type AttemptOutcome =
  /** A 2xx. */
  | { kind: 'delivered'; status: number }
  /** 410 Gone: the receiver asks for no more of this target. */
  | { kind: 'gone'; status: number }
  /** Anything else: retried on the schedule, unless `retryable` is false (a target the guard refuses). */
  | { kind: 'failed'; status?: number; error?: string; retryAfterMs?: number; retryable: boolean };

/** How much of a receiver's answer is read before the connection is dropped: only the status matters. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface AttemptRequest {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE: the guard lets loopback and private targets through (local development). */
  allowPrivate: boolean;
}

/** Sends one attempt and classifies its answer. Never throws: every failure is an outcome to record. */
export async function attemptDelivery(
  deps: { dispatcher: Dispatcher; now: () => number },
  attempt: AttemptRequest,
): Promise<AttemptOutcome> {
  const signal = AbortSignal.timeout(attempt.timeoutMs);
  try {
    checkTargetUrl(attempt.url, { allowPrivate: attempt.allowPrivate });
    const response = await request(attempt.url, {
      method: 'POST',
      dispatcher: deps.dispatcher,
      headers: { ...attempt.headers, 'user-agent': 'cvm-provisioner-webhooks/1' },
      body: attempt.body,
      signal,
    });
    const status = response.statusCode;
    // Drain a little of the answer so the connection can be reused; a longer answer just closes it.
    await response.body.dump({ limit: MAX_RESPONSE_BYTES, signal }).catch(() => undefined);
    if (status >= 200 && status < 300) return { kind: 'delivered', status };
    if (status === 410) return { kind: 'gone', status };
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], deps.now());
    return {
      kind: 'failed',
      status,
      retryable: true,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  } catch (error) {
    const refused = refusalIn(error);
    if (refused) return { kind: 'failed', error: refused.message, retryable: false };
    if (signal.aborted)
      return { kind: 'failed', error: `no answer within ${attempt.timeoutMs} ms`, retryable: true };
    return { kind: 'failed', error: describeFailure(error), retryable: true };
  }
}

/** The guard's refusal, wherever undici put it in the cause chain. */
function refusalIn(error: unknown): WebhookTargetRefusedError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof WebhookTargetRefusedError) return current;
    current = current.cause;
  }
  return undefined;
}

/** A short, URL-free description (a target's URL can hold a secret of its own, as Slack's do). */
function describeFailure(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? code : current.name);
    current = current.cause;
  }
  return `could not deliver: ${[...new Set(parts)].join(' / ') || 'unknown error'}`;
}
