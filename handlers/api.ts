import { createApiHandler } from '../lib/api/handler.ts';
import { createApiDeps } from '../lib/deps/http.ts';
import { instrument } from '../lib/invocation.ts';

const deps = createApiDeps();

/** The HTTP API's routes (API Gateway HTTP API, payload 2.0; lib/api/router.ts). */
export const handler = instrument(deps.observability, createApiHandler(deps));
