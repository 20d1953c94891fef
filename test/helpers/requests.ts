import { readFileSync } from 'node:fs';
import type { RunInstancesRequest } from '../../lib/run-instances/index.ts';

/** The seed examples 2 and 3 carry this password (events/seed/example-2.json). */
export const SEED_PASSWORD = 'Qcloud@TestApi123++';

/** The seed's three examples (Tencent's 2017 RunInstances document), see events/seed/README.md. */
export type SeedNumber = 1 | 2 | 3;

function seedUrl(n: SeedNumber, extension: 'json' | 'form'): URL {
  return new URL(`../../events/seed/example-${n}.${extension}`, import.meta.url);
}

/** A fresh copy of seed example N in API 3.0 JSON shape, Action and Version included. */
export function seedExample(n: SeedNumber): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(seedUrl(n, 'json'), 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`events/seed/example-${n}.json is not a JSON object`);
  }
  return { ...parsed };
}

/** Seed example N as its flattened, percent-encoded form body. */
export function seedForm(n: SeedNumber): string {
  return readFileSync(seedUrl(n, 'form'), 'utf8');
}

/** Seed example N without the common parameters, i.e. the business request validation should return. */
export function seedBusinessRequest(n: SeedNumber): Record<string, unknown> {
  const { Action: _action, Version: _version, ...business } = seedExample(n);
  return business;
}

/**
 * A realistic request that is valid under both profiles (and so under `current`): a postpaid S5.MEDIUM4 in
 * Guangzhou zone 3 on a VPC, one security group, an SSH key, a batch name pattern and an idempotency token.
 * Each call returns a new object; `overrides` replace top-level parameters.
 */
export function validRequest(overrides: Partial<RunInstancesRequest> = {}): RunInstancesRequest {
  const base: RunInstancesRequest = {
    Placement: { Zone: 'ap-guangzhou-3' },
    ImageId: 'img-pmqg1cw7',
    InstanceType: 'S5.MEDIUM4',
    VirtualPrivateCloud: { VpcId: 'vpc-m0cnatxj', SubnetId: 'subnet-mv4sn55k' },
    SecurityGroupIds: ['sg-p1ezv4wz'],
    LoginSettings: { KeyIds: ['skey-b4vakk62'] },
    InstanceName: 'web-{R:1}',
    ClientToken: 'run-2024-06-01-web-0001',
  };
  return structuredClone({ ...base, ...overrides });
}

/** A copy of `request` without the given top-level parameters (for "missing parameter" cases). */
export function withoutKeys(request: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(request).filter(([key]) => !keys.includes(key)));
}
