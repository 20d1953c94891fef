import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BASE_RUN,
  describeInstances,
  type Harness,
  type HarnessClient,
  rawTc3,
  rawV1,
  runInstances,
  startHarness,
} from '../../helpers/simulator.ts';

let h: Harness;
let client: HarnessClient;
beforeEach(async () => {
  h = await startHarness();
  client = h.client();
});
afterEach(() => h.close());

const fakeIds = (n: number) => Array.from({ length: n }, (_, i) => `ins-${String(i).padStart(8, '0')}`);

describe('DescribeInstances paging', () => {
  it('returns 20 instances by default with the TotalCount of all 25', async () => {
    await runInstances(client, { InstanceCount: 25 });
    const result = await describeInstances(client);
    expect(result.TotalCount).toBe(25);
    expect(result.InstanceSet).toHaveLength(20);
  });

  it('caps Limit at 100', async () => {
    await runInstances(client, { InstanceCount: 120 });
    const result = await describeInstances(client, { Limit: 150 });
    expect(result.TotalCount).toBe(120);
    expect(result.InstanceSet).toHaveLength(100);
  });

  it('pages with Offset and Limit without overlap or gaps', async () => {
    const ids = await runInstances(client, { InstanceCount: 25 });
    const first = await describeInstances(client, { Offset: 0, Limit: 10 });
    const second = await describeInstances(client, { Offset: 10, Limit: 10 });
    const third = await describeInstances(client, { Offset: 20, Limit: 10 });
    expect(third.InstanceSet).toHaveLength(5);
    const paged = [...first.InstanceSet, ...second.InstanceSet, ...third.InstanceSet].map(
      (i) => i.InstanceId,
    );
    expect(paged).toEqual(ids);
  });

  it('returns an empty page past the end with the TotalCount unchanged', async () => {
    await runInstances(client, { InstanceCount: 3 });
    const result = await describeInstances(client, { Offset: 50 });
    expect(result).toMatchObject({ TotalCount: 3, InstanceSet: [] });
  });

  it('refuses more than 100 InstanceIds as InvalidParameterValue.LimitExceeded', async () => {
    await expect(client.call('DescribeInstances', { InstanceIds: fakeIds(101) })).rejects.toMatchObject({
      code: 'InvalidParameterValue.LimitExceeded',
    });
  });

  it('accepts exactly 100 InstanceIds', async () => {
    const result = await describeInstances(client, { InstanceIds: fakeIds(100) });
    expect(result.TotalCount).toBe(0);
  });

  it('answers an unknown instance id with TotalCount 0', async () => {
    await runInstances(client);
    const result = await describeInstances(client, { InstanceIds: ['ins-zzzzzzzz'] });
    expect(result).toMatchObject({ TotalCount: 0, InstanceSet: [] });
  });

  it('refuses a malformed instance id as InvalidInstanceId.Malformed', async () => {
    await expect(client.call('DescribeInstances', { InstanceIds: ['i-123'] })).rejects.toMatchObject({
      code: 'InvalidInstanceId.Malformed',
    });
  });

  it.each([
    ['a v1 index gap', { 'InstanceIds.1': 'ins-abcdefgh' }, 'v1'],
    ['a JSON null in the list', '{"InstanceIds":[null,"ins-abcdefgh"]}', 'tc3'],
  ] as const)(
    'refuses InstanceIds with %s instead of treating them as no filter',
    async (_what, params, style) => {
      const timestamp = Math.floor(h.clock.now() / 1000);
      const { body } =
        style === 'v1'
          ? await rawV1(h.sim, { method: 'GET', params: params as Record<string, string>, timestamp })
          : await rawTc3(h.sim, { payload: params as string, timestamp });
      expect(body.Response.Error?.Code).toBe('InvalidParameter');
    },
  );

  it('refuses an unknown parameter as UnknownParameter', async () => {
    await expect(client.call('DescribeInstances', { Order: 'desc' })).rejects.toMatchObject({
      code: 'UnknownParameter',
    });
  });
});

describe('DescribeInstances filters and tags', () => {
  const tagged = (key: string, value: string) => ({
    TagSpecification: [{ ResourceType: 'instance', Tags: [{ Key: key, Value: value }] }],
  });

  it('keeps the tags given in TagSpecification', async () => {
    const [id] = await runInstances(client, {
      TagSpecification: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'team', Value: 'web' },
            { Key: 'env', Value: 'prod' },
          ],
        },
      ],
    });
    const result = await describeInstances(client, { InstanceIds: [id] });
    expect(result.InstanceSet[0]?.Tags).toEqual([
      { Key: 'team', Value: 'web' },
      { Key: 'env', Value: 'prod' },
    ]);
  });

  it('ignores TagSpecification entries for other resource types', async () => {
    const [id] = await runInstances(client, {
      TagSpecification: [{ ResourceType: 'disk', Tags: [{ Key: 'team', Value: 'web' }] }],
    });
    const result = await describeInstances(client, { InstanceIds: [id] });
    expect(result.InstanceSet[0]?.Tags).toEqual([]);
  });

  it('selects instances by tag value with a tag:<key> filter', async () => {
    const web = await runInstances(client, { InstanceCount: 2, ...tagged('team', 'web') });
    await runInstances(client, tagged('team', 'db'));
    await runInstances(client, tagged('owner', 'web'));
    const result = await describeInstances(client, { Filters: [{ Name: 'tag:team', Values: ['web'] }] });
    expect(result.TotalCount).toBe(2);
    expect(result.InstanceSet.map((i) => i.InstanceId)).toEqual(web);
  });

  it('matches any of several values of one filter', async () => {
    await runInstances(client, tagged('team', 'web'));
    await runInstances(client, tagged('team', 'db'));
    await runInstances(client, tagged('team', 'ops'));
    const result = await describeInstances(client, {
      Filters: [{ Name: 'tag:team', Values: ['web', 'db'] }],
    });
    expect(result.TotalCount).toBe(2);
  });

  it('selects instances by exact name with the instance-name filter', async () => {
    const [id] = await runInstances(client, { InstanceName: 'alpha' });
    await runInstances(client, { InstanceName: 'alpha-2' });
    const result = await describeInstances(client, {
      Filters: [{ Name: 'instance-name', Values: ['alpha'] }],
    });
    expect(result.InstanceSet.map((i) => i.InstanceId)).toEqual([id]);
  });

  it('selects instances by zone with the zone filter', async () => {
    const zone4 = await runInstances(client, { Placement: { Zone: 'ap-guangzhou-4' }, InstanceCount: 2 });
    await runInstances(client, { Placement: { Zone: 'ap-guangzhou-3' } });
    const result = await describeInstances(client, {
      Filters: [{ Name: 'zone', Values: ['ap-guangzhou-4'] }],
    });
    expect(result.InstanceSet.map((i) => i.InstanceId)).toEqual(zone4);
    expect(result.InstanceSet.every((i) => i.Placement.Zone === 'ap-guangzhou-4')).toBe(true);
  });

  it('requires every filter to match when several are given', async () => {
    const [id] = await runInstances(client, { InstanceName: 'both', ...tagged('team', 'web') });
    await runInstances(client, { InstanceName: 'both', ...tagged('team', 'db') });
    const result = await describeInstances(client, {
      Filters: [
        { Name: 'instance-name', Values: ['both'] },
        { Name: 'tag:team', Values: ['web'] },
      ],
    });
    expect(result.InstanceSet.map((i) => i.InstanceId)).toEqual([id]);
  });

  it('refuses InstanceIds combined with Filters as InvalidParameterCombination', async () => {
    const [id] = await runInstances(client);
    await expect(
      client.call('DescribeInstances', {
        InstanceIds: [id],
        Filters: [{ Name: 'zone', Values: ['ap-guangzhou-3'] }],
      }),
    ).rejects.toMatchObject({ code: 'InvalidParameterCombination' });
  });

  it('refuses an unsupported filter name as InvalidFilter', async () => {
    await expect(
      client.call('DescribeInstances', { Filters: [{ Name: 'colour', Values: ['blue'] }] }),
    ).rejects.toMatchObject({ code: 'InvalidFilter' });
  });

  it('refuses a filter with more than 5 values as InvalidFilterValue.LimitExceeded', async () => {
    await expect(
      client.call('DescribeInstances', {
        Filters: [{ Name: 'instance-name', Values: ['a', 'b', 'c', 'd', 'e', 'f'] }],
      }),
    ).rejects.toMatchObject({ code: 'InvalidFilterValue.LimitExceeded' });
  });
});

describe('DescribeInstancesStatus', () => {
  it('reports the state of the requested instances', async () => {
    const ids = await runInstances(client, { InstanceCount: 2 });
    const result = await client.call('DescribeInstancesStatus', { InstanceIds: ids });
    expect(result.TotalCount).toBe(2);
    expect(result.InstanceStatusSet).toEqual(
      ids.map((InstanceId) => ({ InstanceId, InstanceState: 'PENDING' })),
    );
  });

  it('refuses Filters as UnknownParameter', async () => {
    await expect(
      client.call('DescribeInstancesStatus', { Filters: [{ Name: 'zone', Values: ['ap-guangzhou-3'] }] }),
    ).rejects.toMatchObject({ code: 'UnknownParameter' });
  });

  it('refuses more than 100 InstanceIds as InvalidParameterValue.LimitExceeded', async () => {
    await expect(client.call('DescribeInstancesStatus', { InstanceIds: fakeIds(101) })).rejects.toMatchObject(
      {
        code: 'InvalidParameterValue.LimitExceeded',
      },
    );
  });
});

it('describes what RunInstances was given', async () => {
  const [id] = await runInstances(client, {
    ...BASE_RUN,
    InstanceType: 'SA2.MEDIUM4',
    InstanceName: 'shape',
    SecurityGroupIds: ['sg-p1ezv4wz'],
  });
  const result = await describeInstances(client, { InstanceIds: [id] });
  expect(result.InstanceSet[0]).toMatchObject({
    InstanceId: id,
    InstanceType: 'SA2.MEDIUM4',
    ImageId: BASE_RUN.ImageId,
    InstanceName: 'shape',
    InstanceChargeType: 'POSTPAID_BY_HOUR',
    SecurityGroupIds: ['sg-p1ezv4wz'],
    CreatedTime: '2026-01-15T08:00:00Z',
  });
});
