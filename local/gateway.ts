import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpEvent, HttpResponse } from '../lib/http/types.ts';
import type { Logger } from '../lib/log.ts';

/** What API Gateway HTTP API accepts at most (docs/aws.md, "API Gateway HTTP API": 10 MB payload). */
const MAX_GATEWAY_BODY_BYTES = 10 * 1024 * 1024;

export interface Route {
  /** `METHOD /path/{param}` as in serverless.yml's httpApi events. */
  routeKey: string;
  /** Invokes the route's function (local/runtime/lambda.ts) with the event API Gateway would send. */
  invoke: (event: HttpEvent) => Promise<unknown>;
}

function matcher(routeKey: string): { method: string; pattern: RegExp; names: string[] } {
  const [method = '', path = ''] = routeKey.split(' ');
  const names: string[] = [];
  const source = path.replace(/\{([A-Za-z0-9_]+)\}/g, (_all, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { method, pattern: new RegExp(`^${source}$`), names };
}

/** The gateway's own errors, in the API's problem+json shape (docs/http-api.md, "Errors"). */
function problem(res: ServerResponse, status: number, title: string, detail: string, instance = '/'): void {
  const codes: Record<number, string> = {
    404: 'ResourceNotFound',
    413: 'RequestSizeLimitExceeded',
    500: 'InternalError',
  };
  res.writeHead(status, { 'content-type': 'application/problem+json', 'cache-control': 'no-store' });
  res.end(
    JSON.stringify({
      type: `urn:cvm-provisioner:problem:${title.toLowerCase().replace(/[^a-z]+/g, '-')}`,
      title,
      status,
      detail,
      instance,
      code: codes[status] ?? 'InternalError',
      errors: [],
    }),
  );
}

/**
 * An HTTP API (payload 2.0) in front of local handlers: each request becomes the event API Gateway would
 * send — lower-cased headers, form and binary bodies base64-encoded as API Gateway does — and the handler's
 * result becomes the response.
 */
export function createGateway(routes: readonly Route[], logger: Logger) {
  const compiled = routes.map((route) => ({ route, ...matcher(route.routeKey) }));
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_GATEWAY_BODY_BYTES)
        return problem(res, 413, 'Request Entity Too Large', 'API Gateway accepts at most 10 MB');
      chunks.push(chunk);
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const found = compiled.find((c) => c.method === method && c.pattern.test(url.pathname));
    if (!found) return problem(res, 404, 'Not found', `No route ${method} ${url.pathname}`, url.pathname);
    const match = found.pattern.exec(url.pathname) ?? [];
    const pathParameters = Object.fromEntries(
      found.names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]),
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
    }
    const body = Buffer.concat(chunks);
    const contentType = headers['content-type'] ?? '';
    const textual = /^(application\/json|text\/)/i.test(contentType);
    const now = Date.now();
    const event = {
      version: '2.0',
      routeKey: found.route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
      ...(found.names.length ? { pathParameters } : {}),
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: headers.host ?? 'localhost',
        domainPrefix: 'local',
        http: {
          method,
          path: url.pathname,
          protocol: 'HTTP/1.1',
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: found.route.routeKey,
        stage: '$default',
        time: new Date(now).toUTCString(),
        timeEpoch: now,
      },
      ...(body.length ? { body: textual ? body.toString('utf8') : body.toString('base64') } : {}),
      isBase64Encoded: body.length > 0 && !textual,
    } as HttpEvent;
    let result: HttpResponse;
    try {
      result = (await found.route.invoke(event)) as HttpResponse;
    } catch (error) {
      // API Gateway answers a failed integration (an error, a timeout, a crash) with a bare 500.
      logger.error('the function failed; the gateway answers 500', { routeKey: found.route.routeKey, error });
      return problem(res, 500, 'Internal error', 'The function failed', url.pathname);
    }
    res.writeHead(result.statusCode, result.headers);
    res.end(result.body);
  };
}
