import type middy from '@middy/core';
import type { Logger } from '../log.ts';
import { problemResponse } from './problem.ts';
import type { HttpEvent, HttpResponse } from './types.ts';

/** middy middleware: any error becomes an RFC 9457 problem response (500s generic and logged). */
export function problemJson(logger: Logger): middy.MiddlewareObj<HttpEvent, HttpResponse> {
  return {
    onError: async (request) => {
      request.response = problemResponse(request.error, {
        instance: request.event.rawPath ?? '/',
        requestId: request.event.requestContext?.requestId,
        logger,
      });
    },
  };
}
