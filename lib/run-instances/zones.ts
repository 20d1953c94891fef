import { KNOWN_REGIONS, regionFromZone } from './regions.ts';
import { suggestName } from './suggest.ts';

/**
 * The zones of each CVM region (docs/tencent.md, "Regions and zones"), so a zone that does not exist is
 * refused before a job is queued rather than by Tencent minutes later. Sold-out zones stay listed: they
 * exist, still serve their old instances, and Tencent answers a launch there itself (the seed's own example
 * uses Guangzhou zone 2).
 *
 * Sources, merged: Tencent Cloud's region-and-zone tables of 2024-2025
 * (https://tencentcloud.com/document/product/416/6479, https://tencentcloud.com/ind/document/product/457/36736,
 * https://www.tencentcloud.com/zh/document/product/457/41125), read 2025-11; and the zones the official SDK's
 * ZoneInfo lists (tencentcloud-sdk-nodejs-cvm 4.1.316, cvm_models `ZoneInfo.Zone`,
 * https://github.com/TencentCloud/tencentcloud-sdk-nodejs/blob/master/src/services/cvm/v20170312/cvm_models.ts).
 * Tencent opens zones without notice: admit a new one with EXTRA_ZONES=<zone>,… (no release needed), and
 * refresh this table from the live list with `npm run cvm -- DescribeZones '{}' --region <region>`
 * (docs/tencent.md, "Zone catalog").
 */
export const ZONE_CATALOG_AS_OF = '2025-11';

const numbered = (region: string, ...numbers: number[]) => numbers.map((n) => `${region}-${n}`);

export const ZONE_CATALOG: Readonly<Record<string, readonly string[]>> = {
  'ap-guangzhou': numbered('ap-guangzhou', 1, 2, 3, 4, 6, 7),
  'ap-shanghai': numbered('ap-shanghai', 1, 2, 3, 4, 5, 7, 8),
  'ap-nanjing': numbered('ap-nanjing', 1, 2, 3),
  'ap-beijing': numbered('ap-beijing', 1, 2, 3, 4, 5, 6, 7),
  'ap-chengdu': numbered('ap-chengdu', 1, 2),
  'ap-chongqing': numbered('ap-chongqing', 1),
  'ap-hongkong': numbered('ap-hongkong', 1, 2, 3),
  'ap-shenzhen-fsi': numbered('ap-shenzhen-fsi', 1, 2, 3),
  'ap-shanghai-fsi': numbered('ap-shanghai-fsi', 1, 2, 3, 4),
  'ap-beijing-fsi': numbered('ap-beijing-fsi', 1),
  'ap-singapore': numbered('ap-singapore', 1, 2, 3, 4),
  'ap-jakarta': numbered('ap-jakarta', 1, 2),
  'ap-seoul': numbered('ap-seoul', 1, 2),
  'ap-tokyo': numbered('ap-tokyo', 1, 2),
  'ap-bangkok': numbered('ap-bangkok', 1, 2),
  'ap-mumbai': numbered('ap-mumbai', 1, 2),
  'na-toronto': numbered('na-toronto', 1),
  'na-siliconvalley': numbered('na-siliconvalley', 1, 2),
  'na-ashburn': numbered('na-ashburn', 1, 2),
  'eu-frankfurt': numbered('eu-frankfurt', 1, 2),
  'eu-moscow': numbered('eu-moscow', 1),
  'sa-saopaulo': numbered('sa-saopaulo', 1),
};

const CATALOG_ZONES: readonly string[] = Object.values(ZONE_CATALOG).flat();
const CATALOG_SET: ReadonlySet<string> = new Set(CATALOG_ZONES);

/** Whether a region is known: a CVM region of the list, or the region of a zone EXTRA_ZONES admits. */
export function isKnownRegion(region: string, extraZones: readonly string[] = []): boolean {
  return KNOWN_REGIONS.has(region) || extraZones.some((zone) => regionFromZone(zone) === region);
}

/** Whether a zone exists: in the catalog, or admitted by EXTRA_ZONES. */
export function isKnownZone(zone: string, extraZones: readonly string[] = []): boolean {
  return CATALOG_SET.has(zone) || extraZones.includes(zone);
}

/**
 * What to tell a caller whose zone does not exist: the zones of its region when the region is right (a zone
 * number that does not exist), else the zone it was probably meant to be (a near miss: `ap-guangzhuo-3`).
 */
export function zoneHint(
  zone: string,
  region: string | undefined,
  extraZones: readonly string[] = [],
): string {
  const all = [...CATALOG_ZONES, ...extraZones];
  const ofRegion = all.filter((candidate) => region !== undefined && regionFromZone(candidate) === region);
  const opened = `a zone opened since ${ZONE_CATALOG_AS_OF} can be admitted with EXTRA_ZONES`;
  if (ofRegion.length) return `${region} has ${ofRegion.join(', ')} (${opened})`;
  const near = suggestName(zone, all);
  return near ? `did you mean ${near}?` : `zones look like ap-guangzhou-3 (${opened})`;
}
