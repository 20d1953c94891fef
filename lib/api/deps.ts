import type { AuthSettings } from '../http/auth.ts';
import type { Policy } from '../jobs/policy.ts';
import type { StoreDeps } from '../jobs/store.ts';
import type { Logger } from '../log.ts';
import type { QueueDeps } from '../queue/producer.ts';
import type { ProfileName } from '../run-instances/index.ts';

/** What the HTTP API needs, built once in lib/deps.ts (or by a test). */
export interface ApiDeps extends StoreDeps, QueueDeps {
  logger: Logger;
  newId: () => string;
  profile: ProfileName;
  policy: Policy;
  auth: AuthSettings;
}
