import type { Clock } from '../../lib/clock.ts';
import type { Catalog, Subnet } from './catalog.ts';
import { FORCED_OPERATIONS, type ForcedState, type InstanceState, type InstanceStatus } from './lifecycle.ts';

export type { InstanceState, OperationState } from './lifecycle.ts';

/** A disk as Describe shows it (SDK `SystemDisk` / `DataDisk`). */
export interface SimDisk {
  DiskType: string;
  DiskId: string;
  DiskSize: number;
}

export interface SimDataDisk extends SimDisk {
  DeleteWithInstance: boolean;
  Encrypt: boolean;
  SnapshotId?: string;
}

export interface SimInstance {
  instanceId: string;
  region: string;
  zone: string;
  projectId: number;
  /** The dedicated host a CDHPAID instance landed on. */
  hostId?: string;
  instanceType: string;
  cpu: number;
  memory: number;
  imageId: string;
  osName: string;
  defaultLoginUser: string;
  defaultLoginPort: number;
  instanceName: string;
  hostName: string;
  chargeType: string;
  /** PREPAID only: the request's renewal flag; when the period ends. */
  renewFlag?: string;
  expiresAt?: number;
  uuid: string;
  systemDisk: SimDisk;
  dataDisks: SimDataDisk[];
  internetChargeType: string;
  bandwidthOut: number;
  keyIds: string[];
  camRoleName?: string;
  disableApiTermination: boolean;
  createdAt: number;
  /** When PENDING ends. */
  readyAt: number;
  /** Decided at creation: the instance ends LAUNCH_FAILED instead of RUNNING. */
  launchFails: boolean;
  /** What `LatestOperationErrorMsg` says if the launch fails (drawn at creation, whether it fails or not). */
  launchFailReason: string;
  /** Overrides what Describe shows, until TerminateInstances or a reset (`SimState.forceState`). */
  forced?: ForcedState;
  /**
   * Describe calls do not see the instance before this (docs/tencent.md, "DescribeInstances": a brief absence
   * after create).
   */
  visibleAt: number;
  /** Describe shows the instance's tags (and tag filters match them) from this time on, after `visibleAt`. */
  tagsVisibleAt: number;
  terminatedAt?: number;
  terminateRequestId?: string;
  privateIp: string;
  publicIp?: string;
  vpcId?: string;
  subnetId?: string;
  securityGroupIds: string[];
  tags: Array<{ Key: string; Value: string }>;
  clientToken?: string;
  requestId: string;
}

/** What the simulator does with a RunInstances ClientToken (docs/simulator.md, "ClientToken"). */
export const CLIENT_TOKEN_MODES = ['honoured', 'expiring', 'ignored'] as const;
export type ClientTokenMode = (typeof CLIENT_TOKEN_MODES)[number];

export interface SimSettings {
  bootMs: number;
  launchFailRate: number;
  /** A new instance is invisible to Describe for this long, plus up to `visibilityJitterMs`. */
  visibilityDelayMs: number;
  /** Its tags show up this much later than the instance, plus up to `visibilityJitterMs`. */
  tagDelayMs: number;
  visibilityJitterMs: number;
  clientTokens: ClientTokenMode;
  /** How long a token is remembered in mode `expiring`. */
  clientTokenTtlMs: number;
  /** Live (not terminated) instances the account may hold. */
  quota: number;
  /** How long a terminated instance stays visible as TERMINATING. */
  terminateMs: number;
  /** How long after RUNNING the RunInstances operation still shows OPERATING. */
  settleMs: number;
  /** How long after its launch failed a LAUNCH_FAILED instance is reclaimed (gone). */
  reclaimMs: number;
}

/** States that hold no quota: the launch failed, or the instance is on its way out (or gone). */
const QUOTA_FREE: ReadonlySet<InstanceState | 'GONE'> = new Set(['LAUNCH_FAILED', 'TERMINATING', 'GONE']);

/** Everything the simulated account holds; one instance per simulator. */
export class SimState {
  readonly instances = new Map<string, SimInstance>();
  /**
   * ClientToken → what the first successful RunInstances with it created (docs/simulator.md, "ClientToken":
   * our chosen semantics).
   */
  readonly tokens = new Map<string, { fingerprint: string; instanceIds: string[]; at: number }>();
  private readonly ipCursor = new Map<string, number>();
  private publicCursor = 0;

  readonly settings: SimSettings;
  readonly catalog: Catalog;
  private readonly now: Clock;
  private readonly random: () => number;

  constructor(settings: SimSettings, catalog: Catalog, now: Clock, random: () => number) {
    this.settings = settings;
    this.catalog = catalog;
    this.now = now;
    this.random = random;
  }

  reset(): void {
    this.instances.clear();
    this.tokens.clear();
    this.ipCursor.clear();
    this.publicCursor = 0;
  }

  /** The instance's state and latest operation now, as Describe shows them ('GONE': no longer listed). */
  statusOf(instance: SimInstance, at = this.now()): InstanceStatus {
    const { terminateMs, settleMs, reclaimMs } = this.settings;
    if (instance.terminatedAt !== undefined && at >= instance.terminatedAt + terminateMs)
      return { state: 'GONE', operation: 'TerminateInstances', operationState: 'SUCCESS', errorMsg: null };
    if (instance.forced) return forcedStatus(instance, instance.forced);
    if (instance.terminatedAt !== undefined)
      return {
        state: 'TERMINATING',
        operation: 'TerminateInstances',
        operationState: 'OPERATING',
        errorMsg: null,
      };
    if (at < instance.readyAt)
      return { state: 'PENDING', operation: 'RunInstances', operationState: 'OPERATING', errorMsg: null };
    if (instance.launchFails) {
      return {
        state: at < instance.readyAt + reclaimMs ? 'LAUNCH_FAILED' : 'GONE',
        operation: 'RunInstances',
        operationState: 'FAILED',
        errorMsg: instance.launchFailReason,
      };
    }
    return {
      state: 'RUNNING',
      operation: 'RunInstances',
      operationState: at < instance.readyAt + settleMs ? 'OPERATING' : 'SUCCESS',
      errorMsg: null,
    };
  }

  /** The instance's state now ('GONE': no longer listed). */
  stateOf(instance: SimInstance, at = this.now()): InstanceState | 'GONE' {
    return this.statusOf(instance, at).state;
  }

  /**
   * Makes Describe show this state for the instance from now on, until TerminateInstances or a reset; false
   * when there is no such instance (or it is gone).
   */
  forceState(instanceId: string, forced: ForcedState): boolean {
    const instance = this.instances.get(instanceId);
    if (!instance || this.stateOf(instance) === 'GONE') return false;
    instance.forced = { ...forced };
    return true;
  }

  /** Instances a Describe call can see now, in creation order. */
  visible(region: string): SimInstance[] {
    const at = this.now();
    return [...this.instances.values()].filter(
      (i) => i.region === region && at >= i.visibleAt && this.stateOf(i, at) !== 'GONE',
    );
  }

  /** The tags Describe shows for an instance now: none until its tags are attached. */
  visibleTags(instance: SimInstance, at = this.now()): Array<{ Key: string; Value: string }> {
    return at >= instance.tagsVisibleAt ? instance.tags : [];
  }

  /** What an earlier RunInstances with this token created, if the token is still remembered. */
  rememberedToken(token: string): { fingerprint: string; instanceIds: string[] } | undefined {
    if (this.settings.clientTokens === 'ignored') return undefined;
    const entry = this.tokens.get(token);
    if (!entry) return undefined;
    if (
      this.settings.clientTokens === 'expiring' &&
      this.now() >= entry.at + this.settings.clientTokenTtlMs
    ) {
      this.tokens.delete(token);
      return undefined;
    }
    return entry;
  }

  /** Remembers what a token created (never, when tokens are ignored). */
  rememberToken(token: string, fingerprint: string, instanceIds: string[]): void {
    if (this.settings.clientTokens === 'ignored') return;
    this.tokens.set(token, { fingerprint, instanceIds, at: this.now() });
  }

  /** When a new instance becomes visible to Describe, and when its tags do (with jitter). */
  visibilityTimes(createdAt: number): { visibleAt: number; tagsVisibleAt: number } {
    const { visibilityDelayMs, tagDelayMs, visibilityJitterMs } = this.settings;
    const visibleAt = createdAt + visibilityDelayMs + Math.floor(this.random() * visibilityJitterMs);
    const tagsVisibleAt = visibleAt + tagDelayMs + Math.floor(this.random() * visibilityJitterMs);
    return { visibleAt, tagsVisibleAt };
  }

  /** Instances that hold quota: every state but a failed launch, a termination, or gone. */
  liveCount(): number {
    const at = this.now();
    return [...this.instances.values()].filter((i) => !QUOTA_FREE.has(this.stateOf(i, at))).length;
  }

  /** `<prefix>-` and 8 characters of [0-9a-z] from random(), the shape of Tencent's resource ids. */
  resourceId(prefix: string): string {
    let id = `${prefix}-`;
    for (let i = 0; i < 8; i++)
      id += ID_ALPHABET[Math.floor(this.random() * ID_ALPHABET.length) % ID_ALPHABET.length];
    return id;
  }

  /** An RFC 4122 version 4 UUID from random() (the `Uuid` of an instance). */
  newUuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.random() * 16) % 16);
    hex[12] = 4;
    hex[16] = 8 + ((hex[16] ?? 0) % 4);
    const text = hex.map((digit) => digit.toString(16)).join('');
    return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
  }

  /** A draw in [0, 1) from the injected random(). */
  draw(): number {
    return this.random();
  }

  newInstanceId(): string {
    for (let attempt = 0; attempt < 16; attempt++) {
      const id = this.resourceId('ins');
      if (!this.instances.has(id)) return id;
    }
    // An injected random() that keeps repeating itself: count instead of looping forever.
    for (let n = this.instances.size; ; n++) {
      const id = `ins-${n.toString(36).padStart(8, '0')}`;
      if (!this.instances.has(id)) return id;
    }
  }

  launchFails(): boolean {
    return this.random() < this.settings.launchFailRate;
  }

  /** Private IPs held by instances that still exist. */
  usedIps(): Set<string> {
    const at = this.now();
    return new Set(
      [...this.instances.values()].filter((i) => this.stateOf(i, at) !== 'GONE').map((i) => i.privateIp),
    );
  }

  /** The next free address of a subnet, or undefined when the subnet is full. */
  allocateIp(subnet: Pick<Subnet, 'subnetId' | 'cidr'>, taken: Set<string>): string | undefined {
    const [base, bits] = parseCidr(subnet.cidr);
    const size = 2 ** (32 - bits);
    const start = this.ipCursor.get(subnet.subnetId) ?? 2;
    for (let offset = 0; offset < size; offset++) {
      const host = ((start - 2 + offset) % (size - 3)) + 2; // skip network, gateway (.1) and broadcast
      const ip = toIp(base + host);
      if (!taken.has(ip)) {
        this.ipCursor.set(subnet.subnetId, host + 1);
        return ip;
      }
    }
    return undefined;
  }

  /**
   * A free public address from the three documentation ranges of RFC 5737 (762 addresses: never routable,
   * obviously simulated), or undefined when all are held by instances that still exist.
   */
  allocatePublicIp(): string | undefined {
    const at = this.now();
    const taken = new Set(
      [...this.instances.values()]
        .filter((i) => i.publicIp && this.stateOf(i, at) !== 'GONE')
        .map((i) => i.publicIp),
    );
    for (let tried = 0; tried < PUBLIC_POOL.length * 254; tried++) {
      const n = this.publicCursor++ % (PUBLIC_POOL.length * 254);
      const ip = `${PUBLIC_POOL[Math.floor(n / 254)]}.${(n % 254) + 1}`;
      if (!taken.has(ip)) return ip;
    }
    return undefined;
  }
}

const PUBLIC_POOL = ['203.0.113', '198.51.100', '192.0.2'] as const;
const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** What a forced state shows: the state, its default latest operation, or what the force said. */
function forcedStatus(instance: SimInstance, forced: ForcedState): InstanceStatus {
  const defaults = FORCED_OPERATIONS[forced.InstanceState];
  const operationState = forced.LatestOperationState ?? defaults.operationState;
  const failedMsg =
    forced.InstanceState === 'LAUNCH_FAILED'
      ? instance.launchFailReason
      : `The ${defaults.operation} operation failed.`;
  return {
    state: forced.InstanceState,
    operation: defaults.operation,
    operationState,
    errorMsg:
      forced.LatestOperationErrorMsg !== undefined
        ? forced.LatestOperationErrorMsg
        : operationState === 'FAILED'
          ? failedMsg
          : null,
  };
}

/** The network, gateway (.1) and broadcast addresses of a subnet, which no instance gets. */
export function isReserved(ip: string, cidr: string): boolean {
  const [base, bits] = parseCidr(cidr);
  const offset = toNumber(ip) - base;
  return offset === 0 || offset === 1 || offset === 2 ** (32 - bits) - 1;
}

export function parseCidr(cidr: string): [number, number] {
  const [ip, bits] = cidr.split('/');
  return [toNumber(ip ?? '0.0.0.0'), Number(bits)];
}

export function toNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function toIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = parseCidr(cidr);
  const size = 2 ** (32 - bits);
  const n = toNumber(ip);
  return n >= base && n < base + size;
}
