/**
 * Faults: `POST /_sim/faults { action, mode, rate | count, when?, code?, message? }` (docs/simulator.md,
 * "Fault injection"). `when: "after"` lets the action take effect first and then fails the answer, as a
 * gateway or a network does that loses the answer after the work is done.
 */
export const FAULT_MODES = [
  'InternalError',
  'RequestLimitExceeded',
  'http502',
  'timeout',
  'dropAfterCommit',
  'error',
] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** Modes that may strike after the action took effect; the others answer instead of the action. */
const MAY_STRIKE_AFTER: ReadonlySet<FaultMode> = new Set(['InternalError', 'http502', 'timeout', 'error']);

export interface Fault {
  /** An action name, or `*` for every action. */
  action: string;
  mode: FaultMode;
  /** Probability per matching call, in [0, 1]. */
  rate?: number;
  /** Fire on the next `count` matching calls, then disappear. */
  count?: number;
  /** Before the action takes effect (the default), or after (dropAfterCommit is always after). */
  when?: 'before' | 'after';
  /** For mode `error`: the Tencent error code to answer (`ResourceInsufficient.SpecifiedInstanceType`, …). */
  code?: string;
  message?: string;
}

/** Whether a fault strikes after the action took effect. */
export const strikesAfter = (fault: Fault) => fault.mode === 'dropAfterCommit' || fault.when === 'after';

/** Parses a fault from untrusted JSON; returns an error message instead when it is malformed. */
export function parseFault(input: unknown): Fault | string {
  if (typeof input !== 'object' || input === null)
    return 'a fault is a JSON object { action, mode, rate | count }';
  const { action, mode, rate, count, when, code, message } = input as Record<string, unknown>;
  if (typeof action !== 'string' || action === '') return 'action must be an action name or "*"';
  if (typeof mode !== 'string' || !(FAULT_MODES as readonly string[]).includes(mode)) {
    return `mode must be one of ${FAULT_MODES.join(', ')}`;
  }
  if (when !== undefined && when !== 'before' && when !== 'after') return 'when must be "before" or "after"';
  if (when === 'after' && !MAY_STRIKE_AFTER.has(mode as FaultMode))
    return `mode ${mode} cannot strike after the action (it answers instead of it)`;
  if (mode === 'error' && (typeof code !== 'string' || !/^[A-Za-z][A-Za-z0-9.]*$/.test(code)))
    return 'mode error needs a Tencent error code, such as ResourceInsufficient.SpecifiedInstanceType';
  if (mode !== 'error' && code !== undefined) return 'code is for mode error only';
  if (message !== undefined && typeof message !== 'string') return 'message must be a string';
  if ((rate === undefined) === (count === undefined)) return 'give exactly one of rate and count';
  if (rate !== undefined && (typeof rate !== 'number' || rate < 0 || rate > 1))
    return 'rate must be a number in [0, 1]';
  if (count !== undefined && (!Number.isInteger(count) || (count as number) < 1))
    return 'count must be a positive integer';
  return {
    action,
    mode: mode as FaultMode,
    ...(rate === undefined ? { count: count as number } : { rate: rate as number }),
    ...(when === undefined ? {} : { when }),
    ...(code === undefined ? {} : { code: code as string }),
    ...(message === undefined ? {} : { message: message as string }),
  };
}

export class FaultTable {
  private faults: Fault[] = [];

  add(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clear(): void {
    this.faults = [];
  }

  /** The fault that fires for this call, if any (count-based faults are used up first). */
  draw(action: string, random: () => number): Fault | undefined {
    for (const fault of this.faults) {
      if (fault.action !== '*' && fault.action !== action) continue;
      if (fault.count !== undefined) {
        fault.count--;
        if (fault.count <= 0) this.faults = this.faults.filter((f) => f !== fault);
        return { ...fault };
      }
      if (fault.rate !== undefined && random() < fault.rate) return { ...fault };
    }
    return undefined;
  }
}

/**
 * Per-action limits of the real API (docs/tencent.md, "Rate limits"): calls per second, counted per SecretId
 * and action in one-second windows of the simulator's clock.
 */
export const RATE_LIMITS: Readonly<Record<string, number>> = {
  RunInstances: 10,
  TerminateInstances: 10,
  DescribeInstances: 40,
  DescribeInstancesStatus: 40,
};

export class RateLimiter {
  private windows = new Map<string, { second: number; count: number }>();
  private readonly limits: Readonly<Record<string, number>> | false;

  constructor(limits: Readonly<Record<string, number>> | false) {
    this.limits = limits;
  }

  /** Counts the call; false when it is over the action's limit for the current second. */
  admit(secretId: string, action: string, nowMs: number): boolean {
    if (!this.limits) return true;
    const limit = this.limits[action];
    if (limit === undefined) return true;
    const key = `${secretId}\u0000${action}`;
    const second = Math.floor(nowMs / 1000);
    const window = this.windows.get(key);
    if (!window || window.second !== second) {
      this.windows.set(key, { second, count: 1 });
      return true;
    }
    window.count++;
    return window.count <= limit;
  }

  reset(): void {
    this.windows.clear();
  }
}
