import * as z from 'zod/mini';
import { CODES, type TencentCode } from './codes.ts';
import { getProfile, LATER_PARAMETERS, type ProfileName, type ValidationProfile } from './profiles.ts';
import { ZONE_PATTERN } from './regions.ts';

/** A refinement that, when it fails, reports the given Tencent code (read back in validate.ts). */
function rule<T>(test: (value: T) => boolean, code: TencentCode, message: string) {
  return z.refine<T>(test, { error: message, params: { code } });
}

function matching(pattern: RegExp, code: TencentCode, message: string) {
  return z.string().check(rule<string>((v) => pattern.test(v), code, message));
}

/** Resource ids are `<prefix>-` + 8 lower-case letters or digits (docs/tencent.md, "Resource ids"). */
function resourceId(prefix: string, code: TencentCode = CODES.invalidValue, extra: readonly string[] = []) {
  const pattern = new RegExp(`^${prefix}-[0-9a-z]{8}$`);
  const also = extra.length ? ` or ${extra.join(', ')}` : '';
  return z
    .string()
    .check(
      rule<string>(
        (v) => pattern.test(v) || extra.includes(v),
        code,
        `must look like ${prefix}-xxxxxxxx (8 lower-case letters or digits)${also}`,
      ),
    );
}

/** Free text: any string that is well-formed Unicode (a lone surrogate cannot be encoded for the wire). */
const text = () =>
  z
    .string()
    .check(rule<string>((v) => v.isWellFormed(), CODES.invalidValue, 'must be well-formed Unicode text'));
/** A real UTC instant written YYYY-MM-DDThh:mm:ssZ (2099-02-30 is refused, not rolled over to March). */
function isUtcInstant(v: string): boolean {
  if (!ISO_UTC.test(v)) return false;
  const at = new Date(v);
  return !Number.isNaN(at.getTime()) && at.toISOString() === `${v.slice(0, 19)}.000Z`;
}
const nonNegativeInt = () => z.int().check(z.minimum(0));
const positiveInt = () => z.int().check(z.minimum(1));
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values);
/**
 * A list no documented limit bounds still holds at most this many items: far beyond any real request, and it
 * keeps a hostile body (tens of thousands of empty items in 64 KiB) from costing a violation per item.
 */
const MAX_UNBOUNDED_ITEMS = 100;
/** A non-empty list of at most `max` items; its length is checked before any item is (a pipe stops there). */
const list = <T extends z.ZodMiniType>(item: T, max = MAX_UNBOUNDED_ITEMS) =>
  z.pipe(
    z.array(z.unknown()).check(z.minLength(1), z.maxLength(Number.isFinite(max) ? max : MAX_UNBOUNDED_ITEMS)),
    z.array(item),
  );
const enabled = () => z.strictObject({ Enabled: z.optional(z.boolean()) });

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/**
 * FAMILY.SIZE (`S5.MEDIUM4`, `SA9.96XLARGE1152`, `S5se.LARGE8`) or the CDH form `CDH_1C1G`
 * (docs/tencent.md, "RunInstances parameters").
 */
const INSTANCE_TYPE = /^(?:[A-Za-z][A-Za-z0-9]*\.[0-9]*[A-Z]+[0-9]*|CDH_\d+C\d+G)$/;
const PASSWORD_SPECIALS = "()`~!@#$%^&*-+=|{}[]:;',.?/";
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** Batch naming patterns (`{R:3}`, `{R:3,F:4}`, `{IP}`) count toward the length but not the character rules. */
const NAME_PATTERNS = /\{R:\d+(?:,F:\d+)?\}|\{IP\}/g;
const HOST_NAME_BODY = /^[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)*$/;
const UTF8 = new TextEncoder();

/** Counts the character classes of a password; undefined when it holds a character outside the allowed set. */
function passwordClasses(
  password: string,
  classes: ValidationProfile['password']['classes'],
): number | undefined {
  let lower = false;
  let upper = false;
  let digit = false;
  let special = false;
  for (const ch of password) {
    if (ch >= 'a' && ch <= 'z') lower = true;
    else if (ch >= 'A' && ch <= 'Z') upper = true;
    else if (ch >= '0' && ch <= '9') digit = true;
    else if (PASSWORD_SPECIALS.includes(ch)) special = true;
    else return undefined;
  }
  const letters =
    classes === 'letters-digits-special' ? Number(lower || upper) : Number(lower) + Number(upper);
  return letters + Number(digit) + Number(special);
}

/** A password is checked rule by rule, so a refusal says which rule it broke (never the password itself). */
function passwordSchema(p: ValidationProfile) {
  const { min, max, minClasses, classes } = p.password;
  const kinds =
    classes === 'letters-digits-special'
      ? 'letters, digits, special characters'
      : 'lower-case letters, upper-case letters, digits, special characters';
  return z.string().check(
    rule<string>(
      (v) => v.length >= min && v.length <= max,
      CODES.password,
      `must be ${min}-${max} characters long`,
    ),
    rule<string>(
      (v) => passwordClasses(v, classes) !== undefined,
      CODES.password,
      `may hold only letters, digits and the special characters ${PASSWORD_SPECIALS}`,
    ),
    rule<string>(
      (v) => (passwordClasses(v, classes) ?? minClasses) >= minClasses,
      CODES.password,
      `must mix at least ${minClasses} of: ${kinds}`,
    ),
  );
}

function instanceNameSchema(p: ValidationProfile) {
  const { max, unit } = p.instanceNameMax;
  const measure = unit === 'bytes' ? (v: string) => UTF8.encode(v).length : (v: string) => [...v].length;
  return text().check(
    rule<string>((v) => measure(v) <= max, CODES.instanceNameTooLong, `must be at most ${max} ${unit}`),
  );
}

/**
 * Linux/other HostName rules (docs/tencent.md, "RunInstances parameters"); the OS is not known before the
 * image is looked up.
 */
const hostName = z
  .string()
  .check(
    rule<string>(
      (v) => v.length >= 2 && v.length <= 60 && HOST_NAME_BODY.test(v.replace(NAME_PATTERNS, '0')),
      CODES.illegalHostName,
      'must be 2-60 characters of dot-separated letters, digits and "-", not starting, ending or doubling "." or "-"',
    ),
  );

const userData = z.string().check(
  rule<string>((v) => v.length > 0 && BASE64.test(v), CODES.userDataFormat, 'must be base64'),
  // Tencent does not say whether 16 KB counts the base64 text or the decoded bytes; the text is the
  // stricter reading (docs/tencent.md, "RunInstances parameters").
  rule<string>((v) => v.length <= 16_384, CODES.tooLarge, 'must be at most 16 KB of base64 text'),
);

const clientToken = z.string().check(
  rule<string>((v) => v.length <= 64, CODES.clientTokenTooLong, 'must be at most 64 ASCII characters'),
  rule<string>((v) => /^[\x20-\x7e]+$/.test(v), CODES.invalidValue, 'must be printable ASCII characters'),
);

const tag = z.strictObject({ Key: text().check(z.minLength(1)), Value: text() });

/** Keeps the fields a profile knows: the seed profile drops parameters newer than 2017. */
function known<S extends Record<string, z.ZodMiniType>>(p: ValidationProfile, prefix: string, shape: S): S {
  if (p.laterParametersKnown) return shape;
  return Object.fromEntries(
    Object.entries(shape).filter(([key]) => !LATER_PARAMETERS.has(prefix + key)),
  ) as S;
}

/** Builds the RunInstances schema (business parameters only) for one validation profile. */
export function buildRunInstancesSchema(p: ValidationProfile) {
  const placement = z.strictObject(
    known(p, 'Placement.', {
      Zone: matching(ZONE_PATTERN, CODES.zoneMismatchRegion, 'must be a zone id such as ap-guangzhou-3'),
      ProjectId: z.optional(nonNegativeInt()),
      HostIds: z.optional(list(resourceId('host', CODES.hostIdMalformed))),
      DedicatedResourcePackTenancy: z.optional(oneOf(['ResourcePool'])),
      DedicatedResourcePackIds: z.optional(list(resourceId('rpp'))),
    }),
  );
  const chargePrepaid = z.strictObject({
    Period: z
      .int()
      .check(
        rule<number>(
          (v) => (p.periods as readonly number[]).includes(v),
          CODES.period,
          `must be one of ${p.periods.join(', ')} months`,
        ),
      ),
    RenewFlag: z.optional(z.enum(p.renewFlags as unknown as [string, ...string[]])),
  });
  const systemDisk = z.strictObject(
    known(p, 'SystemDisk.', {
      DiskType: z.optional(z.enum(p.systemDiskTypes as unknown as [string, ...string[]])),
      DiskSize: z.optional(positiveInt()),
      DiskName: z.optional(text().check(z.maxLength(128))),
      CdcId: z.optional(text().check(z.minLength(1))),
      Encrypt: z.optional(z.boolean()),
      KmsKeyId: z.optional(text().check(z.minLength(1))),
    }),
  );
  const dataDisk = z.strictObject(
    known(p, 'DataDisks.N.', {
      DiskSize: nonNegativeInt(),
      DiskType: z.optional(z.enum(p.dataDiskTypes as unknown as [string, ...string[]])),
      DeleteWithInstance: z.optional(z.boolean()),
      SnapshotId: z.optional(resourceId('snap', CODES.snapshotIdMalformed)),
      Encrypt: z.optional(z.boolean()),
      KmsKeyId: z.optional(text().check(z.minLength(1))),
      ThroughputPerformance: z.optional(nonNegativeInt()),
      CdcId: z.optional(text().check(z.minLength(1))),
      BurstPerformance: z.optional(z.boolean()),
      DiskName: z.optional(text().check(z.maxLength(128))),
    }),
  );
  const vpc = z.strictObject(
    known(p, 'VirtualPrivateCloud.', {
      VpcId: resourceId('vpc', CODES.vpcIdMalformed, ['DEFAULT']),
      SubnetId: resourceId('subnet', CODES.subnetIdMalformed, ['DEFAULT']),
      AsVpcGateway: z.optional(z.boolean()),
      PrivateIpAddresses: z.optional(
        list(matching(IPV4, CODES.ipMalformed, 'must be a dotted-quad IPv4 address'), p.fixedPrivateIps.max),
      ),
      Ipv6AddressCount: z.optional(nonNegativeInt()),
    }),
  );
  const internet = z.strictObject(
    known(p, 'InternetAccessible.', {
      InternetChargeType: z.optional(z.enum(p.internetChargeTypes as unknown as [string, ...string[]])),
      InternetMaxBandwidthOut: z.optional(nonNegativeInt().check(z.maximum(p.bandwidthOutMax))),
      PublicIpAssigned: z.optional(z.boolean()),
      BandwidthPackageId: z.optional(resourceId('bwp', CODES.bandwidthPackageIdMalformed)),
      InternetServiceProvider: z.optional(oneOf(['BGP', 'CMCC', 'CTCC', 'CUCC'])),
      IPv4AddressType: z.optional(oneOf(['WanIP', 'HighQualityEIP', 'AntiDDoSEIP'])),
      IPv6AddressType: z.optional(oneOf(['EIPv6', 'HighQualityEIPv6'])),
      AntiDDoSPackageId: z.optional(text().check(z.minLength(1))),
    }),
  );
  const login = z.strictObject({
    Password: z.optional(passwordSchema(p)),
    KeyIds: z.optional(list(resourceId('skey', CODES.keyPairIdMalformed))),
    KeepImageLogin: z.optional(z.enum(p.keepImageLoginValues as unknown as [string, ...string[]])),
  });
  const enhanced = z.strictObject(
    known(p, 'EnhancedService.', {
      SecurityService: z.optional(enabled()),
      MonitorService: z.optional(enabled()),
      AutomationService: z.optional(enabled()),
    }),
  );
  const networkInterface = z.strictObject({
    InterfaceType: oneOf(['PRIMARY', 'SECONDARY']),
    VpcId: resourceId('vpc', CODES.vpcIdMalformed),
    SubnetId: resourceId('subnet', CODES.subnetIdMalformed),
    PrivateIpv4AddressCount: z.int().check(z.minimum(1), z.maximum(50)),
    NetworkInterfaceId: z.optional(resourceId('eni')),
    SecurityGroupIds: z.optional(list(resourceId('sg'))),
    DeleteWithInstance: z.optional(z.boolean()),
  });

  const required2017 = !p.laterParametersKnown;
  return z.strictObject(
    known(p, '', {
      InstanceChargeType: z.optional(z.enum(p.chargeTypes as unknown as [string, ...string[]])),
      InstanceChargePrepaid: z.optional(chargePrepaid),
      // Placement and ImageId may be left to a LaunchTemplate today (docs/tencent.md, "Cross-field rules",
      // rule 1); in 2017 both were required. The "unless LaunchTemplate" half of the rule lives in rules.ts.
      Placement: required2017 ? placement : z.optional(placement),
      InstanceType: z.optional(
        matching(
          INSTANCE_TYPE,
          CODES.instanceTypeMalformed,
          'must be FAMILY.SIZE such as S5.MEDIUM4, or CDH_<n>C<m>G',
        ),
      ),
      ImageId: required2017
        ? resourceId('img', CODES.imageIdMalformed)
        : z.optional(resourceId('img', CODES.imageIdMalformed)),
      SystemDisk: z.optional(systemDisk),
      DataDisks: z.optional(list(dataDisk, p.dataDisks.total)),
      VirtualPrivateCloud: z.optional(vpc),
      InternetAccessible: z.optional(internet),
      InstanceCount: z.optional(z.int().check(z.minimum(1), z.maximum(p.instanceCountMax))),
      MinCount: z.optional(positiveInt()),
      InstanceName: z.optional(instanceNameSchema(p)),
      LoginSettings: z.optional(login),
      SecurityGroupIds: z.optional(list(resourceId('sg'), p.securityGroupsMax)),
      EnhancedService: z.optional(enhanced),
      ClientToken: z.optional(clientToken),
      HostName: z.optional(hostName),
      ActionTimer: z.optional(
        z.strictObject({
          TimerAction: oneOf(['TerminateInstances']),
          ActionTime: z
            .string()
            .check(
              rule<string>(
                isUtcInstant,
                CODES.timeFormat,
                'must be a real ISO 8601 UTC time YYYY-MM-DDThh:mm:ssZ',
              ),
            ),
        }),
      ),
      DisasterRecoverGroupIds: z.optional(list(resourceId('ps'), 1)),
      TagSpecification: z.optional(
        list(
          z.strictObject({
            ResourceType: oneOf(['instance', 'host', 'image', 'keypair', 'ps', 'hpc']),
            Tags: list(tag, 50),
          }),
        ),
      ),
      InstanceMarketOptions: z.optional(
        z.strictObject({
          MarketType: oneOf(['spot']),
          SpotOptions: z.optional(
            z.strictObject({
              MaxPrice: z.string().check(z.regex(/^\d+(?:\.\d+)?$/)),
              SpotInstanceType: z.optional(oneOf(['one-time'])),
            }),
          ),
        }),
      ),
      UserData: z.optional(userData),
      Metadata: z.optional(
        z.strictObject({
          Items: list(
            z.strictObject({
              Key: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/)),
              Value: text().check(z.maxLength(262_144)),
            }),
          ),
        }),
      ),
      DryRun: z.optional(z.boolean()),
      CpuTopology: z.optional(
        z.strictObject({
          CoreCount: z.optional(
            z.int().check(rule<number>((v) => v >= 1, CODES.coreCount, 'must be a positive number of cores')),
          ),
          ThreadPerCore: z.optional(
            z
              .int()
              .check(
                rule<number>(
                  (v) => v === 1 || v === 2,
                  CODES.threadPerCore,
                  'must be 1 (hyper-threading off) or 2 (on)',
                ),
              ),
          ),
        }),
      ),
      CamRoleName: z.optional(
        matching(
          /^[A-Za-z0-9+=,.@_-]{1,128}$/,
          CODES.camRoleNameMalformed,
          'may hold only letters, digits and +=,.@_-',
        ),
      ),
      HpcClusterId: z.optional(text().check(z.minLength(1))),
      LaunchTemplate: z.optional(
        z.strictObject({
          LaunchTemplateId: resourceId('lt', CODES.launchTemplateIdMalformed),
          LaunchTemplateVersion: z.optional(positiveInt()),
        }),
      ),
      DedicatedClusterId: z.optional(text().check(z.minLength(1))),
      ChcIds: z.optional(list(text().check(z.minLength(1)))),
      PartitionNumber: z.optional(nonNegativeInt()),
      DisableApiTermination: z.optional(z.boolean()),
      EnableJumboFrame: z.optional(z.boolean()),
      NetworkInterfaces: z.optional(list(networkInterface)),
    }),
  );
}

export type RunInstancesSchema = ReturnType<typeof buildRunInstancesSchema>;
/** A RunInstances request in Tencent API 3.0 shape (business parameters), as validated. */
export type RunInstancesRequest = z.output<RunInstancesSchema>;

const schemas = new Map<ProfileName, RunInstancesSchema>();

/** The schema of a profile, built once. */
export function schemaFor(name: ProfileName): RunInstancesSchema {
  let schema = schemas.get(name);
  if (!schema) {
    schema = buildRunInstancesSchema(getProfile(name));
    schemas.set(name, schema);
  }
  return schema;
}

/** What the flattened form needs to know of a schema: which leaves are integers, booleans or strings. */
export type SchemaNode = z.ZodMiniType;

interface Def {
  type: string;
  innerType?: SchemaNode;
  out?: SchemaNode;
  element?: SchemaNode;
  shape?: Record<string, SchemaNode>;
}

/** A node's own definition, through optional() and the length pipe of list(). */
function defOf(node: SchemaNode): Def {
  let def = (node as unknown as { _zod: { def: Def } })._zod.def;
  for (;;) {
    const inner = def.type === 'optional' ? def.innerType : def.type === 'pipe' ? def.out : undefined;
    if (!inner) return def;
    def = (inner as unknown as { _zod: { def: Def } })._zod.def;
  }
}

/** The kind of value a schema node holds, for coercing flattened strings. */
export function leafKind(node: SchemaNode | undefined): 'number' | 'boolean' | 'string' | 'other' {
  if (!node) return 'other';
  const { type } = defOf(node);
  return type === 'number' || type === 'boolean' || type === 'string' ? type : 'other';
}

/** The schema of a member of an object node, or of the elements of an array node. */
export function childSchema(node: SchemaNode | undefined, key: string | number): SchemaNode | undefined {
  if (!node) return undefined;
  const def = defOf(node);
  if (def.type === 'object' && typeof key === 'string')
    return Object.hasOwn(def.shape ?? {}, key) ? def.shape?.[key] : undefined;
  if (def.type === 'array' && typeof key === 'number') return def.element;
  return undefined;
}

/** The member names an object node accepts (for "did you mean" hints). */
export function memberNames(node: SchemaNode | undefined): string[] {
  if (!node) return [];
  const def = defOf(node);
  return def.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}
