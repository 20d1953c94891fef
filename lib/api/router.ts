import { MethodNotAllowedError, NotFoundError } from '../errors.ts';
import { authenticate } from '../http/auth.ts';
import { type HttpEvent, type HttpResponse, jsonResponse } from '../http/types.ts';
import type { ApiDeps } from './deps.ts';
import { listJobEventsForCaller, redeliverEventForCaller } from './events.ts';
import { cancelJobForCaller, getJobForCaller, listJobsOfCaller } from './jobs.ts';
import { postRunInstances, validateRunInstances } from './run-instances.ts';

/** The API's routes (serverless.yml's httpApi events name the same route keys). */
export const ROUTES = {
  runInstances: 'POST /v1/run-instances',
  validate: 'POST /v1/run-instances/validate',
  listJobs: 'GET /v1/jobs',
  getJob: 'GET /v1/jobs/{jobId}',
  cancelJob: 'POST /v1/jobs/{jobId}/cancel',
  jobEvents: 'GET /v1/jobs/{jobId}/events',
  redeliverEvent: 'POST /v1/jobs/{jobId}/events/{eventId}/redeliver',
  openApi: 'GET /v1/openapi.json',
} as const;

const KNOWN = Object.values(ROUTES).map((routeKey) => {
  const [method = '', path = ''] = routeKey.split(' ');
  return { method, pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`) };
});

/**
 * A request no method route took (it came by an `ANY` route, or another the API does not serve): 405 with
 * the methods its path has, or 404. Answered before authentication: that a documented path exists is no
 * secret.
 */
function unrouted(event: HttpEvent): never {
  const method = event.requestContext.http.method;
  const path = event.rawPath;
  const allow = KNOWN.filter((route) => route.pattern.test(path)).map((route) => route.method);
  if (allow.length) throw new MethodNotAllowedError(method, path, allow);
  throw new NotFoundError(`No route ${method} ${path}`);
}

/** Handles one API Gateway request: route, authenticate, answer. Errors propagate to the problem handler. */
export async function handleApiRequest(event: HttpEvent, deps: ApiDeps): Promise<HttpResponse> {
  switch (event.routeKey) {
    case ROUTES.runInstances:
      return postRunInstances(event, authenticate(event, deps.auth), deps);
    case ROUTES.validate:
      authenticate(event, deps.auth);
      return validateRunInstances(event, deps);
    case ROUTES.getJob:
      return jsonResponse(
        200,
        await getJobForCaller(deps, authenticate(event, deps.auth), event.pathParameters?.jobId ?? ''),
      );
    case ROUTES.listJobs:
      return jsonResponse(
        200,
        await listJobsOfCaller(deps, authenticate(event, deps.auth), event.queryStringParameters ?? {}),
      );
    case ROUTES.cancelJob:
      return jsonResponse(
        200,
        await cancelJobForCaller(deps, authenticate(event, deps.auth), event.pathParameters?.jobId ?? ''),
      );
    case ROUTES.jobEvents:
      return jsonResponse(
        200,
        await listJobEventsForCaller(deps, authenticate(event, deps.auth), event.pathParameters?.jobId ?? ''),
      );
    case ROUTES.redeliverEvent:
      return jsonResponse(
        202,
        await redeliverEventForCaller(
          deps,
          authenticate(event, deps.auth),
          event.pathParameters?.jobId ?? '',
          event.pathParameters?.eventId ?? '',
          event.queryStringParameters ?? {},
        ),
      );
    case ROUTES.openApi:
      // Public: clients are generated from it before they have credentials. Loaded on its first request: the
      // document's module (zod's JSON Schema generator, the examples) stays out of every cold start.
      return (await import('./openapi.ts')).openApiResponse(deps.profile);
    default:
      return unrouted(event);
  }
}
