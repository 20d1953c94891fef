import { NotFoundError } from '../errors.ts';
import { authenticate } from '../http/auth.ts';
import { parseRequestBody } from '../http/body.ts';
import { type HttpEvent, type HttpResponse, header, jsonResponse } from '../http/types.ts';
import { parseIdempotencyKey } from '../jobs/idempotency.ts';
import type { ApiDeps } from './deps.ts';
import { getJobForCaller } from './jobs.ts';
import { acceptRunInstances } from './run-instances.ts';

/** The API's routes (serverless.yml's httpApi events name the same route keys). */
export const ROUTES = {
  runInstances: 'POST /v1/run-instances',
  getJob: 'GET /v1/jobs/{jobId}',
} as const;

/** Handles one API Gateway request: authenticate, route, answer. Errors propagate to the problem handler. */
export async function handleApiRequest(event: HttpEvent, deps: ApiDeps): Promise<HttpResponse> {
  const caller = authenticate(event, deps.auth);
  switch (event.routeKey) {
    case ROUTES.runInstances: {
      const body = parseRequestBody(event, deps.profile);
      const key = header(event, 'idempotency-key');
      const response = await acceptRunInstances(deps, {
        caller,
        body,
        ...(key === undefined ? {} : { idempotencyKey: parseIdempotencyKey(key) }),
      });
      return { statusCode: response.statusCode, headers: { ...response.headers }, body: response.body };
    }
    case ROUTES.getJob:
      return jsonResponse(200, await getJobForCaller(deps, caller, event.pathParameters?.jobId ?? ''));
    default:
      throw new NotFoundError(`No route ${event.requestContext.http.method} ${event.rawPath}`);
  }
}
