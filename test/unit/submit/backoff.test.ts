import { describe, expect, it } from 'vitest';
import { BACKOFF, retryDelaySeconds } from '../../../lib/submit/backoff.ts';

describe('retryDelaySeconds', () => {
  it('doubles with each receive from the base, up to the cap (at the top of the jitter)', () => {
    const top = { random: () => 1 };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelaySeconds(n, top))).toEqual([
      5, 10, 20, 40, 80, 160, 300, 300,
    ]);
  });

  it('keeps half of the wait fixed and jitters the other half', () => {
    expect(retryDelaySeconds(3, { random: () => 0 })).toBe(10);
    expect(retryDelaySeconds(3, { random: () => 0.5 })).toBe(15);
    const spread = new Set(Array.from({ length: 200 }, () => retryDelaySeconds(4)));
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...spread)).toBeLessThanOrEqual(40);
    expect(spread.size).toBeGreaterThan(5);
  });

  it('never answers less than a second, nor more than the cap, whatever the receive count', () => {
    for (const n of [0, -3, Number.NaN, 1e9]) {
      const delay = retryDelaySeconds(n, { random: () => 0 });
      expect(delay).toBeGreaterThanOrEqual(1);
      expect(delay).toBeLessThanOrEqual(BACKOFF.capSeconds);
    }
  });
});
