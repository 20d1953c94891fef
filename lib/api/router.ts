import { NotFoundError } from '../errors.ts';
import { authenticate } from '../http/auth.ts';
import { type HttpEvent, type HttpResponse, jsonResponse } from '../http/types.ts';
import type { ApiDeps } from './deps.ts';
import { getJobForCaller } from './jobs.ts';
import { postRunInstances } from './run-instances.ts';

/** The API's routes (serverless.yml's httpApi events name the same route keys). */
export const ROUTES = {
  runInstances: 'POST /v1/run-instances',
  getJob: 'GET /v1/jobs/{jobId}',
} as const;

/** Handles one API Gateway request: authenticate, route, answer. Errors propagate to the problem handler. */
export async function handleApiRequest(event: HttpEvent, deps: ApiDeps): Promise<HttpResponse> {
  const caller = authenticate(event, deps.auth);
  switch (event.routeKey) {
    case ROUTES.runInstances:
      return postRunInstances(event, caller, deps);
    case ROUTES.getJob:
      return jsonResponse(200, await getJobForCaller(deps, caller, event.pathParameters?.jobId ?? ''));
    default:
      throw new NotFoundError(`No route ${event.requestContext.http.method} ${event.rawPath}`);
  }
}
