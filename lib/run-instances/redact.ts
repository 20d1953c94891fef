/** What stands in for a secret in every read, log line and event. */
export const REDACTED = '[REDACTED]';

/** A copy of a request with `LoginSettings.Password` replaced, for anything that leaves the process. */
export function redactRequest<T extends object>(request: T): T {
  const login = (request as { LoginSettings?: unknown }).LoginSettings;
  if (typeof login !== 'object' || login === null || !('Password' in login)) return request;
  return { ...request, LoginSettings: { ...login, Password: REDACTED } };
}
