import {
  DESCRIBE_PARAMETERS,
  DISK_DEFAULTS,
  RUN_INSTANCES_PARAMETERS,
  type Subnet,
  TERMINATE_PARAMETERS,
} from './catalog.ts';
import { SimError } from './errors.ts';
import { launchFailureReason, markersOf, TERMINATE_REFUSALS } from './lifecycle.ts';
import {
  countEntries,
  type FlatParams,
  fingerprint,
  getBoolean,
  getInteger,
  getList,
  getString,
  unknownParameters,
} from './params.ts';
import { inCidr, isReserved, type SimDataDisk, type SimInstance, type SimState } from './state.ts';

export interface ActionContext {
  state: SimState;
  region: string;
  params: FlatParams;
  requestId: string;
  now: number;
}

const INSTANCE_ID = /^ins-[0-9a-z]{8}$/;
const IMAGE_ID = /^img-[0-9a-z]{8}$/;
const INSTANCE_TYPE = /^[A-Za-z][A-Za-z0-9]*\.[0-9A-Z]+$/;
const PERIODS = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36, 48, 60]);
const CHARGE_TYPES = new Set(['PREPAID', 'POSTPAID_BY_HOUR', 'SPOTPAID', 'CDHPAID', 'CDCPAID']);
const RENEW_FLAGS = new Set([
  'NOTIFY_AND_AUTO_RENEW',
  'NOTIFY_AND_MANUAL_RENEW',
  'DISABLE_NOTIFY_AND_MANUAL_RENEW',
]);
/** The default renewal of a PREPAID instance since 2018-10 (docs/simulator.md, "Instance shape"). */
const DEFAULT_RENEW_FLAG = 'NOTIFY_AND_MANUAL_RENEW';
/** Without an InternetChargeType, bandwidth is billed the way the instance is: prepaid, or by the hour. */
const DEFAULT_INTERNET_CHARGE: Readonly<Record<string, string>> = {
  PREPAID: 'BANDWIDTH_PREPAID',
  POSTPAID_BY_HOUR: 'TRAFFIC_POSTPAID_BY_HOUR',
};
/**
 * DescribeInstances / DescribeInstancesStatus: at most 100 ids, Limit defaults to 20 (docs/tencent.md,
 * "DescribeInstances").
 */
const MAX_IDS = 100;
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
const MAX_INSTANCE_COUNT = 500;

function rejectUnknown(params: FlatParams, known: ReadonlySet<string>): void {
  const unknown = unknownParameters(params, known);
  if (unknown.length)
    throw new SimError('UnknownParameter', `The parameter \`${unknown[0]}\` is not recognized`);
}

function required(params: FlatParams, key: string): string {
  const value = getString(params, key);
  if (value === undefined || value === '')
    throw new SimError('MissingParameter', `The request is missing a required parameter \`${key}\``);
  return value;
}

/**
 * `{R:x}` / `{R:x,F:y}` count from x for each instance; without a pattern, n > 1 appends 1…n
 * (docs/simulator.md, "Server-side rules").
 */
function nameFor(pattern: string, index: number, count: number, ip?: string): string {
  let matched = false;
  let name = pattern.replace(/\{R:(\d+)(?:,F:(\d+))?\}/g, (_all, start: string, width?: string) => {
    matched = true;
    return String(Number(start) + index).padStart(Number(width ?? 0), '0');
  });
  // HostName also takes `{IP}`, the instance's private address (dots as dashes, as a host name allows).
  if (ip !== undefined && name.includes('{IP}')) {
    matched = true;
    name = name.replaceAll('{IP}', ip.replaceAll('.', '-'));
  }
  return matched || count === 1 ? name : `${name}${index + 1}`;
}

/** Tencent's default host name: `VM-<third>-<fourth octet>-<os>` (e.g. `VM-1-5-ubuntu`). */
function defaultHostName(ip: string, hostTag: string): string {
  const [, , third, fourth] = ip.split('.');
  return `VM-${third}-${fourth}-${hostTag}`;
}

/** `months` calendar months after `at`, on the same day or the month's last (ExpiredTime of PREPAID). */
function addMonths(at: number, months: number): number {
  const date = new Date(at);
  const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(date.getUTCDate(), lastDay));
  target.setUTCHours(
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    date.getUTCMilliseconds(),
  );
  return target.getTime();
}

/** ISO 8601 UTC to the second, as Tencent writes CreatedTime and ExpiredTime. */
const isoSeconds = (at: number) => new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The request's data disks, each with a DiskId (its size required, as the API's DataDisk structure says). */
function dataDisksOf(ctx: ActionContext): SimDataDisk[] {
  const disks: SimDataDisk[] = [];
  for (let d = 0; d < countEntries(ctx.params, 'DataDisks'); d++) {
    const size = getInteger(ctx.params, `DataDisks.${d}.DiskSize`);
    if (size === undefined)
      throw new SimError(
        'MissingParameter',
        `The request is missing a required parameter \`DataDisks.${d}.DiskSize\``,
      );
    const snapshotId = getString(ctx.params, `DataDisks.${d}.SnapshotId`);
    disks.push({
      DiskType: getString(ctx.params, `DataDisks.${d}.DiskType`) ?? DISK_DEFAULTS.dataDiskType,
      DiskId: '',
      DiskSize: size,
      DeleteWithInstance: getBoolean(ctx.params, `DataDisks.${d}.DeleteWithInstance`) ?? true,
      Encrypt: getBoolean(ctx.params, `DataDisks.${d}.Encrypt`) ?? false,
      ...(snapshotId === undefined ? {} : { SnapshotId: snapshotId }),
    });
  }
  return disks;
}

function subnetFor(ctx: ActionContext, zone: string): Subnet | undefined {
  const vpcId = getString(ctx.params, 'VirtualPrivateCloud.VpcId');
  const subnetId = getString(ctx.params, 'VirtualPrivateCloud.SubnetId');
  if (vpcId === undefined && subnetId === undefined) return undefined;
  if (!vpcId || !subnetId)
    throw new SimError('MissingParameter', 'VirtualPrivateCloud needs both VpcId and SubnetId');
  if (vpcId === 'DEFAULT' && subnetId === 'DEFAULT') {
    const zones = Object.values(ctx.state.catalog.zones).flat();
    return {
      subnetId: `subnet-default-${zone}`,
      vpcId: 'vpc-default',
      zone,
      cidr: `172.31.${zones.indexOf(zone) + 1}.0/24`,
    };
  }
  const subnet = ctx.state.catalog.subnets.find((s) => s.subnetId === subnetId);
  if (!subnet)
    throw new SimError('InvalidParameterValue.SubnetNotExist', `The subnet \`${subnetId}\` does not exist`);
  if (subnet.vpcId !== vpcId) {
    throw new SimError(
      'InvalidParameterValue.VpcIdSubnetIdNotMatch',
      `The subnet \`${subnetId}\` is not in \`${vpcId}\``,
    );
  }
  if (subnet.zone !== zone) {
    throw new SimError(
      'InvalidParameterValue.SubnetIdZoneIdNotMatch',
      `The subnet \`${subnetId}\` is in ${subnet.zone}, not ${zone}`,
    );
  }
  return subnet;
}

/** RunInstances: checks what only the server can check, honours ClientToken, creates PENDING instances. */
export function runInstances(ctx: ActionContext): Record<string, unknown> {
  const { params, state } = ctx;
  rejectUnknown(params, RUN_INSTANCES_PARAMETERS);
  const zone = required(params, 'Placement.Zone');
  const imageId = required(params, 'ImageId');
  const zones = state.catalog.zones[ctx.region] ?? [];
  if (!zones.includes(zone)) {
    throw new SimError(
      'InvalidZone.MismatchRegion',
      `The zone \`${zone}\` is invalid or not in the region \`${ctx.region}\``,
    );
  }
  if (!IMAGE_ID.test(imageId))
    throw new SimError('InvalidImageId.Malformed', `The image id \`${imageId}\` is malformed`);
  const image = state.catalog.images[imageId];
  if (!image) throw new SimError('InvalidImageId.NotFound', `The image \`${imageId}\` does not exist`);
  const instanceType = getString(params, 'InstanceType') ?? 'S1.SMALL1';
  if (!INSTANCE_TYPE.test(instanceType)) {
    throw new SimError('InvalidInstanceType.Malformed', `The instance type \`${instanceType}\` is malformed`);
  }
  const typeSpec = state.catalog.instanceTypes[instanceType];
  if (!typeSpec) {
    throw new SimError(
      'InvalidParameterValue.InstanceTypeNotFound',
      `The instance type \`${instanceType}\` is not sold in ${zone}`,
    );
  }
  const chargeType = getString(params, 'InstanceChargeType') ?? 'POSTPAID_BY_HOUR';
  if (!CHARGE_TYPES.has(chargeType))
    throw new SimError('InvalidParameterValue', `InstanceChargeType \`${chargeType}\` is not supported`);
  if (chargeType === 'CDHPAID' && getList(params, 'Placement.HostIds').length === 0) {
    throw new SimError('MissingParameter', 'CDHPAID needs Placement.HostIds');
  }
  let prepaid: { period: number; renewFlag: string } | undefined;
  if (chargeType === 'PREPAID') {
    const period = getInteger(params, 'InstanceChargePrepaid.Period');
    if (period === undefined)
      throw new SimError('MissingParameter', 'InstanceChargePrepaid.Period is required for PREPAID');
    if (!PERIODS.has(period)) throw new SimError('InvalidPeriod', `The period ${period} is not allowed`);
    const renewFlag = getString(params, 'InstanceChargePrepaid.RenewFlag') ?? DEFAULT_RENEW_FLAG;
    if (!RENEW_FLAGS.has(renewFlag))
      throw new SimError('InvalidParameterValue', `RenewFlag \`${renewFlag}\` is not supported`);
    prepaid = { period, renewFlag };
  }
  const count = getInteger(params, 'InstanceCount', 1) as number;
  if (count < 1 || count > MAX_INSTANCE_COUNT) {
    throw new SimError('InvalidParameterValue.Range', `InstanceCount must be in [1, ${MAX_INSTANCE_COUNT}]`);
  }
  // An empty token is no token (no idempotency), as when it is omitted; Tencent allows at most 64 ASCII characters.
  const token = getString(params, 'ClientToken') || undefined;
  if (token !== undefined && !/^[\x20-\x7e]*$/.test(token)) {
    throw new SimError('InvalidParameterValue', 'ClientToken must be ASCII');
  }
  if (token !== undefined && token.length > 64) {
    throw new SimError('InvalidClientToken.TooLong', 'ClientToken is longer than 64 characters');
  }
  const projectId = getInteger(params, 'Placement.ProjectId', 0) as number;
  const dataDisks = dataDisksOf(ctx);
  const bandwidth = getInteger(params, 'InternetAccessible.InternetMaxBandwidthOut', 0) as number;
  const publicIpAssigned = getBoolean(params, 'InternetAccessible.PublicIpAssigned');
  if (publicIpAssigned === true && bandwidth === 0) {
    throw new SimError(
      'InvalidParameterCombination',
      'PublicIpAssigned needs InternetMaxBandwidthOut greater than 0',
    );
  }

  // ClientToken (docs/simulator.md, "ClientToken" — undocumented for CVM; this simulator's choice, as AWS and
  // Alibaba do):
  // same token and parameters → the first call's InstanceIdSet, nothing created; same token, other
  // parameters → UnsupportedOperation.IdempotentParameterMismatch (the code Tencent's VPC API uses).
  const print = fingerprint(params);
  if (token !== undefined) {
    const previous = state.rememberedToken(token);
    if (previous) {
      if (previous.fingerprint !== print) {
        throw new SimError(
          'UnsupportedOperation.IdempotentParameterMismatch',
          `The ClientToken \`${token}\` was already used with different parameters`,
        );
      }
      return { InstanceIdSet: previous.instanceIds };
    }
  }

  const subnet = subnetFor(ctx, zone);
  const fixedIps = getList(params, 'VirtualPrivateCloud.PrivateIpAddresses');
  const used = state.usedIps();
  if (fixedIps.length) {
    if (!subnet)
      throw new SimError('InvalidParameterCombination', 'PrivateIpAddresses needs a VirtualPrivateCloud');
    if (fixedIps.length !== count) {
      throw new SimError(
        'InvalidParameterCombination',
        'PrivateIpAddresses must hold one address per instance',
      );
    }
    for (const ip of fixedIps) {
      if (!inCidr(ip, subnet.cidr))
        throw new SimError('VpcAddrNotInSubNet', `${ip} is not in ${subnet.subnetId} (${subnet.cidr})`);
      if (isReserved(ip, subnet.cidr)) {
        throw new SimError(
          'VpcIpIsUsed',
          `${ip} is reserved in ${subnet.subnetId} (network, gateway or broadcast)`,
        );
      }
      if (used.has(ip)) throw new SimError('VpcIpIsUsed', `${ip} is already in use`);
      used.add(ip);
    }
  }
  if (state.liveCount() + count > state.settings.quota) {
    throw new SimError(
      'InstancesQuotaLimitExceeded',
      `The account may hold ${state.settings.quota} instances; ${state.liveCount()} exist and ${count} were requested`,
    );
  }
  if (getBoolean(params, 'DryRun')) return {};

  const ips: string[] = [];
  for (let i = 0; i < count; i++) {
    const fixed = fixedIps[i];
    const ip = fixed ?? state.allocateIp(subnet ?? { subnetId: 'classic', cidr: '10.100.0.0/16' }, used);
    if (!ip)
      throw new SimError(
        'FailedOperation.NoAvailableIpAddressCountInSubnet',
        `${subnet?.subnetId} has no free address`,
      );
    used.add(ip);
    ips.push(ip);
  }
  const tags: Array<{ Key: string; Value: string }> = [];
  for (let s = 0; s < countEntries(params, 'TagSpecification'); s++) {
    if (getString(params, `TagSpecification.${s}.ResourceType`) !== 'instance') continue;
    for (let t = 0; t < countEntries(params, `TagSpecification.${s}.Tags`); t++) {
      tags.push({
        Key: getString(params, `TagSpecification.${s}.Tags.${t}.Key`) ?? '',
        Value: getString(params, `TagSpecification.${s}.Tags.${t}.Value`) ?? '',
      });
    }
  }
  const wantsPublicIp = bandwidth > 0 && publicIpAssigned !== false;
  const namePattern = getString(params, 'InstanceName') ?? 'Unnamed';
  const markers = markersOf(namePattern);
  const hostPattern = getString(params, 'HostName');
  const camRoleName = getString(params, 'CamRoleName');
  const systemDisk = {
    DiskType: getString(params, 'SystemDisk.DiskType') ?? DISK_DEFAULTS.systemDiskType,
    DiskSize: getInteger(params, 'SystemDisk.DiskSize', DISK_DEFAULTS.systemDiskSize) as number,
  };
  const hostIds = getList(params, 'Placement.HostIds');
  const keyIds = getList(params, 'LoginSettings.KeyIds');
  const disableApiTermination = getBoolean(params, 'DisableApiTermination') ?? false;
  const internetChargeType =
    getString(params, 'InternetAccessible.InternetChargeType') ??
    DEFAULT_INTERNET_CHARGE[chargeType] ??
    'TRAFFIC_POSTPAID_BY_HOUR';
  const ids = ips.map((privateIp, index) => {
    const instanceId = state.newInstanceId();
    const launchFails = state.launchFails() || markers.launchFails;
    const visibility = state.visibilityTimes(ctx.now);
    // A hidden-for marker only ever delays: never shows an instance sooner than the delays would.
    const hiddenUntil = Math.max(visibility.visibleAt, ctx.now + markers.hiddenForMs);
    const instance: SimInstance = {
      instanceId,
      region: ctx.region,
      zone,
      projectId,
      instanceType,
      cpu: typeSpec.CPU,
      memory: typeSpec.Memory,
      imageId,
      osName: image.OsName,
      defaultLoginUser: image.DefaultLoginUser,
      defaultLoginPort: image.DefaultLoginPort,
      instanceName: nameFor(namePattern, index, count),
      hostName:
        hostPattern === undefined
          ? defaultHostName(privateIp, image.hostTag)
          : nameFor(hostPattern, index, count, privateIp),
      chargeType,
      uuid: state.newUuid(),
      systemDisk: { ...systemDisk, DiskId: state.resourceId('disk') },
      dataDisks: dataDisks.map((disk) => ({ ...disk, DiskId: state.resourceId('disk') })),
      internetChargeType,
      bandwidthOut: bandwidth,
      keyIds: [...keyIds],
      disableApiTermination,
      createdAt: ctx.now,
      readyAt: ctx.now + state.settings.bootMs,
      launchFails,
      launchFailReason: launchFailureReason(
        {
          zone,
          instanceType,
          chargeType,
          systemDiskType: systemDisk.DiskType,
          ...(subnet ? { subnetId: subnet.subnetId } : {}),
        },
        state.draw(),
      ),
      visibleAt: hiddenUntil,
      tagsVisibleAt: visibility.tagsVisibleAt + (hiddenUntil - visibility.visibleAt),
      privateIp,
      securityGroupIds: getList(params, 'SecurityGroupIds'),
      tags: tags.map((tag) => ({ ...tag })),
      requestId: ctx.requestId,
    };
    if (prepaid) {
      instance.renewFlag = prepaid.renewFlag;
      instance.expiresAt = addMonths(ctx.now, prepaid.period);
    }
    if (chargeType === 'CDHPAID') {
      // It lands on one of the hosts given (Tencent picks one at random).
      const hostId = hostIds[Math.floor(state.draw() * hostIds.length)];
      if (hostId !== undefined) instance.hostId = hostId;
    }
    if (camRoleName !== undefined) instance.camRoleName = camRoleName;
    if (wantsPublicIp) {
      const publicIp = state.allocatePublicIp();
      if (!publicIp)
        throw new SimError(
          'ResourcesSoldOut.EipInsufficient',
          'The simulated public address pool is exhausted',
        );
      instance.publicIp = publicIp;
    }
    if (subnet) {
      instance.vpcId = subnet.vpcId;
      instance.subnetId = subnet.subnetId;
    }
    if (token !== undefined) instance.clientToken = token;
    state.instances.set(instance.instanceId, instance);
    return instance.instanceId;
  });
  if (token !== undefined) state.rememberToken(token, print, ids);
  return { InstanceIdSet: ids };
}

function instanceIds(params: FlatParams): string[] {
  const ids = getList(params, 'InstanceIds');
  if (ids.length > MAX_IDS)
    throw new SimError('InvalidParameterValue.LimitExceeded', `At most ${MAX_IDS} InstanceIds per call`);
  for (const id of ids) {
    if (!INSTANCE_ID.test(id))
      throw new SimError('InvalidInstanceId.Malformed', `The instance id \`${id}\` is malformed`);
  }
  return ids;
}

function paging(params: FlatParams): { offset: number; limit: number } {
  const offset = getInteger(params, 'Offset', 0) as number;
  const limit = getInteger(params, 'Limit', DEFAULT_LIMIT) as number;
  if (offset < 0 || limit < 1)
    throw new SimError('InvalidParameterValue', 'Offset must be >= 0 and Limit >= 1');
  return { offset, limit: Math.min(limit, MAX_LIMIT) };
}

/** What a filter sees: the instance as Describe shows it now (its visible tags, its shown addresses). */
interface Seen {
  instance: SimInstance;
  state: string;
  tags: ReadonlyArray<{ Key: string; Value: string }>;
  publicIps: readonly string[];
}
type Filter = (seen: Seen) => boolean;

/** `YYYY-MM-DD hh:mm:ss`, read as UTC (the creation-start-time / creation-end-time filters). */
const CREATION_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

function creationTimes(name: string, values: string[]): number[] {
  return values.map((value) => {
    const iso = `${value.replace(' ', 'T')}Z`;
    const at = CREATION_TIME.test(value) ? Date.parse(iso) : Number.NaN;
    // The round trip refuses what Date.parse would roll over (2026-02-30) as well as any other shape.
    if (Number.isNaN(at) || isoSeconds(at) !== iso) {
      throw new SimError(
        'InvalidParameterValue.InvalidTimeFormat',
        `The filter ${name} takes times as YYYY-MM-DD hh:mm:ss, got "${value}"`,
      );
    }
    return at;
  });
}

/** An instance's creation time to the second, as CreatedTime shows it. */
const createdSecond = (instance: SimInstance) => Math.floor(instance.createdAt / 1000) * 1000;

/**
 * The documented DescribeInstances filters (https://www.tencentcloud.com/document/api/213/15728), those that
 * compare values: what of the instance (as Describe shows it) the filter's values are compared with; one match
 * is enough. host-id matches the CDH placement; dedicated-cluster-id and ipv6-address nothing (no CDC, no IPv6).
 */
const FIELDS: Record<string, (seen: Seen) => ReadonlyArray<string | undefined>> = {
  zone: ({ instance }) => [instance.zone],
  'host-id': ({ instance }) => [instance.hostId],
  'dedicated-cluster-id': () => [],
  'vpc-id': ({ instance }) => [instance.vpcId],
  'subnet-id': ({ instance }) => [instance.subnetId],
  'instance-id': ({ instance }) => [instance.instanceId],
  uuid: ({ instance }) => [instance.uuid],
  'security-group-id': ({ instance }) => instance.securityGroupIds,
  'instance-name': ({ instance }) => [instance.instanceName],
  'instance-charge-type': ({ instance }) => [instance.chargeType],
  'instance-state': ({ state }) => [state],
  'private-ip-address': ({ instance }) => [instance.privateIp],
  'public-ip-address': ({ publicIps }) => publicIps,
  'ipv6-address': () => [],
  'tag-key': ({ tags }) => tags.map((t) => t.Key),
  'tag-value': ({ tags }) => tags.map((t) => t.Value),
};

/** The documented filters whose values are read first (a malformed one is refused): project and creation time. */
const PARSED_FILTERS: Record<string, (values: string[], name: string) => Filter> = {
  'project-id': (values, name) => {
    const bad = values.find((v) => !/^\d+$/.test(v));
    if (bad !== undefined)
      throw new SimError('InvalidParameterValue', `The filter ${name} takes integers, got "${bad}"`);
    const projects = values.map(Number);
    return ({ instance }) => projects.includes(instance.projectId);
  },
  'creation-start-time': (values, name) => {
    const starts = creationTimes(name, values);
    return ({ instance }) => starts.some((start) => createdSecond(instance) >= start);
  },
  'creation-end-time': (values, name) => {
    const ends = creationTimes(name, values);
    return ({ instance }) => ends.some((end) => createdSecond(instance) <= end);
  },
};

function filtersFrom(params: FlatParams): Filter[] {
  const count = countEntries(params, 'Filters');
  if (count > 10) throw new SimError('InvalidFilterValue.LimitExceeded', 'At most 10 filters');
  const filters: Filter[] = [];
  for (let f = 0; f < count; f++) {
    const name = required(params, `Filters.${f}.Name`);
    const values = getList(params, `Filters.${f}.Values`);
    if (values.length === 0 || values.length > 5) {
      throw new SimError('InvalidFilterValue.LimitExceeded', `Filter ${name} needs 1 to 5 values`);
    }
    if (name.startsWith('tag:')) {
      const key = name.slice(4);
      filters.push(({ tags }) => tags.some((t) => t.Key === key && values.includes(t.Value)));
      continue;
    }
    const parsed = PARSED_FILTERS[name];
    const field = FIELDS[name];
    if (parsed) filters.push(parsed(values, name));
    else if (field) filters.push((seen) => field(seen).some((v) => v !== undefined && values.includes(v)));
    else throw new SimError('InvalidFilter', `The filter \`${name}\` is not supported`);
  }
  return filters;
}

/** The public addresses Describe shows: once the instance runs (may be null while PENDING, docs/tencent.md). */
function publicIpsOf(instance: SimInstance, state: string): string[] {
  return state === 'RUNNING' && instance.publicIp ? [instance.publicIp] : [];
}

function select(ctx: ActionContext, known: ReadonlySet<string>, allowFilters: boolean) {
  rejectUnknown(ctx.params, known);
  const ids = instanceIds(ctx.params);
  const filters = allowFilters ? filtersFrom(ctx.params) : [];
  if (ids.length && filters.length)
    throw new SimError('InvalidParameterCombination', 'InstanceIds cannot be combined with Filters');
  const { offset, limit } = paging(ctx.params);
  const matched = ctx.state.visible(ctx.region).filter((instance) => {
    const state = ctx.state.stateOf(instance, ctx.now);
    const seen: Seen = {
      instance,
      state,
      tags: ctx.state.visibleTags(instance, ctx.now),
      publicIps: publicIpsOf(instance, state),
    };
    return (ids.length === 0 || ids.includes(instance.instanceId)) && filters.every((f) => f(seen));
  });
  return { total: matched.length, page: matched.slice(offset, offset + limit) };
}

/**
 * An instance as DescribeInstances shows it: the SDK's `Instance` field names
 * (https://github.com/TencentCloud/tencentcloud-sdk-nodejs/blob/master/src/services/cvm/v20170312/cvm_models.ts),
 * null where Tencent documents null (postpaid renewal and expiry, no public address, no IPv6).
 */
function view(state: SimState, instance: SimInstance, now: number): Record<string, unknown> {
  const status = state.statusOf(instance, now);
  const publicIps = publicIpsOf(instance, status.state);
  // The RequestId of the call behind the latest operation: TerminateInstances once it was called, else the launch.
  const operationRequestId =
    status.operation === 'TerminateInstances'
      ? (instance.terminateRequestId ?? instance.requestId)
      : instance.requestId;
  return {
    Placement: {
      Zone: instance.zone,
      ProjectId: instance.projectId,
      ...(instance.hostId === undefined ? {} : { HostId: instance.hostId }),
    },
    InstanceId: instance.instanceId,
    InstanceType: instance.instanceType,
    CPU: instance.cpu,
    Memory: instance.memory,
    RestrictState: 'NORMAL',
    InstanceName: instance.instanceName,
    InstanceChargeType: instance.chargeType,
    SystemDisk: { ...instance.systemDisk },
    DataDisks: instance.dataDisks.length ? instance.dataDisks.map((disk) => ({ ...disk })) : null,
    PrivateIpAddresses: [instance.privateIp],
    PublicIpAddresses: publicIps.length ? publicIps : null,
    InternetAccessible: {
      InternetChargeType: instance.internetChargeType,
      InternetMaxBandwidthOut: instance.bandwidthOut,
      PublicIpAssigned: instance.publicIp !== undefined,
    },
    VirtualPrivateCloud: instance.vpcId
      ? {
          VpcId: instance.vpcId,
          SubnetId: instance.subnetId,
          PrivateIpAddresses: [instance.privateIp],
          AsVpcGateway: false,
        }
      : null,
    ImageId: instance.imageId,
    RenewFlag: instance.renewFlag ?? null,
    CreatedTime: isoSeconds(instance.createdAt),
    ExpiredTime: instance.expiresAt === undefined ? null : isoSeconds(instance.expiresAt),
    OsName: instance.osName,
    SecurityGroupIds: instance.securityGroupIds,
    // Only the key pairs: a password is never shown.
    LoginSettings: { KeyIds: instance.keyIds.length ? [...instance.keyIds] : null },
    InstanceState: status.state,
    Tags: state.visibleTags(instance, now),
    StopChargingMode: status.state === 'STOPPED' ? 'KEEP_CHARGING' : 'NOT_APPLICABLE',
    Uuid: instance.uuid,
    LatestOperation: status.operation,
    LatestOperationState: status.operationState,
    LatestOperationRequestId: operationRequestId,
    IPv6Addresses: null,
    CamRoleName: instance.camRoleName ?? null,
    IsolatedSource:
      status.state === 'SHUTDOWN' ? (ISOLATED_BY[instance.chargeType] ?? 'ARREAR') : 'NOTISOLATED',
    DisasterRecoverGroupIds: [],
    LicenseType: 'TencentCloud',
    DisableApiTermination: instance.disableApiTermination,
    HostName: instance.hostName,
    DefaultLoginUser: instance.defaultLoginUser,
    DefaultLoginPort: instance.defaultLoginPort,
    LatestOperationErrorMsg: status.errorMsg,
  };
}

/** Why a SHUTDOWN instance is isolated: a prepaid one's period ran out, a postpaid one is in arrears. */
const ISOLATED_BY: Readonly<Record<string, string>> = { PREPAID: 'EXPIRE', POSTPAID_BY_HOUR: 'ARREAR' };

export function describeInstances(ctx: ActionContext): Record<string, unknown> {
  const { total, page } = select(ctx, DESCRIBE_PARAMETERS, true);
  return { TotalCount: total, InstanceSet: page.map((i) => view(ctx.state, i, ctx.now)) };
}

export function describeInstancesStatus(ctx: ActionContext): Record<string, unknown> {
  const known = new Set(['InstanceIds.N', 'Offset', 'Limit']);
  const { total, page } = select(ctx, known, false);
  return {
    TotalCount: total,
    InstanceStatusSet: page.map((i) => ({
      InstanceId: i.instanceId,
      InstanceState: ctx.state.stateOf(i, ctx.now),
    })),
  };
}

/**
 * Why TerminateInstances refuses this instance now, if it does: a state the API refuses, the latest operation
 * still in progress, or termination protection (docs/simulator.md, "TerminateInstances").
 */
function terminateRefusal(state: SimState, instance: SimInstance, now: number): SimError | undefined {
  const status = state.statusOf(instance, now);
  const refusal = status.state === 'GONE' ? undefined : TERMINATE_REFUSALS[status.state];
  if (refusal) return new SimError(refusal.code, `${instance.instanceId}: ${refusal.message}`);
  if (status.operationState === 'OPERATING') {
    return new SimError(
      'OperationDenied.InstanceOperationInProgress',
      `${instance.instanceId}: its latest operation (${status.operation}) is still in progress; try again later`,
    );
  }
  if (instance.disableApiTermination) {
    return new SimError(
      'UnsupportedOperation.InstancesProtected',
      `${instance.instanceId}: termination protection is on (DisableApiTermination); turn it off first`,
    );
  }
  return undefined;
}

export function terminateInstances(ctx: ActionContext): Record<string, unknown> {
  rejectUnknown(ctx.params, TERMINATE_PARAMETERS);
  const ids = instanceIds(ctx.params);
  if (ids.length === 0)
    throw new SimError('MissingParameter', 'The request is missing a required parameter `InstanceIds`');
  const visible = new Map(ctx.state.visible(ctx.region).map((i) => [i.instanceId, i]));
  const missing = ids.filter((id) => !visible.has(id));
  if (missing.length)
    throw new SimError('InvalidInstanceId.NotFound', `The instance \`${missing[0]}\` does not exist`);
  const instances = ids.map((id) => visible.get(id) as SimInstance);
  // All or nothing, as for an unknown id: one refused instance leaves every instance of the call as it was.
  for (const instance of instances) {
    const refusal = terminateRefusal(ctx.state, instance, ctx.now);
    if (refusal) throw refusal;
  }
  for (const instance of instances) {
    delete instance.forced;
    instance.terminatedAt = ctx.now;
    instance.terminateRequestId = ctx.requestId;
  }
  return {};
}

export const ACTIONS: Record<string, (ctx: ActionContext) => Record<string, unknown>> = {
  RunInstances: runInstances,
  DescribeInstances: describeInstances,
  DescribeInstancesStatus: describeInstancesStatus,
  TerminateInstances: terminateInstances,
};
