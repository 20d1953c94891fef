/**
 * When a retried submission comes back (docs/job-lifecycle.md, "Retries"): exponential in the message's
 * receive count, capped, with jitter so that messages failed together do not return together. Throttling is
 * retried the same way: the pacing keeps the submitters under Tencent's limit, so throttling that happens
 * comes from elsewhere (another client of the account) and may last; five receives span a minute or two.
 */
export const BACKOFF = {
  /** Seconds before the second receive after an ordinary retryable failure. */
  baseSeconds: 5,
  /** No wait is longer. */
  capSeconds: 300,
} as const;

/**
 * The visibility timeout to give a record that failed on its `receiveCount`-th receive: base × 2^(n−1) capped,
 * then "equal jitter" — half of it fixed, half random — so the wait never collapses to zero.
 */
export function retryDelaySeconds(receiveCount: number, options: { random?: () => number } = {}): number {
  const base = BACKOFF.baseSeconds;
  const n = Number.isFinite(receiveCount) ? Math.max(1, Math.floor(receiveCount)) : 1;
  const ceiling = Math.min(BACKOFF.capSeconds, base * 2 ** Math.min(n - 1, 20));
  const random = options.random ?? Math.random;
  return Math.max(1, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}
