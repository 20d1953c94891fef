import { CODES, type Violation } from './codes.ts';
import type { ValidationProfile } from './profiles.ts';

/**
 * Cross-field rules a client can check before calling Tencent (docs/tencent.md, "Cross-field rules"). They
 * read the raw request defensively — a field of the wrong type is the schema's to report — so every violation
 * is found in one pass.
 */
type Loose = Record<string, unknown>;
export interface RuleContext {
  request: Loose;
  profile: ValidationProfile;
  /** The validation time, in epoch milliseconds (ActionTimer must lie ahead of it). */
  now: number;
}
type Rule = (ctx: RuleContext) => Violation[];

const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Loose => (isObject(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const int = (v: unknown): number | undefined => (Number.isInteger(v) ? (v as number) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const violation = (param: string, code: Violation['code'], message: string): Violation => ({
  param,
  code,
  message,
});

const LOCAL_DISK = /^LOCAL_/;
const TRUTHY_STRINGS = new Set(['TRUE', 'true']);
/** ActionTimer must fire more than 5 minutes after the request (docs/tencent.md, "Cross-field rules"). */
const ACTION_TIMER_MIN_LEAD_MS = 5 * 60 * 1000;

function instanceCount(request: Loose): number {
  return int(request.InstanceCount) ?? 1;
}

function duplicates(values: unknown[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const v of values) {
    if (typeof v !== 'string') continue;
    if (seen.has(v)) repeated.add(v);
    seen.add(v);
  }
  return [...repeated];
}

const prepaidNeedsChargePrepaid: Rule = ({ request }) =>
  request.InstanceChargeType === 'PREPAID' && request.InstanceChargePrepaid === undefined
    ? [
        violation(
          'InstanceChargePrepaid',
          CODES.missing,
          'is required when InstanceChargeType is PREPAID (give Period and RenewFlag)',
        ),
      ]
    : [];

const cdhNeedsHosts: Rule = ({ request, profile }) => {
  // Under a profile without CDHPAID the charge type itself is the schema's violation.
  if (request.InstanceChargeType !== 'CDHPAID' || !profile.chargeTypes.includes('CDHPAID')) return [];
  const out: Violation[] = [];
  if (arr(obj(request.Placement).HostIds).length === 0) {
    out.push(violation('Placement.HostIds', CODES.missing, 'is required when InstanceChargeType is CDHPAID'));
  }
  const type = str(request.InstanceType);
  if (type !== undefined && !/^CDH_\d+C\d+G$/.test(type)) {
    out.push(
      violation(
        'InstanceType',
        CODES.instanceTypeMalformed,
        'must be CDH_<n>C<m>G when InstanceChargeType is CDHPAID',
      ),
    );
  }
  return out;
};

const templateOrPlacementAndImage: Rule = ({ request, profile }) => {
  // Without LaunchTemplate (seed-2017) the schema itself requires both.
  if (!profile.laterParametersKnown || obj(request.LaunchTemplate).LaunchTemplateId !== undefined) return [];
  const out: Violation[] = [];
  if (request.Placement === undefined)
    out.push(violation('Placement', CODES.missing, 'is required (unless a LaunchTemplate is given)'));
  if (request.ImageId === undefined)
    out.push(violation('ImageId', CODES.missing, 'is required (unless a LaunchTemplate is given)'));
  return out;
};

const fixedPrivateIps: Rule = ({ request, profile }) => {
  const ips = arr(obj(request.VirtualPrivateCloud).PrivateIpAddresses);
  if (ips.length === 0) return [];
  const param = 'VirtualPrivateCloud.PrivateIpAddresses';
  const out: Violation[] = [];
  const count = instanceCount(request);
  if (profile.fixedPrivateIps.rule === 'forces-single-instance' && count !== 1) {
    out.push(violation(param, CODES.combination, `forces InstanceCount to be 1 (got ${count})`));
  }
  if (profile.fixedPrivateIps.rule === 'one-per-instance' && ips.length !== count) {
    out.push(
      violation(
        param,
        CODES.combination,
        `must hold one address per instance: ${ips.length} given for InstanceCount ${count}`,
      ),
    );
  }
  for (const ip of duplicates(ips)) out.push(violation(param, CODES.duplicate, `lists ${ip} more than once`));
  return out;
};

const loginExclusive: Rule = ({ request }) => {
  const login = obj(request.LoginSettings);
  const out: Violation[] = [];
  if (login.Password !== undefined && login.KeyIds !== undefined) {
    out.push(
      violation(
        'LoginSettings.KeyIds',
        CODES.combination,
        'cannot be given together with LoginSettings.Password',
      ),
    );
  }
  const keep = str(login.KeepImageLogin);
  if (
    keep !== undefined &&
    TRUTHY_STRINGS.has(keep) &&
    (login.Password !== undefined || login.KeyIds !== undefined)
  ) {
    out.push(
      violation(
        'LoginSettings.KeepImageLogin',
        CODES.conflict,
        'cannot be true together with LoginSettings.Password or KeyIds',
      ),
    );
  }
  return out;
};

const publicIpNeedsBandwidth: Rule = ({ request }) => {
  const internet = obj(request.InternetAccessible);
  return internet.PublicIpAssigned === true && (int(internet.InternetMaxBandwidthOut) ?? 0) === 0
    ? [
        violation(
          'InternetAccessible.PublicIpAssigned',
          CODES.combination,
          'needs InternetAccessible.InternetMaxBandwidthOut greater than 0',
        ),
      ]
    : [];
};

const dataDisks: Rule = ({ request, profile }) => {
  const disks = arr(request.DataDisks).map(obj);
  const out: Violation[] = [];
  const local = disks.filter((d) => LOCAL_DISK.test(str(d.DiskType) ?? '')).length;
  const cloud = disks.length - local;
  // A kind's limit that is no smaller than the total adds nothing to the schema's "at most N" (seed-2017 allows
  // one disk of either kind): one mistake is reported once.
  const { total } = profile.dataDisks;
  const tells = (limit: number) => disks.length <= total || limit < total;
  if (tells(profile.dataDisks.local) && local > profile.dataDisks.local) {
    out.push(
      violation(
        'DataDisks',
        CODES.limitExceeded,
        `holds ${local} local disks; at most ${profile.dataDisks.local} allowed`,
      ),
    );
  }
  if (tells(profile.dataDisks.cloud) && cloud > profile.dataDisks.cloud) {
    out.push(
      violation(
        'DataDisks',
        CODES.limitExceeded,
        `holds ${cloud} cloud disks; at most ${profile.dataDisks.cloud} allowed`,
      ),
    );
  }
  const postpaid = (str(request.InstanceChargeType) ?? 'POSTPAID_BY_HOUR') === 'POSTPAID_BY_HOUR';
  disks.forEach((disk, i) => {
    const size = int(disk.DiskSize);
    if (size !== undefined && size % 10 !== 0) {
      out.push(
        violation(
          `DataDisks.${i}.DiskSize`,
          CODES.invalidValue,
          `must be a multiple of 10 GiB (got ${size})`,
        ),
      );
    }
    if (
      profile.laterParametersKnown &&
      disk.DiskType === 'CLOUD_SSD' &&
      size !== undefined &&
      size > 0 &&
      size < 100
    ) {
      out.push(
        violation(
          `DataDisks.${i}.DiskSize`,
          CODES.cloudSsdTooSmall,
          `must be at least 100 GiB for CLOUD_SSD (got ${size})`,
        ),
      );
    }
    if (disk.DeleteWithInstance === true && !postpaid) {
      out.push(
        violation(
          `DataDisks.${i}.DeleteWithInstance`,
          CODES.combination,
          'can be true only for POSTPAID_BY_HOUR instances',
        ),
      );
    }
  });
  return out;
};

const minCountWithinCount: Rule = ({ request }) => {
  const min = int(request.MinCount);
  const count = instanceCount(request);
  return min !== undefined && min > count
    ? [violation('MinCount', CODES.minCount, `must not exceed InstanceCount (${min} > ${count})`)]
    : [];
};

const cpuTopologyBoth: Rule = ({ request }) => {
  if (!isObject(request.CpuTopology)) return [];
  const { CoreCount, ThreadPerCore } = request.CpuTopology;
  return (CoreCount === undefined) !== (ThreadPerCore === undefined)
    ? [violation('CpuTopology', CODES.lackCpuTopology, 'needs both CoreCount and ThreadPerCore')]
    : [];
};

const actionTimerInFuture: Rule = ({ request, now }) => {
  const time = str(obj(request.ActionTimer).ActionTime);
  if (time === undefined) return [];
  const at = Date.parse(time);
  if (Number.isNaN(at)) return [];
  return at <= now + ACTION_TIMER_MIN_LEAD_MS
    ? [violation('ActionTimer.ActionTime', CODES.range, 'must be more than 5 minutes in the future')]
    : [];
};

const noDuplicateIds: Rule = ({ request }) => {
  const out: Violation[] = [];
  for (const sg of duplicates(arr(request.SecurityGroupIds))) {
    out.push(violation('SecurityGroupIds', CODES.duplicate, `lists ${sg} more than once`));
  }
  for (const key of duplicates(arr(obj(request.LoginSettings).KeyIds))) {
    out.push(violation('LoginSettings.KeyIds', CODES.duplicate, `lists ${key} more than once`));
  }
  arr(request.TagSpecification).forEach((spec, i) => {
    const keys = arr(obj(spec).Tags).map((t) => obj(t).Key);
    for (const key of duplicates(keys)) {
      out.push(
        violation(`TagSpecification.${i}.Tags`, CODES.duplicateTags, `sets the tag ${key} more than once`),
      );
    }
  });
  return out;
};

/** Every cross-field rule, in the order docs/tencent.md lists them ("Cross-field rules"). */
export const CROSS_FIELD_RULES: readonly Rule[] = [
  templateOrPlacementAndImage,
  prepaidNeedsChargePrepaid,
  cdhNeedsHosts,
  fixedPrivateIps,
  loginExclusive,
  publicIpNeedsBandwidth,
  dataDisks,
  minCountWithinCount,
  cpuTopologyBoth,
  actionTimerInFuture,
  noDuplicateIds,
];
