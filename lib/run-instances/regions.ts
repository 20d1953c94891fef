/**
 * CVM regions accepted by the API (docs/tencent.md, "Regions and zones": the intl region list of 2025-11,
 * plus ap-beijing-fsi from the finance-zone table and the retired or limited regions the Go SDK still names).
 * DescribeRegions is authoritative at run time; this list only catches typos before a job is queued.
 */
export const KNOWN_REGIONS: ReadonlySet<string> = new Set([
  'ap-bangkok',
  'ap-beijing',
  'ap-beijing-fsi',
  'ap-chengdu',
  'ap-chongqing',
  'ap-guangzhou',
  'ap-guangzhou-open',
  'ap-hongkong',
  'ap-jakarta',
  'ap-mumbai',
  'ap-nanjing',
  'ap-seoul',
  'ap-shanghai',
  'ap-shanghai-fsi',
  'ap-shenzhen-fsi',
  'ap-singapore',
  'ap-tokyo',
  'eu-frankfurt',
  'eu-moscow',
  'na-ashburn',
  'na-siliconvalley',
  'na-toronto',
  'sa-saopaulo',
]);

/** Zone ids are `<region>-<n>`: `ap-guangzhou-2`, `ap-shanghai-fsi-1` (docs/tencent.md). */
export const ZONE_PATTERN = /^[a-z]+(?:-[a-z]+)+-\d+$/;

/** The region a zone belongs to (`ap-guangzhou-2` → `ap-guangzhou`), or undefined for a malformed zone. */
export function regionFromZone(zone: string): string | undefined {
  if (!ZONE_PATTERN.test(zone)) return undefined;
  return zone.slice(0, zone.lastIndexOf('-'));
}
