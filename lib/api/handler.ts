import middy from '@middy/core';
import { problemJson } from '../http/middleware.ts';
import type { HttpEvent, HttpResponse } from '../http/types.ts';
import type { ApiDeps } from './deps.ts';
import { handleApiRequest } from './router.ts';

/** The API Lambda: the router behind a middy stack that turns every error into problem+json. */
export function createApiHandler(deps: ApiDeps) {
  return middy<HttpEvent, HttpResponse>()
    .use(problemJson(deps.logger))
    .handler((event) => handleApiRequest(event, deps));
}
