/**
 * Spaces calls out so that they stay under a rate: each `take()` resolves at the next free slot, slots at
 * least `1 / ratePerSecond` apart and never saved up (no burst). One pacer per rate-limit bucket per Lambda container;
 * with at most `concurrency` containers at once, each gets `rate / concurrency` (lib/submit/deps.ts).
 */
export interface Pacer {
  /** Waits for the next slot; false (without waiting) when the slot would come later than `deadline`. */
  take(deadline?: number): Promise<boolean>;
}

export function createPacer(options: {
  ratePerSecond: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}): Pacer {
  const interval = 1000 / options.ratePerSecond;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  // A new pacer waits one interval before its first call: the container it replaces may have called just
  // before it stopped.
  let next = now() + interval;
  return {
    async take(deadline = Number.POSITIVE_INFINITY) {
      const at = Math.max(now(), next);
      if (at > deadline) return false;
      next = at + interval;
      const wait = at - now();
      if (wait > 0) await sleep(wait);
      return true;
    },
  };
}

/** Pacers by key (the region): calls for different regions count against different limits. */
export function pacersByKey(make: () => Pacer): (key: string) => Pacer {
  const pacers = new Map<string, Pacer>();
  return (key) => {
    let pacer = pacers.get(key);
    if (!pacer) {
      pacer = make();
      pacers.set(key, pacer);
    }
    return pacer;
  };
}
