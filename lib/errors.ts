import type { Violation } from './run-instances/codes.ts';

/**
 * One error family. `code` is stable and machine-readable; `expose` says whether the message may be shown
 * to the caller (middy's convention); the subclass says what the caller should do.
 */
export class ProvisionerError extends Error {
  readonly code: string;
  readonly expose: boolean;
  constructor(code: string, message: string, options: { cause?: unknown; expose?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.expose = options.expose ?? false;
  }
}

/** The request breaks RunInstances rules: a 4xx with every violation listed. Never retried. */
export class InvalidRequestError extends ProvisionerError {
  readonly violations: readonly Violation[];
  constructor(violations: readonly Violation[], message = 'The request breaks the RunInstances rules') {
    super(violations[0]?.code ?? 'InvalidParameter', message, { expose: true });
    this.violations = violations;
  }
}

/** Configuration is missing or invalid: the process cannot serve. Names every variable at fault. */
export class ConfigError extends ProvisionerError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('ConfigError', `Invalid configuration: ${problems.join('; ')}`);
    this.problems = problems;
  }
}
