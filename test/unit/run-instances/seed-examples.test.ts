import { describe, expect, it } from 'vitest';
import {
  PROFILE_NAMES,
  validateFlattenedRunInstances,
  validateRunInstances,
} from '../../../lib/run-instances/index.ts';
import { type SeedNumber, seedBusinessRequest, seedExample, seedForm } from '../../helpers/requests.ts';

const SEEDS: SeedNumber[] = [1, 2, 3];
const CASES = PROFILE_NAMES.flatMap((profile) => SEEDS.map((n) => [n, profile] as const));

describe.each(CASES)('seed example %i under %s', (n, profile) => {
  it('validates the JSON form to ok in region ap-guangzhou', () => {
    expect(validateRunInstances(seedExample(n), { profile })).toEqual({
      ok: true,
      region: 'ap-guangzhou',
      request: seedBusinessRequest(n),
    });
  });

  it('validates the flattened form to ok in region ap-guangzhou', () => {
    expect(validateFlattenedRunInstances(seedForm(n), { profile })).toEqual({
      ok: true,
      region: 'ap-guangzhou',
      request: seedBusinessRequest(n),
    });
  });

  it('normalizes the JSON and the flattened form to the same request', () => {
    expect(validateFlattenedRunInstances(seedForm(n), { profile })).toEqual(
      validateRunInstances(seedExample(n), { profile }),
    );
  });
});
