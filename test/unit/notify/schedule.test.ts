import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, nextRetryDelay, parseRetryAfter } from '../../../lib/notify/schedule.ts';

const SCHEDULE = [5_000, 60_000, 300_000];

describe('nextRetryDelay', () => {
  it.each([
    [1, 5_000],
    [2, 60_000],
    [3, 300_000],
  ])('after %i failed attempts waits the schedule’s entry (no jitter at the midpoint)', (failed, delay) => {
    expect(nextRetryDelay(SCHEDULE, failed, () => 0.5)).toBe(delay);
  });

  it('jitters within ±20 %', () => {
    expect(nextRetryDelay(SCHEDULE, 2, () => 0)).toBe(48_000);
    expect(nextRetryDelay(SCHEDULE, 2, () => 0.999999)).toBe(72_000);
  });

  it('has no next attempt once the schedule is spent', () => {
    expect(nextRetryDelay(SCHEDULE, 4, () => 0.5)).toBeUndefined();
  });

  it('lets Retry-After lengthen a delay, up to a day, and never shorten it', () => {
    expect(nextRetryDelay(SCHEDULE, 1, () => 0.5, 120_000)).toBe(120_000);
    expect(nextRetryDelay(SCHEDULE, 3, () => 0.5, 1_000)).toBe(300_000);
    expect(nextRetryDelay(SCHEDULE, 1, () => 0.5, 10 * MAX_RETRY_AFTER_MS)).toBe(MAX_RETRY_AFTER_MS);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 11, 2, 12);
  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    [new Date(now + 30_000).toUTCString(), 30_000],
    [new Date(now - 30_000).toUTCString(), 0],
  ])('reads %j', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it.each([[undefined], [''], ['soon'], ['-5'], ['1.5']])('ignores %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
