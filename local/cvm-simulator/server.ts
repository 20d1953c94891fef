import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../lib/clock.ts';
import { CVM_API_VERSION } from '../../lib/tencent/wire.ts';
import { ACTIONS } from './actions.ts';
import { type RawRequest, verifyTc3, verifyV1 } from './auth.ts';
import { type Catalog, DEFAULT_CATALOG } from './catalog.ts';
import { SimError } from './errors.ts';
import { type Fault, FaultTable, parseFault, RATE_LIMITS, RateLimiter, strikesAfter } from './faults.ts';
import { parseForcedState } from './lifecycle.ts';
import { type FlatParams, flattenJson } from './params.ts';
import { type ClientTokenMode, type SimInstance, SimState } from './state.ts';

/** The simulated account's key pair; the local stack signs with the same defaults. */
export const DEFAULT_SIM_SECRET_ID = 'AKIDSIMULATOR0000000000000000000000000';
export const DEFAULT_SIM_SECRET_KEY = 'simulator-secret-key-not-a-real-one';
/** v1 POST bodies are limited to 1 MB (docs/tencent.md, "Endpoints"); the simulator caps every body so. */
const MAX_BODY_BYTES = 1024 * 1024;
const V1_COMMON = new Set([
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

export interface SimulatorOptions {
  port?: number;
  host?: string;
  /**
   * SecretId → SecretKey, or → { secretKey, token } for temporary credentials, whose requests must carry that
   * token (`X-TC-Token`, or `Token` in v1). Defaults to the one simulated key pair.
   */
  credentials?: Record<string, string | SimCredential>;
  bootMs?: number;
  launchFailRate?: number;
  /** How long a new instance stays invisible to Describe (default 500 ms), plus up to the jitter. */
  visibilityDelayMs?: number;
  /** How much later than the instance its tags become visible (default 1000 ms), plus up to the jitter. */
  tagDelayMs?: number;
  /** Random extra delay, up to this, for each instance and again for its tags (default 1000 ms). */
  visibilityJitterMs?: number;
  /** `honoured` (default): same token and parameters → the same ids; `expiring`: forgotten after the TTL; `ignored`. */
  clientTokens?: ClientTokenMode;
  /** How long `expiring` remembers a token (default 60 s). */
  clientTokenTtlMs?: number;
  quota?: number;
  terminateMs?: number;
  /** How long after RUNNING the launch still shows `LatestOperationState: OPERATING` (default 1000 ms). */
  settleMs?: number;
  /** How long after its launch failed a LAUNCH_FAILED instance is reclaimed (default 60 s). */
  reclaimMs?: number;
  /** false turns rate limiting off (for benchmarks); an object overrides the per-action limits. */
  rateLimits?: boolean | Record<string, number>;
  now?: Clock;
  random?: () => number;
  catalog?: Catalog;
}

export interface SimCredential {
  secretKey: string;
  /** The session token requests with this SecretId must carry. */
  token?: string;
}

/** The default visibility delays: on, as on the real service, where a new instance and its tags show up late. */
export const DEFAULT_VISIBILITY = {
  visibilityDelayMs: 500,
  tagDelayMs: 1000,
  visibilityJitterMs: 1000,
} as const;

/**
 * The defaults of the instance lifecycle: a launch settles a second after RUNNING (Packer waits for it), and a
 * failed launch is reclaimed after a minute — Tencent takes hours, so a poller must cope with a failure that
 * vanishes before it was seen (docs/simulator.md, "Instance lifecycle").
 */
export const DEFAULT_LIFECYCLE = {
  settleMs: 1000,
  reclaimMs: 60_000,
} as const;

/** An instance as `GET /_sim/instances` lists it: the truth, whatever Describe sees. */
function adminView(state: SimState, i: SimInstance): Record<string, unknown> {
  const status = state.statusOf(i);
  return {
    InstanceId: i.instanceId,
    InstanceState: status.state,
    Region: i.region,
    Zone: i.zone,
    InstanceName: i.instanceName,
    InstanceType: i.instanceType,
    ClientToken: i.clientToken ?? null,
    Tags: i.tags,
    PrivateIpAddress: i.privateIp,
    PublicIpAddress: i.publicIp ?? null,
    CreatedTime: new Date(i.createdAt).toISOString(),
    LatestOperation: status.operation,
    LatestOperationState: status.operationState,
    LatestOperationErrorMsg: status.errorMsg,
    VisibleTime: new Date(i.visibleAt).toISOString(),
  };
}

/** `POST /_sim/instances/{InstanceId}/state`. */
const FORCE_STATE_PATH = /^\/_sim\/instances\/([^/]+)\/state$/;

export interface Simulator {
  url: string;
  port: number;
  state: SimState;
  faults: FaultTable;
  /** Authenticated API calls, by action, since the start or the last reset (also `GET /_sim/stats`). */
  readonly calls: ReadonlyMap<string, number>;
  /**
   * Injected faults that struck, by `<action> <mode> <before|after>`, and calls refused by the rate limit, by
   * `<action> rate-limit`, since the start or the last reset (also `GET /_sim/stats`, as `faults`).
   */
  readonly struck: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function tencentError(res: ServerResponse, requestId: string, code: string, message: string): void {
  send(res, 200, { Response: { Error: { Code: code, Message: message }, RequestId: requestId } });
}

/** Answers with a fault instead of the action's result (before it took effect, or after). */
function strike(fault: Fault, req: IncomingMessage, res: ServerResponse, requestId: string): void {
  if (fault.mode === 'http502') {
    res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>');
  } else if (fault.mode === 'dropAfterCommit') {
    req.socket.destroy();
  } else if (fault.mode !== 'timeout') {
    // timeout: hold the connection until the client gives up or the server closes
    const [code, message] =
      fault.mode === 'InternalError'
        ? ['InternalError', 'An internal error occurred (injected)']
        : fault.mode === 'RequestLimitExceeded'
          ? ['RequestLimitExceeded', 'The request was throttled (injected)']
          : [fault.code ?? 'InternalError', `${fault.code} (injected)`];
    tencentError(res, requestId, code, fault.message ?? message);
  }
}

/** Starts a Tencent CVM API 3.0 endpoint on loopback (docs/simulator.md). */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const credentials = new Map(
    Object.entries(options.credentials ?? { [DEFAULT_SIM_SECRET_ID]: DEFAULT_SIM_SECRET_KEY }).map(
      ([secretId, entry]): [string, SimCredential] => [
        secretId,
        typeof entry === 'string' ? { secretKey: entry } : entry,
      ],
    ),
  );
  const keys = new Map([...credentials].map(([secretId, entry]) => [secretId, entry.secretKey]));
  const state = new SimState(
    {
      bootMs: options.bootMs ?? 2000,
      launchFailRate: options.launchFailRate ?? 0,
      visibilityDelayMs: options.visibilityDelayMs ?? DEFAULT_VISIBILITY.visibilityDelayMs,
      tagDelayMs: options.tagDelayMs ?? DEFAULT_VISIBILITY.tagDelayMs,
      visibilityJitterMs: options.visibilityJitterMs ?? DEFAULT_VISIBILITY.visibilityJitterMs,
      clientTokens: options.clientTokens ?? 'honoured',
      clientTokenTtlMs: options.clientTokenTtlMs ?? 60_000,
      quota: options.quota ?? 1000,
      terminateMs: options.terminateMs ?? 2000,
      settleMs: options.settleMs ?? DEFAULT_LIFECYCLE.settleMs,
      reclaimMs: options.reclaimMs ?? DEFAULT_LIFECYCLE.reclaimMs,
    },
    options.catalog ?? DEFAULT_CATALOG,
    now,
    random,
  );
  const faults = new FaultTable();
  const limits =
    options.rateLimits === false
      ? false
      : typeof options.rateLimits === 'object'
        ? options.rateLimits
        : RATE_LIMITS;
  const limiter = new RateLimiter(limits);
  const calls = new Map<string, number>();
  const struck = new Map<string, number>();
  const count = (key: string) => struck.set(key, (struck.get(key) ?? 0) + 1);

  const admin = (req: IncomingMessage, body: Buffer, res: ServerResponse, path: string) => {
    if (path === '/_sim/instances' && req.method === 'GET') {
      const instances = [...state.instances.values()].map((i) => adminView(state, i));
      return send(res, 200, { TotalCount: instances.length, Instances: instances });
    }
    const forcing = FORCE_STATE_PATH.exec(path);
    if (forcing && req.method === 'POST') {
      let input: unknown;
      try {
        input = JSON.parse(body.toString('utf8'));
      } catch {
        return send(res, 400, { error: 'the body must be JSON' });
      }
      const forced = parseForcedState(input);
      if (typeof forced === 'string') return send(res, 400, { error: forced });
      const instanceId = forcing[1] ?? '';
      if (!state.forceState(instanceId, forced))
        return send(res, 404, { error: `no instance ${instanceId} (or it is gone)` });
      const instance = state.instances.get(instanceId) as SimInstance;
      return send(res, 200, adminView(state, instance));
    }
    if (path === '/_sim/faults' && req.method === 'POST') {
      let input: unknown;
      try {
        input = JSON.parse(body.toString('utf8'));
      } catch {
        return send(res, 400, { error: 'the body must be JSON' });
      }
      const fault = parseFault(input);
      if (typeof fault === 'string') return send(res, 400, { error: fault });
      faults.add(fault);
      return send(res, 201, { faults: faults.list() });
    }
    if (path === '/_sim/faults' && req.method === 'GET') return send(res, 200, { faults: faults.list() });
    if (path === '/_sim/faults' && req.method === 'DELETE') {
      faults.clear();
      return send(res, 200, { faults: [] });
    }
    if (path === '/_sim/stats' && req.method === 'GET')
      return send(res, 200, { calls: Object.fromEntries(calls), faults: Object.fromEntries(struck) });
    if (path === '/_sim/reset' && req.method === 'POST') {
      calls.clear();
      struck.clear();
      state.reset();
      faults.clear();
      limiter.reset();
      res.writeHead(204).end();
      return;
    }
    send(res, 404, { error: `no ${req.method} ${path}` });
  };

  const api = (req: IncomingMessage, body: Buffer, res: ServerResponse, path: string, query: string) => {
    const requestId = randomUUID();
    const raw: RawRequest = { method: req.method ?? '', path, query, headers: req.headers, body };
    const nowSeconds = Math.floor(now() / 1000);
    const contentType = String(req.headers['content-type'] ?? '');
    // API 3.0 signs in the Authorization header (TC3) or in the parameters (v1, no such header).
    const isTc3 = req.headers.authorization !== undefined;
    let secretId: string;
    let action: string;
    let version: string | undefined;
    let region: string | undefined;
    let params: FlatParams;
    let sessionToken: string | undefined;
    try {
      if (raw.method !== 'POST' && raw.method !== 'GET')
        throw new SimError('UnsupportedProtocol', 'Only GET and POST are accepted');
      if (isTc3) {
        secretId = verifyTc3(raw, keys, nowSeconds);
        action = String(req.headers['x-tc-action'] ?? '');
        version = req.headers['x-tc-version'] as string | undefined;
        region = req.headers['x-tc-region'] as string | undefined;
        sessionToken = req.headers['x-tc-token'] as string | undefined;
        if (raw.method === 'POST' && !contentType.startsWith('application/json')) {
          throw new SimError('InvalidParameter', 'TC3 POST requests must send application/json');
        }
        params = raw.method === 'GET' ? new Map(new URLSearchParams(query)) : flattenJson(parseJson(body));
      } else {
        const form = Object.fromEntries(
          new URLSearchParams(raw.method === 'GET' ? query : body.toString('utf8')),
        );
        secretId = verifyV1(raw, form, keys, nowSeconds);
        action = form.Action ?? '';
        version = form.Version;
        region = form.Region;
        sessionToken = form.Token;
        params = new Map(Object.entries(form).filter(([key]) => !V1_COMMON.has(key)));
      }
      checkSessionToken(credentials.get(secretId), sessionToken || undefined);
      calls.set(action, (calls.get(action) ?? 0) + 1);
      const handler = ACTIONS[action];
      if (!handler)
        throw new SimError('InvalidAction', `The action \`${action}\` is not supported by this simulator`);
      if (version !== CVM_API_VERSION)
        throw new SimError('NoSuchVersion', `The version \`${version}\` does not exist`);
      if (!region) throw new SimError('MissingParameter', 'The request is missing Region');
      if (!state.catalog.zones[region])
        throw new SimError('UnsupportedRegion', `The region \`${region}\` is not supported`);
      if (!limiter.admit(secretId, action, now())) {
        count(`${action} rate-limit`);
        throw new SimError(
          'RequestLimitExceeded',
          `${action} is limited to ${(limits || RATE_LIMITS)[action]} requests per second`,
        );
      }
      const fault = faults.draw(action, random);
      if (fault && !strikesAfter(fault)) {
        count(`${action} ${fault.mode} before`);
        return strike(fault, req, res, requestId);
      }
      const result = handler({ state, region, params, requestId, now: now() });
      if (fault) {
        count(`${action} ${fault.mode} after`);
        return strike(fault, req, res, requestId);
      }
      send(res, 200, { Response: { ...result, RequestId: requestId } });
    } catch (error) {
      if (error instanceof SimError) return tencentError(res, requestId, error.code, error.message);
      tencentError(res, requestId, 'InternalError', 'The simulator failed to process the request');
      console.error(error);
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const url = req.url ?? '/';
      const mark = url.indexOf('?');
      const path = mark === -1 ? url : url.slice(0, mark);
      const query = mark === -1 ? '' : url.slice(mark + 1);
      if (path.startsWith('/_sim/')) return admin(req, Buffer.concat(chunks), res, path);
      if (size > MAX_BODY_BYTES)
        return tencentError(res, randomUUID(), 'RequestSizeLimitExceeded', 'The request body is too large');
      api(req, Buffer.concat(chunks), res, path, query);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    state,
    faults,
    calls,
    struck,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Temporary credentials need their token; a permanent key takes none (a token sent with one is wrong too). */
function checkSessionToken(credential: SimCredential | undefined, sent: string | undefined): void {
  if (credential?.token === undefined && sent === undefined) return;
  if (credential?.token === undefined)
    throw new SimError('AuthFailure.TokenFailure', 'A session token was sent with a permanent key');
  if (sent === undefined)
    throw new SimError('AuthFailure.TokenFailure', 'The temporary key needs its session token (X-TC-Token)');
  if (sent !== credential.token)
    throw new SimError('AuthFailure.TokenFailure', 'The session token is invalid or has expired');
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new SimError('InvalidParameter', 'The request body is not valid JSON');
  }
}
