import type { Clock } from '../../lib/clock.ts';

/** A clock the test moves by hand (the project's one clock type: epoch milliseconds). */
export interface TestClock {
  readonly now: Clock;
  advance(ms: number): void;
  set(at: number | Date): void;
}

/** The API tests' start: 2026-11-26 12:00 UTC. */
export const CLOCK_START = Date.UTC(2026, 10, 26, 12);
/** The simulator tests' start: a whole second, so advancing by < 1000 ms stays in one rate-limit window. */
export const T0 = Date.UTC(2026, 0, 15, 8, 0, 0);

export function testClock(start: number | Date = CLOCK_START): TestClock {
  let current = typeof start === 'number' ? start : start.getTime();
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
    set: (at) => {
      current = typeof at === 'number' ? at : at.getTime();
    },
  };
}

/** The clock's time as an ISO string (how the store writes timestamps). */
export const isoAt = (clock: TestClock) => new Date(clock.now()).toISOString();
