import { createApiHandler } from '../lib/api/handler.ts';
import { createApiDeps } from '../lib/deps/http.ts';

/** POST /v1/run-instances and GET /v1/jobs/{jobId} (API Gateway HTTP API, payload 2.0). */
export const handler = createApiHandler(createApiDeps());
