import { describe, expect, it } from 'vitest';
import { suggestName } from '../../../lib/run-instances/suggest.ts';

const TOP_LEVEL = [
  'InstanceCount',
  'InstanceName',
  'InstanceType',
  'ImageId',
  'Placement',
  'HostName',
  'MinCount',
];

describe('suggestName', () => {
  it('suggests InstanceCount for the transposition InstanceCoutn', () => {
    expect(suggestName('InstanceCoutn', TOP_LEVEL)).toBe('InstanceCount');
  });

  it('suggests the known spelling for a name in another case', () => {
    expect(suggestName('imageid', TOP_LEVEL)).toBe('ImageId');
  });

  it('suggests HostName for Hostname', () => {
    expect(suggestName('Hostname', TOP_LEVEL)).toBe('HostName');
  });

  it('suggests a name one letter too long', () => {
    expect(suggestName('Placements', TOP_LEVEL)).toBe('Placement');
  });

  it('suggests a name two edits away', () => {
    expect(suggestName('InstanceCnt', TOP_LEVEL)).toBe('InstanceCount');
  });

  it('suggests nothing for a name three edits away', () => {
    expect(suggestName('ImagXyz', TOP_LEVEL)).toBeUndefined();
  });

  it('suggests nothing for an unrelated name', () => {
    expect(suggestName('Banana', TOP_LEVEL)).toBeUndefined();
  });

  it('suggests nothing for a short name, where any edit is too far', () => {
    expect(suggestName('Zo', ['Zone'])).toBeUndefined();
  });

  it('suggests nothing when there are no known names', () => {
    expect(suggestName('InstanceCount', [])).toBeUndefined();
  });

  it('prefers the closer of two candidates', () => {
    expect(suggestName('InstanceNamx', ['InstanceCount', 'InstanceName'])).toBe('InstanceName');
  });
});
