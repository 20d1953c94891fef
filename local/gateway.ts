import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpEvent, HttpResponse } from '../lib/http/types.ts';
import type { Logger } from '../lib/log.ts';

/**
 * What reaches a Lambda at most: API Gateway HTTP API takes 10 MB, but a synchronous Lambda invocation carries
 * at most 6 MB of request and 6 MB of response (docs/aws.md, "API Gateway HTTP API").
 */
const MAX_GATEWAY_BODY_BYTES = 6 * 1024 * 1024;
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
/** API Gateway's catch-all route key (serverless.yml: `httpApi: '*'`). */
const DEFAULT_ROUTE_KEY = '$default';

export interface Route {
  /** `METHOD /path/{param}` as in serverless.yml's httpApi events, or `$default`. */
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

const PROBLEM_CODES: Readonly<Record<number, string>> = {
  400: 'InvalidParameter',
  404: 'ResourceNotFound',
  413: 'RequestSizeLimitExceeded',
  500: 'InternalError',
};

/** The gateway's own errors, in the API's problem+json shape (docs/http-api.md, "Errors"). */
function problem(res: ServerResponse, status: number, title: string, detail: string, instance = '/'): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/problem+json', 'cache-control': 'no-store' });
  res.end(
    JSON.stringify({
      type: `urn:cvm-provisioner:problem:${title.toLowerCase().replace(/[^a-z]+/g, '-')}`,
      title,
      status,
      detail,
      instance,
      code: PROBLEM_CODES[status] ?? 'InternalError',
      errors: [],
    }),
  );
}

/** A function's answer, if it is one API Gateway could send (a status code, string headers, a string body). */
function asResponse(result: unknown): HttpResponse | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const { statusCode, headers, body } = result as Partial<HttpResponse>;
  if (typeof statusCode !== 'number' || statusCode < 100 || statusCode > 599) return undefined;
  if (headers !== undefined && (typeof headers !== 'object' || headers === null)) return undefined;
  if (body !== undefined && typeof body !== 'string') return undefined;
  return { statusCode, headers: headers ?? {}, body: body ?? '' };
}

/** Reads a request body up to the limit; undefined when the client went away or sent too much (answered). */
async function readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_GATEWAY_BODY_BYTES) {
        problem(res, 413, 'Request Entity Too Large', 'A Lambda function takes at most 6 MB of request');
        return undefined;
      }
      chunks.push(chunk);
    }
  } catch {
    // The client disconnected before its body was complete: nobody is left to answer.
    res.destroy();
    return undefined;
  }
  return Buffer.concat(chunks);
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A body as API Gateway passes it to a Lambda: text for JSON and text types, base64 for the rest — and for a
 * "text" body whose bytes are not UTF-8, which could not be passed as text without replacement characters.
 */
function eventBody(body: Buffer, contentType: string): { body?: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { isBase64Encoded: false };
  if (/^(application\/json|text\/)/i.test(contentType)) {
    try {
      return { body: STRICT_UTF8.decode(body), isBase64Encoded: false };
    } catch {
      // fall through: not UTF-8, so not text
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

/**
 * An HTTP API (payload 2.0) in front of local functions: each request becomes the event API Gateway would
 * send — lower-cased headers, form and binary bodies base64-encoded — routed by its route key (or to the
 * `$default` route), and the function's result becomes the response. Whatever one request does (a client
 * that disconnects, a malformed path, a function that fails), it is answered or dropped alone: nothing a
 * request does escapes this function.
 */
export function createGateway(routes: readonly Route[], logger: Logger) {
  // API Gateway prefers a route naming the method over `ANY` on the same path (and either over `$default`).
  const compiled = routes
    .filter((route) => route.routeKey !== DEFAULT_ROUTE_KEY)
    .map((route) => ({ route, ...matcher(route.routeKey) }))
    .sort((a, b) => Number(a.method === 'ANY') - Number(b.method === 'ANY'));
  const fallback = routes.find((route) => route.routeKey === DEFAULT_ROUTE_KEY);

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req, res);
    if (body === undefined) return;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return problem(res, 400, 'Bad request', 'The request target is not a valid path');
    }
    const method = req.method ?? 'GET';
    const found = compiled.find(
      (c) => (c.method === method || c.method === 'ANY') && c.pattern.test(url.pathname),
    );
    const route = found?.route ?? fallback;
    if (!route) return problem(res, 404, 'Not found', `No route ${method} ${url.pathname}`, url.pathname);
    const match = found ? (found.pattern.exec(url.pathname) ?? []) : [];
    let pathParameters: Record<string, string>;
    try {
      pathParameters = Object.fromEntries(
        (found?.names ?? []).map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]),
      );
    } catch {
      return problem(res, 400, 'Bad request', 'The path holds a malformed percent-encoding', url.pathname);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
    }
    const now = Date.now();
    const event = {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
      ...(found?.names.length ? { pathParameters } : {}),
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
        routeKey: route.routeKey,
        stage: '$default',
        time: new Date(now).toUTCString(),
        timeEpoch: now,
      },
      ...eventBody(body, headers['content-type'] ?? ''),
    } as HttpEvent;
    let result: HttpResponse | undefined;
    try {
      result = asResponse(await route.invoke(event));
    } catch (error) {
      // API Gateway answers a failed integration (an error, a timeout, a crash) with a bare 500.
      logger.error('the function failed; the gateway answers 500', { routeKey: route.routeKey, error });
      return problem(res, 500, 'Internal error', 'The function failed', url.pathname);
    }
    if (result && Buffer.byteLength(result.body) > MAX_RESPONSE_BYTES) {
      // Lambda refuses to return it (Function.ResponseSizeTooLarge): API Gateway answers 500.
      logger.error('the function answered more than 6 MB; Lambda would refuse it, the gateway answers 500', {
        routeKey: route.routeKey,
      });
      return problem(res, 500, 'Internal error', 'The function failed', url.pathname);
    }
    if (!result) {
      logger.error('the function answered something API Gateway cannot send; the gateway answers 500', {
        routeKey: route.routeKey,
      });
      return problem(res, 500, 'Internal error', 'The function failed', url.pathname);
    }
    res.writeHead(result.statusCode, result.headers);
    res.end(result.body);
  };

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      await serve(req, res);
    } catch (error) {
      logger.error('the gateway failed on a request; it answers 500 and carries on', { error });
      problem(res, 500, 'Internal error', 'The gateway failed');
    }
  };
}
