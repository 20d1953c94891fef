import {
  DESCRIBE_PARAMETERS,
  RUN_INSTANCES_PARAMETERS,
  type Subnet,
  TERMINATE_PARAMETERS,
} from './catalog.ts';
import { SimError } from './errors.ts';
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
import { inCidr, isReserved, type SimInstance, type SimState } from './state.ts';

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
function nameFor(pattern: string, index: number, count: number): string {
  let matched = false;
  const name = pattern.replace(/\{R:(\d+)(?:,F:(\d+))?\}/g, (_all, start: string, width?: string) => {
    matched = true;
    return String(Number(start) + index).padStart(Number(width ?? 0), '0');
  });
  return matched || count === 1 ? name : `${name}${index + 1}`;
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
  if (!state.catalog.images.includes(imageId))
    throw new SimError('InvalidImageId.NotFound', `The image \`${imageId}\` does not exist`);
  const instanceType = getString(params, 'InstanceType') ?? 'S1.SMALL1';
  if (!INSTANCE_TYPE.test(instanceType)) {
    throw new SimError('InvalidInstanceType.Malformed', `The instance type \`${instanceType}\` is malformed`);
  }
  if (!state.catalog.instanceTypes.includes(instanceType)) {
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
  if (chargeType === 'PREPAID') {
    const period = getInteger(params, 'InstanceChargePrepaid.Period');
    if (period === undefined)
      throw new SimError('MissingParameter', 'InstanceChargePrepaid.Period is required for PREPAID');
    if (!PERIODS.has(period)) throw new SimError('InvalidPeriod', `The period ${period} is not allowed`);
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
  const ids = ips.map((privateIp, index) => {
    const instance: SimInstance = {
      instanceId: state.newInstanceId(),
      region: ctx.region,
      zone,
      instanceType,
      imageId,
      instanceName: nameFor(namePattern, index, count),
      chargeType,
      createdAt: ctx.now,
      readyAt: ctx.now + state.settings.bootMs,
      launchFails: state.launchFails(),
      ...state.visibilityTimes(ctx.now),
      privateIp,
      securityGroupIds: getList(params, 'SecurityGroupIds'),
      tags: tags.map((tag) => ({ ...tag })),
      requestId: ctx.requestId,
    };
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

/** A filter sees the instance as Describe shows it: `tags` are the tags visible now. */
type Filter = (
  instance: SimInstance,
  state: string,
  tags: ReadonlyArray<{ Key: string; Value: string }>,
) => boolean;

const FILTERS: Record<string, (values: string[]) => Filter> = {
  zone: (values) => (i) => values.includes(i.zone),
  'instance-id': (values) => (i) => values.includes(i.instanceId),
  'instance-name': (values) => (i) => values.includes(i.instanceName),
  'instance-state': (values) => (_i, state) => values.includes(state),
  'instance-charge-type': (values) => (i) => values.includes(i.chargeType),
  'private-ip-address': (values) => (i) => values.includes(i.privateIp),
  'tag-key': (values) => (_i, _state, tags) => tags.some((t) => values.includes(t.Key)),
  'tag-value': (values) => (_i, _state, tags) => tags.some((t) => values.includes(t.Value)),
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
      filters.push((_i, _state, tags) => tags.some((t) => t.Key === key && values.includes(t.Value)));
      continue;
    }
    const make = FILTERS[name];
    if (!make) throw new SimError('InvalidFilter', `The filter \`${name}\` is not supported`);
    filters.push(make(values));
  }
  return filters;
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
    const tags = ctx.state.visibleTags(instance, ctx.now);
    return (
      (ids.length === 0 || ids.includes(instance.instanceId)) &&
      filters.every((f) => f(instance, state, tags))
    );
  });
  return { total: matched.length, page: matched.slice(offset, offset + limit) };
}

function view(state: SimState, instance: SimInstance, now: number): Record<string, unknown> {
  const current = state.stateOf(instance, now);
  const running = current === 'RUNNING';
  return {
    InstanceId: instance.instanceId,
    InstanceState: current,
    InstanceName: instance.instanceName,
    InstanceType: instance.instanceType,
    ImageId: instance.imageId,
    InstanceChargeType: instance.chargeType,
    Placement: { Zone: instance.zone, ProjectId: 0 },
    CreatedTime: new Date(instance.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    PrivateIpAddresses: [instance.privateIp],
    // Public addresses show up once the instance runs (docs/tencent.md, "DescribeInstances": may be null
    // while PENDING).
    PublicIpAddresses: running && instance.publicIp ? [instance.publicIp] : null,
    VirtualPrivateCloud: instance.vpcId
      ? {
          VpcId: instance.vpcId,
          SubnetId: instance.subnetId,
          PrivateIpAddresses: [instance.privateIp],
          AsVpcGateway: false,
        }
      : null,
    SecurityGroupIds: instance.securityGroupIds,
    Tags: state.visibleTags(instance, now),
    LatestOperation: current === 'TERMINATING' ? 'TerminateInstances' : 'RunInstances',
    LatestOperationState:
      current === 'PENDING' ? 'OPERATING' : current === 'LAUNCH_FAILED' ? 'FAILED' : 'SUCCESS',
    LatestOperationRequestId: instance.requestId,
    LatestOperationErrorMsg:
      current === 'LAUNCH_FAILED' ? 'simulated launch failure (SIM_LAUNCH_FAIL_RATE)' : null,
    RestrictState: 'NORMAL',
  };
}

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

export function terminateInstances(ctx: ActionContext): Record<string, unknown> {
  rejectUnknown(ctx.params, TERMINATE_PARAMETERS);
  const ids = instanceIds(ctx.params);
  if (ids.length === 0)
    throw new SimError('MissingParameter', 'The request is missing a required parameter `InstanceIds`');
  const visible = new Map(ctx.state.visible(ctx.region).map((i) => [i.instanceId, i]));
  const missing = ids.filter((id) => !visible.has(id));
  if (missing.length)
    throw new SimError('InvalidInstanceId.NotFound', `The instance \`${missing[0]}\` does not exist`);
  for (const id of ids) {
    const instance = visible.get(id) as SimInstance;
    instance.terminatedAt ??= ctx.now;
  }
  return {};
}

export const ACTIONS: Record<string, (ctx: ActionContext) => Record<string, unknown>> = {
  RunInstances: runInstances,
  DescribeInstances: describeInstances,
  DescribeInstancesStatus: describeInstancesStatus,
  TerminateInstances: terminateInstances,
};
