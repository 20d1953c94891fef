/**
 * The project's one clock type: milliseconds since the epoch, as `Date.now` gives them. Everything that needs
 * the time takes a `Clock` from its deps (lib/deps.ts passes `Date.now`; tests pass a clock they move).
 */
export type Clock = () => number;

export const systemClock: Clock = Date.now;

/** The clock's time as an ISO 8601 UTC string (the format every stored timestamp uses). */
export function isoTime(clock: Clock): string {
  return new Date(clock()).toISOString();
}

/** Whole seconds since the epoch (DynamoDB TTL, Tencent timestamps, Standard Webhooks). */
export function epochSeconds(clock: Clock): number {
  return Math.floor(clock() / 1000);
}
