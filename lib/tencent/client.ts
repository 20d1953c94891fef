import { EventEmitter } from 'node:events';
import type { Dispatcher } from 'undici';
import { Pool } from 'undici';
import type { Clock } from '../clock.ts';
import { ProvisionerError, RequestNotSentError, TencentApiError, UnknownOutcomeError } from '../errors.ts';
import type { CredentialsProvider, TencentCredentials } from './credentials.ts';
import { type Endpoint, parseEndpoint, regionalEndpoint } from './endpoint.ts';
import { classifyTencentCode, isRetryableTencentCode } from './error-classes.ts';
import type { SignMethod } from './sign-methods.ts';
import { createTc3KeyCache, signTc3, tc3Date } from './sign-tc3.ts';
import { signV1, type V1Method } from './sign-v1.ts';
import { CVM_API_VERSION, encodeForm, flattenParams, jsonWithoutNulls, withoutNulls } from './wire.ts';

export { SIGN_METHODS, type SignMethod } from './sign-methods.ts';
/** A call's own deadline when the caller gives none; Lambda callers pass their remaining time instead. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** The longest delay setTimeout keeps (2^31 - 1 ms); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface TencentClientOptions {
  /**
   * One endpoint for every call (TENCENTCLOUD_ENDPOINT: the simulator, a proxy). Without it each call goes to
   * its region's own host, `cvm.<region>.tencentcloudapi.com` (docs/tencent.md, "Endpoints").
   */
  endpoint?: string;
  signMethod: SignMethod;
  credentials: CredentialsProvider;
  /** POST (default) or GET; TC3 POST sends JSON, every other combination the flattened form. */
  httpMethod?: 'POST' | 'GET';
  /** Injected in tests (a MockAgent or a loopback Pool); otherwise one keep-alive Pool per origin. */
  dispatcher?: Dispatcher;
  now?: Clock;
  nonce?: () => number;
  timeoutMs?: number;
  language?: 'en-US' | 'zh-CN';
  service?: string;
  version?: string;
}

export interface CallOptions {
  region?: string;
  signal?: AbortSignal;
  /** Overrides the client's timeout for this call (e.g. the Lambda's remaining time minus a margin). */
  timeoutMs?: number;
}

/** A parsed `Response` object of Tencent API 3.0, RequestId included. */
export type TencentResponse = Record<string, unknown> & { RequestId?: string };

export interface TencentClient {
  call(action: string, params: Record<string, unknown>, options?: CallOptions): Promise<TencentResponse>;
  close(): Promise<void>;
}

/** One keep-alive Pool per origin; the client lives at module scope, so warm invocations reuse them. */
function newPool(origin: string): Pool {
  return new Pool(origin, { connections: 32, keepAliveTimeout: 30_000 });
}

/**
 * v1 common parameters (docs/tencent.md, "v1 signing"): a business parameter of the same name would be signed
 * twice.
 */
const V1_RESERVED = new Set([
  'Action',
  'Version',
  'Region',
  'Timestamp',
  'Nonce',
  'SecretId',
  'Signature',
  'SignatureMethod',
  'Token',
  'Language',
  'RequestClient',
]);

/** Connection errors that mean the request never left this process. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const { code } = current as { code?: unknown };
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return code;
    current = current.cause;
  }
  return undefined;
}

/** A call's deadline passed while getting credentials. */
class DeadlinePassed extends Error {
  constructor() {
    super('The call timed out');
    this.name = 'TimeoutError';
  }
}

/** Waits for a promise until the deadline (DeadlinePassed) or the signal's abort, whichever comes first. */
function withinDeadline<T>(promise: Promise<T>, deadline: number, signal?: AbortSignal): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        reject(new DeadlinePassed());
      },
      Math.max(0, deadline - performance.now()),
    );
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

interface WireRequest {
  path: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
}

/** Creates a Tencent Cloud API client (CVM by default) over undici. */
export function createTencentClient(options: TencentClientOptions): TencentClient {
  const fixed = options.endpoint === undefined ? undefined : parseEndpoint(options.endpoint);
  const httpMethod = options.httpMethod ?? 'POST';
  if (options.signMethod === 'TC3-HMAC-SHA256' && fixed && fixed.path !== '/') {
    throw new ProvisionerError(
      'InvalidEndpoint',
      `TC3-HMAC-SHA256 signs the path "/" only; ${fixed.path} needs a v1 method`,
    );
  }
  const pools = new Map<string, Pool>();
  // Parsed once per region: a URL parse per call is work repeated for the same answer. Regions are a few
  // dozen; the bound only stops a caller naming endless well-formed ones from growing it.
  const regional = new Map<string | undefined, Endpoint>();
  /** The endpoint of a call: the fixed one, else the region's own host. */
  const endpointFor = (region: string | undefined): Endpoint => {
    if (fixed) return fixed;
    let endpoint = regional.get(region);
    if (!endpoint) {
      endpoint = parseEndpoint(regionalEndpoint(region));
      if (regional.size >= 64) regional.clear();
      regional.set(region, endpoint);
    }
    return endpoint;
  };
  const dispatcherFor = (endpoint: Endpoint): Dispatcher => {
    if (options.dispatcher) return options.dispatcher;
    let pool = pools.get(endpoint.origin);
    if (!pool) {
      pool = newPool(endpoint.origin);
      pools.set(endpoint.origin, pool);
    }
    return pool;
  };
  let closed = false;
  const now = options.now ?? Date.now;
  const nonce = options.nonce ?? (() => 1 + Math.floor(Math.random() * 65_535));
  const service = options.service ?? 'cvm';
  const version = options.version ?? CVM_API_VERSION;
  // docs/tencent.md, "Signing-key cache": the derived key per secret, service and UTC date.
  const signingKeys = createTc3KeyCache();

  const buildTc3 = (
    endpoint: Endpoint,
    action: string,
    params: Record<string, unknown>,
    credentials: TencentCredentials,
    region?: string,
  ): WireRequest => {
    const timestamp = Math.floor(now() / 1000);
    const key = signingKeys.get(credentials.secretKey, tc3Date(timestamp), service);
    const isGet = httpMethod === 'GET';
    const contentType = isGet ? 'application/x-www-form-urlencoded' : 'application/json';
    const body = isGet ? '' : jsonWithoutNulls(params);
    const query = isGet ? encodeForm(flattenParams(withoutNulls(params) as Record<string, unknown>)) : '';
    const { authorization } = signTc3(
      {
        method: httpMethod,
        host: endpoint.hostname,
        query,
        contentType,
        payload: body,
        timestamp,
        service,
        secretId: credentials.secretId,
        secretKey: credentials.secretKey,
      },
      key,
    );
    const headers: Record<string, string> = {
      authorization,
      'content-type': contentType,
      'x-tc-action': action,
      'x-tc-version': version,
      'x-tc-timestamp': String(timestamp),
    };
    if (region) headers['x-tc-region'] = region;
    if (options.language) headers['x-tc-language'] = options.language;
    if (credentials.token) headers['x-tc-token'] = credentials.token;
    return isGet
      ? { path: `/?${query}`, method: 'GET', headers }
      : { path: '/', method: 'POST', headers, body };
  };

  const buildV1 = (
    endpoint: Endpoint,
    action: string,
    params: Record<string, unknown>,
    credentials: TencentCredentials,
    region?: string,
  ): WireRequest => {
    const pairs: Array<[string, string]> = flattenParams(withoutNulls(params) as Record<string, unknown>);
    const reserved = pairs.find(([key]) => V1_RESERVED.has(key));
    if (reserved) {
      throw new RequestNotSentError(
        'InvalidParameter',
        `${reserved[0]} is a common parameter; pass it as a call option`,
        {
          retryable: false,
        },
      );
    }
    pairs.push(
      ['Action', action],
      ['Version', version],
      ['Timestamp', String(Math.floor(now() / 1000))],
      ['Nonce', String(nonce())],
      ['SecretId', credentials.secretId],
      ['SignatureMethod', options.signMethod],
    );
    if (region) pairs.push(['Region', region]);
    if (credentials.token) pairs.push(['Token', credentials.token]);
    if (options.language) pairs.push(['Language', options.language]);
    const signature = signV1({
      method: httpMethod,
      host: endpoint.host,
      path: endpoint.path,
      params: pairs,
      secretKey: credentials.secretKey,
      signatureMethod: options.signMethod as V1Method,
    });
    pairs.push(['Signature', signature]);
    const form = encodeForm(pairs);
    return httpMethod === 'GET'
      ? { path: `${endpoint.path}?${form}`, method: 'GET', headers: {} }
      : {
          path: endpoint.path,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form,
        };
  };

  const build = options.signMethod === 'TC3-HMAC-SHA256' ? buildTc3 : buildV1;

  /**
   * GET puts the parameters in the URL, where proxies, access logs and browser histories keep them: refused
   * for a call that carries a secret (a password, or a session token, which v1 signs as a parameter).
   */
  const refuseSecretsInUrl = (
    action: string,
    params: Record<string, unknown>,
    credentials: TencentCredentials,
  ) => {
    if (httpMethod !== 'GET') return;
    const what =
      secretValues(params).length > 0
        ? 'a secret (a password or UserData)'
        : credentials.token && options.signMethod !== 'TC3-HMAC-SHA256'
          ? 'the session token'
          : undefined;
    if (what) {
      throw new RequestNotSentError('SecretInUrl', `${action}: GET would put ${what} in the URL; use POST`, {
        retryable: false,
      });
    }
  };

  const buildWire = (
    endpoint: Endpoint,
    action: string,
    params: Record<string, unknown>,
    credentials: TencentCredentials,
    region?: string,
  ) => {
    try {
      return build(endpoint, action, params, credentials, region);
    } catch (error) {
      if (error instanceof ProvisionerError) throw error;
      // A lone surrogate (URIError) or a BigInt (TypeError) cannot be put on the wire.
      throw new RequestNotSentError('InvalidParameter', `${action}: the parameters cannot be encoded`, {
        cause: error,
        retryable: false,
      });
    }
  };

  return {
    async call(action, params, callOptions = {}) {
      // One deadline covers the whole call, credentials included; a negative budget means "already late".
      const given = callOptions.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      if (Number.isNaN(given))
        throw new RequestNotSentError('InvalidTimeout', `${action}: the time budget is not a number`, {
          retryable: false,
        });
      // An unbounded budget is bounded by the longest timer Node keeps (about 24.8 days).
      const timeoutMs = Math.min(MAX_TIMER_MS, Math.max(0, given));
      return callWithin(action, params, callOptions, performance.now() + timeoutMs);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...pools.values()].map((pool) => pool.close()));
    },
  };

  /**
   * One call under its deadline (docs/tencent.md, "Deadlines"): credentials a provider holds are taken at once,
   * else its lookup races the deadline; then one timer covers connecting, queueing, the headers and the body,
   * and cancels the request through an EventEmitter handed to undici as its `signal` (an AbortSignal costs undici
   * more per request than the rest of the call's bookkeeping together). The caller's own signal cancels it too.
   */
  async function callWithin(
    action: string,
    params: Record<string, unknown>,
    callOptions: CallOptions,
    deadline: number,
  ): Promise<TencentResponse> {
    const notSent = (why: string, cause?: unknown) =>
      new RequestNotSentError('RequestNotSent', `${action} was not sent: ${why}`, {
        cause,
        retryable: true,
      });
    const { signal } = callOptions;
    if (closed)
      throw new RequestNotSentError('ClientClosed', `${action}: the client is closed`, {
        retryable: false,
      });
    // Before the provider is asked: a lookup nobody waits for could reject unobserved.
    if (signal?.aborted) throw notSent('aborted');
    let credentials: TencentCredentials;
    try {
      credentials =
        options.credentials.current?.() ?? (await withinDeadline(options.credentials(), deadline, signal));
    } catch (error) {
      if (error instanceof DeadlinePassed)
        throw notSent('the deadline passed while getting credentials', error);
      if (signal?.aborted) throw notSent('aborted', error);
      throw error;
    }
    if (signal?.aborted) throw notSent('aborted');
    if (deadline - performance.now() <= 0) throw notSent('the deadline passed before sending');
    refuseSecretsInUrl(action, params, credentials);
    let endpoint: Endpoint;
    try {
      endpoint = endpointFor(callOptions.region);
    } catch (error) {
      throw new RequestNotSentError('InvalidRegion', `${action}: no endpoint for the region given`, {
        cause: error,
        retryable: false,
      });
    }
    const wire = buildWire(endpoint, action, params, credentials, callOptions.region);
    const cancel = new EventEmitter();
    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        cancel.emit('abort');
      },
      Math.max(0, deadline - performance.now()),
    );
    timer.unref();
    const onAbort = () => cancel.emit('abort');
    signal?.addEventListener('abort', onAbort, { once: true });
    let status: number;
    let text: string;
    try {
      const response = await dispatcherFor(endpoint).request({
        origin: endpoint.origin,
        ...wire,
        signal: cancel,
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      const refused = causeCode(error);
      if (refused) throw notSent(`the connection could not be opened (${refused})`, error);
      // Closed while the request was in flight: it may have reached Tencent.
      if (closed)
        throw new UnknownOutcomeError('ConnectionError', `${action}: the client was closed mid-request`, {
          cause: error,
        });
      if (timedOut || signal?.aborted) {
        throw new UnknownOutcomeError(
          'RequestTimeout',
          `${action} ${timedOut ? 'timed out' : 'was aborted'} before Tencent answered`,
          { cause: error },
        );
      }
      throw new UnknownOutcomeError('ConnectionError', `${action}: the connection failed before an answer`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    // Only an error message needs the secrets to redact: found on that path alone, not on every success.
    return parseResponse(action, status, text, () => [
      ...secretValues(params),
      credentials.secretKey,
      ...(credentials.token ? [credentials.token] : []),
    ]);
  }
}

/**
 * Parameter names whose values are secrets, at any depth of a request: LoginSettings.Password, and UserData,
 * which commonly carries a bootstrap script with keys in it.
 */
const SECRET_PARAMETER = /^(password|userdata)$/i;

/** The secret values a request holds: what no URL, error or log line may carry. */
export function secretValues(params: unknown, found: string[] = []): string[] {
  if (Array.isArray(params)) for (const item of params) secretValues(item, found);
  else if (typeof params === 'object' && params !== null) {
    for (const [key, value] of Object.entries(params)) {
      if (SECRET_PARAMETER.test(key) && typeof value === 'string' && value !== '') found.push(value);
      else secretValues(value, found);
    }
  }
  return found;
}

/** The longest server message kept (a gateway page or a stack trace is not an error message). */
const MAX_MESSAGE_LENGTH = 500;

/** A secret as a server might echo it: as sent, percent-encoded (a form or a URL), or JSON-escaped. */
function spellings(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])];
}

/** A server's error message without anything the request held secret, and not unboundedly long. */
function sanitizedMessage(message: unknown, secrets: readonly string[]): string {
  let text = String(message ?? '');
  for (const secret of secrets) {
    if (secret) for (const spelling of spellings(secret)) text = text.split(spelling).join('[REDACTED]');
  }
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
}

/**
 * Turns Tencent's answer into the Response object, a TencentApiError, or an UnknownOutcomeError. An error
 * message is kept (it says what Tencent refused), with every one of `secrets` redacted out of it: a server
 * that echoes a parameter must not carry a password into our errors and logs.
 */
export function parseResponse(
  action: string,
  status: number,
  text: string,
  secrets: readonly string[] | (() => readonly string[]) = [],
): TencentResponse {
  const redact = (message: unknown) =>
    sanitizedMessage(message, typeof secrets === 'function' ? secrets() : secrets);
  if (status !== 200) {
    throw new UnknownOutcomeError(
      'HttpStatus',
      `${action}: HTTP ${status} from the gateway; the outcome is unknown`,
      {
        httpStatus: status,
      },
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // The parser's message quotes the text around the fault (which may echo a parameter): keep only that it failed.
    throw new UnknownOutcomeError('UnparsableResponse', `${action}: the answer is not JSON`);
  }
  const envelope = (body ?? {}) as {
    Response?: unknown;
    code?: unknown;
    message?: unknown;
    codeDesc?: unknown;
  };
  if (typeof envelope.Response === 'object' && envelope.Response !== null) {
    const response = envelope.Response as TencentResponse & { Error?: { Code?: unknown; Message?: unknown } };
    if (response.Error) {
      const code = String(response.Error.Code ?? 'UnknownError');
      // A passing DryRun may answer DryRunOperation instead of a bare RequestId (docs/tencent.md, "Responses
      // and errors").
      if (code === 'DryRunOperation')
        return { ...(response.RequestId ? { RequestId: response.RequestId } : {}), DryRunOperation: true };
      throw new TencentApiError(code, redact(response.Error.Message), {
        requestId: typeof response.RequestId === 'string' ? response.RequestId : undefined,
        retryable: isRetryableTencentCode(code),
        errorClass: classifyTencentCode(code),
      });
    }
    return response;
  }
  // The legacy gateway answers {"code": 0 | n, "message": …, "codeDesc": …} (docs/tencent.md, "Responses and
  // errors").
  if (typeof envelope.code === 'number') {
    if (envelope.code === 0) return body as TencentResponse;
    const code = typeof envelope.codeDesc === 'string' ? envelope.codeDesc : String(envelope.code);
    throw new TencentApiError(code, redact(envelope.message), {
      requestId: undefined,
      retryable: isRetryableTencentCode(code),
      errorClass: classifyTencentCode(code),
    });
  }
  throw new UnknownOutcomeError('UnparsableResponse', `${action}: the answer has no Response object`);
}
