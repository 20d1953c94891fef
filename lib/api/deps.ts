import type { AuthSettings } from '../http/auth.ts';
import type { AcceptDeps } from '../jobs/accept.ts';

/** What the HTTP API needs, built once in lib/deps.ts (or by a test). */
export interface ApiDeps extends AcceptDeps {
  auth: AuthSettings;
}
