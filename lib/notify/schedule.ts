/**
 * When to try a webhook again (docs/webhooks.md, "Retries"): the configured schedule (WEBHOOK_RETRY_SCHEDULE)
 * with jitter, at least as long as the receiver's `Retry-After`, and no attempt after the schedule runs out.
 */

/** The longest `Retry-After` honoured: a receiver asking for more still gets its next try within a day. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;
/** ±20 %: receivers that failed together (an outage) are not all retried in the same second. */
const JITTER = 0.2;

/**
 * The delay before the next attempt after `failedAttempts` failures, or undefined when the schedule is spent
 * (the delivery then ends FAILED). `retryAfterMs` (the receiver's `Retry-After`) lengthens the delay, up to
 * MAX_RETRY_AFTER_MS, and never shortens it.
 */
export function nextRetryDelay(
  schedule: readonly number[],
  failedAttempts: number,
  random: () => number,
  retryAfterMs?: number,
): number | undefined {
  const base = schedule[failedAttempts - 1];
  if (base === undefined) return undefined;
  const jittered = Math.round(base * (1 - JITTER + 2 * JITTER * random()));
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}

/**
 * `Retry-After` in milliseconds from now: delta-seconds or an HTTP date (RFC 9110, section 10.2.3); undefined
 * when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date is `Sun, 06 Nov 1994 08:49:37 GMT`; Date.parse alone would also take `-5` or `1.5` as years.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
