/**
 * Test harness for the local CVM simulator: an in-process simulator on port 0 with a controlled clock, our
 * own client pointed at it, raw signed requests for hand-crafted failures, and the `/_sim/*` admin API.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  createTencentClient,
  type TencentClient,
  type TencentClientOptions,
} from '../../lib/tencent/client.ts';
import { staticCredentials } from '../../lib/tencent/credentials.ts';
import {
  DEFAULT_SIM_SECRET_ID,
  DEFAULT_SIM_SECRET_KEY,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../local/cvm-simulator/index.ts';
import { T0, type TestClock, testClock } from './clock.ts';
import { sdkSign3, sdkSignV1 } from './tencent-sdk.ts';

export { T0 };

export const SECRET_ID = DEFAULT_SIM_SECRET_ID;
export const SECRET_KEY = DEFAULT_SIM_SECRET_KEY;
export const REGION = 'ap-guangzhou';
export const ZONE = 'ap-guangzhou-3';
export const IMAGE_ID = 'img-pmqg1cw7';
/** The smallest valid RunInstances request the simulator accepts in REGION. */
export const BASE_RUN: Readonly<Record<string, unknown>> = Object.freeze({
  Placement: { Zone: ZONE },
  ImageId: IMAGE_ID,
  InstanceType: 'S5.MEDIUM4',
});

/** A client of ours (each owns its connection pool, so closing one never disturbs another test's). */
export function ownClient(url: string, options: Partial<TencentClientOptions> = {}): TencentClient {
  return createTencentClient({
    endpoint: url,
    signMethod: 'TC3-HMAC-SHA256',
    credentials: staticCredentials(SECRET_ID, SECRET_KEY),
    ...options,
  });
}

export interface Harness {
  sim: Simulator;
  clock: TestClock;
  /** Our client, signing with the harness clock and calling REGION unless told otherwise. */
  client(options?: Partial<TencentClientOptions>): HarnessClient;
  close(): Promise<void>;
}

export interface HarnessClient {
  call(action: string, params?: Record<string, unknown>, region?: string | null): Promise<TencentResponseOf>;
}

export type TencentResponseOf = Record<string, unknown> & { RequestId?: string };

/**
 * Starts a simulator on 127.0.0.1:0 driven by a manual clock. Rate limits and visibility delays are off unless
 * the test asks for them, so tests that make many calls in one clock second are not throttled by accident and
 * a new instance is seen at once.
 */
export async function startHarness(options: Omit<SimulatorOptions, 'port' | 'now'> = {}): Promise<Harness> {
  const clock = testClock(T0);
  const sim = await startSimulator({
    rateLimits: false,
    visibilityDelayMs: 0,
    tagDelayMs: 0,
    visibilityJitterMs: 0,
    ...options,
    port: 0,
    now: clock.now,
  });
  const clients: TencentClient[] = [];
  return {
    sim,
    clock,
    client(clientOptions = {}) {
      const client = ownClient(sim.url, { now: clock.now, ...clientOptions });
      clients.push(client);
      return {
        call: (action, params = {}, region = REGION) =>
          client.call(action, params, region === null ? {} : { region }),
      };
    },
    async close() {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await sim.close();
    },
  };
}

export interface DescribedInstance {
  InstanceId: string;
  InstanceState: string;
  InstanceName: string;
  InstanceType: string;
  ImageId: string;
  Placement: { Zone: string; ProjectId: number; HostId?: string };
  PrivateIpAddresses: string[];
  PublicIpAddresses: string[] | null;
  VirtualPrivateCloud: { VpcId: string; SubnetId: string; PrivateIpAddresses: string[] } | null;
  Tags: Array<{ Key: string; Value: string }>;
  LatestOperation: string;
  LatestOperationState: string;
  LatestOperationErrorMsg: string | null;
  CreatedTime: string;
  CPU: number;
  Memory: number;
  RestrictState: string;
  InstanceChargeType: string;
  SystemDisk: { DiskType: string; DiskId: string; DiskSize: number };
  DataDisks: Array<{
    DiskType: string;
    DiskId: string;
    DiskSize: number;
    DeleteWithInstance: boolean;
    Encrypt: boolean;
    SnapshotId?: string;
  }> | null;
  InternetAccessible: {
    InternetChargeType: string;
    InternetMaxBandwidthOut: number;
    PublicIpAssigned: boolean;
  };
  RenewFlag: string | null;
  ExpiredTime: string | null;
  OsName: string;
  SecurityGroupIds: string[];
  LoginSettings: { KeyIds: string[] | null };
  StopChargingMode: string;
  Uuid: string;
  LatestOperationRequestId: string;
  IPv6Addresses: null;
  CamRoleName: string | null;
  IsolatedSource: string;
  DisasterRecoverGroupIds: string[];
  LicenseType: string;
  DisableApiTermination: boolean;
  HostName: string;
  DefaultLoginUser: string;
  DefaultLoginPort: number;
}

export interface DescribeResult {
  TotalCount: number;
  InstanceSet: DescribedInstance[];
}

export async function runInstances(
  client: HarnessClient,
  params: Record<string, unknown> = {},
): Promise<string[]> {
  const response = await client.call('RunInstances', { ...BASE_RUN, ...params });
  return response.InstanceIdSet as string[];
}

export async function describeInstances(
  client: HarnessClient,
  params: Record<string, unknown> = {},
): Promise<DescribeResult> {
  return (await client.call('DescribeInstances', params)) as unknown as DescribeResult;
}

/** The one instance with this id, as DescribeInstances shows it (undefined when Describe cannot see it). */
export async function describeOne(client: HarnessClient, id: string): Promise<DescribedInstance | undefined> {
  const result = await describeInstances(client, { InstanceIds: [id] });
  return result.InstanceSet[0];
}

/** The Tencent error code a call failed with, or `accepted`. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Admin endpoints

export interface AdminInstance {
  InstanceId: string;
  InstanceState: string;
  Region: string;
  Zone: string;
  InstanceName: string;
  InstanceType: string;
  ClientToken: string | null;
  Tags: Array<{ Key: string; Value: string }>;
  PrivateIpAddress: string;
  PublicIpAddress: string | null;
  CreatedTime: string;
  LatestOperation: string;
  LatestOperationState: string;
  LatestOperationErrorMsg: string | null;
  /** When Describe starts to see the instance. */
  VisibleTime: string;
}

export async function simInstances(sim: Simulator): Promise<AdminInstance[]> {
  const response = await fetch(`${sim.url}/_sim/instances`);
  const body = (await response.json()) as { TotalCount: number; Instances: AdminInstance[] };
  return body.Instances;
}

export async function addFault(sim: Simulator, fault: unknown): Promise<Response> {
  return fetch(`${sim.url}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof fault === 'string' ? fault : JSON.stringify(fault),
  });
}

export async function listFaults(sim: Simulator): Promise<unknown[]> {
  const response = await fetch(`${sim.url}/_sim/faults`);
  return ((await response.json()) as { faults: unknown[] }).faults;
}

/** `POST /_sim/instances/{id}/state`: the body as given (a string is sent as it is, for malformed bodies). */
export async function forceSimState(sim: Simulator, instanceId: string, body: unknown): Promise<Response> {
  return fetch(`${sim.url}/_sim/instances/${instanceId}/state`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export async function resetSim(sim: Simulator): Promise<Response> {
  return fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
}

// ---------------------------------------------------------------------------------------------------------
// Raw requests, signed by the official SDK's code, for failures our client would never produce

export interface Envelope {
  Response: Record<string, unknown> & { Error?: { Code: string; Message: string }; RequestId: string };
}

export interface RawTc3 {
  action?: string;
  /** The JSON text that is signed (and sent, unless `sentBody` differs). */
  payload?: string;
  sentBody?: string;
  timestamp: number;
  secretId?: string;
  /** The key the request is signed with. */
  secretKey?: string;
  region?: string;
  version?: string;
  /** Replaces the Authorization header the SDK computed. */
  authorization?: (signed: string) => string;
}

export async function rawTc3(sim: Simulator, request: RawTc3): Promise<{ status: number; body: Envelope }> {
  const payload = request.payload ?? '{}';
  const contentType = 'application/json';
  const signed = sdkSign3({
    method: 'POST',
    host: '127.0.0.1',
    contentType,
    payload,
    timestamp: request.timestamp,
    service: 'cvm',
    secretId: request.secretId ?? SECRET_ID,
    secretKey: request.secretKey ?? SECRET_KEY,
  });
  const headers: Record<string, string> = {
    authorization: request.authorization ? request.authorization(signed) : signed,
    'content-type': contentType,
    'x-tc-action': request.action ?? 'DescribeInstances',
    'x-tc-version': request.version ?? '2017-03-12',
    'x-tc-timestamp': String(request.timestamp),
    'x-tc-region': request.region ?? REGION,
  };
  const response = await fetch(`${sim.url}/`, {
    method: 'POST',
    headers,
    body: request.sentBody ?? payload,
  });
  return { status: response.status, body: (await response.json()) as Envelope };
}

export interface RawV1 {
  method: 'POST' | 'GET';
  /** Business parameters, already flattened. */
  params?: Record<string, string>;
  action?: string;
  timestamp: number;
  signatureMethod?: 'HmacSHA1' | 'HmacSHA256';
  secretId?: string;
  secretKey?: string;
  /** Changes the parameters after signing (the signature stays the one computed before). */
  tamper?: (signed: Record<string, string>) => Record<string, string>;
}

export async function rawV1(sim: Simulator, request: RawV1): Promise<{ status: number; body: Envelope }> {
  const signatureMethod = request.signatureMethod ?? 'HmacSHA256';
  const params: Record<string, string> = {
    ...request.params,
    Action: request.action ?? 'DescribeInstances',
    Version: '2017-03-12',
    Region: REGION,
    Timestamp: String(request.timestamp),
    Nonce: '4242',
    SecretId: request.secretId ?? SECRET_ID,
    SignatureMethod: signatureMethod,
  };
  const signature = sdkSignV1({
    method: request.method,
    host: `127.0.0.1:${sim.port}`,
    path: '/',
    params,
    secretKey: request.secretKey ?? SECRET_KEY,
    signatureMethod,
  });
  const sent = { ...(request.tamper ? request.tamper(params) : params), Signature: signature };
  const form = new URLSearchParams(sent).toString();
  const response =
    request.method === 'GET'
      ? await fetch(`${sim.url}/?${form}`)
      : await fetch(`${sim.url}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form,
        });
  return { status: response.status, body: (await response.json()) as Envelope };
}

// ---------------------------------------------------------------------------------------------------------
// The official SDK's CvmClient (CommonJS)

export interface SdkCvmClient {
  RunInstances(request: Record<string, unknown>): Promise<{ InstanceIdSet?: string[]; RequestId?: string }>;
  DescribeInstances(
    request: Record<string, unknown>,
  ): Promise<{ TotalCount?: number; InstanceSet?: DescribedInstance[]; RequestId?: string }>;
  TerminateInstances(request: Record<string, unknown>): Promise<{ RequestId?: string }>;
}

const require = createRequire(import.meta.url);

/**
 * The field names of one interface of the official SDK's CVM model (`cvm_models.d.ts` of
 * tencentcloud-sdk-nodejs-cvm), read from the installed package, to hold the simulator's shapes against it.
 */
export function sdkModelFields(interfaceName: string): string[] {
  const index = require.resolve('tencentcloud-sdk-nodejs-cvm');
  const models = readFileSync(join(dirname(index), 'services/cvm/v20170312/cvm_models.d.ts'), 'utf8');
  const start = models.indexOf(`export interface ${interfaceName} {`);
  if (start === -1) throw new Error(`the SDK model has no interface ${interfaceName}`);
  const body = models.slice(start, models.indexOf('\n}', start));
  return [...body.matchAll(/^ {4}(\w+)\??:/gm)].map(([, name = '']) => name);
}

const { cvm } = require('tencentcloud-sdk-nodejs-cvm') as {
  cvm: { v20170312: { Client: new (config: unknown) => SdkCvmClient } };
};

export function sdkClient(
  sim: Simulator,
  signMethod: 'TC3-HMAC-SHA256' | 'HmacSHA256',
  credential: { secretId: string; secretKey: string } = { secretId: SECRET_ID, secretKey: SECRET_KEY },
): SdkCvmClient {
  return new cvm.v20170312.Client({
    credential,
    region: REGION,
    profile: {
      signMethod,
      httpProfile: { endpoint: `127.0.0.1:${sim.port}`, protocol: 'http://', reqTimeout: 10 },
    },
  });
}
