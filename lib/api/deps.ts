import type { AuthSettings } from '../http/auth.ts';
import type { AcceptDeps } from '../jobs/accept.ts';
import type { OutboxDeps } from '../jobs/outbox.ts';

/** What the HTTP API needs, built once in lib/deps/http.ts (or by a test); a cancel writes an event. */
export interface ApiDeps extends AcceptDeps, OutboxDeps {
  auth: AuthSettings;
}
