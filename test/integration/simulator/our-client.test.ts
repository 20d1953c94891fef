import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGN_METHODS } from '../../../lib/tencent/client.ts';
import {
  BASE_RUN,
  describeInstances,
  type Harness,
  runInstances,
  simInstances,
  startHarness,
  ZONE,
} from '../../helpers/simulator.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const COMBINATIONS = SIGN_METHODS.flatMap((signMethod) =>
  (['POST', 'GET'] as const).map((httpMethod) => ({ signMethod, httpMethod })),
);

describe.each(COMBINATIONS)('our client with $signMethod over $httpMethod', ({ signMethod, httpMethod }) => {
  it('creates an instance whose nested parameters, tags and name arrive intact', async () => {
    const client = h.client({ signMethod, httpMethod });
    const name = `ours ${signMethod} ${httpMethod} 未命名`;
    const ids = await runInstances(client, {
      InstanceName: name,
      InternetAccessible: { InternetMaxBandwidthOut: 1, PublicIpAssigned: true },
      VirtualPrivateCloud: { VpcId: 'vpc-m0cnatxj', SubnetId: 'subnet-mv4sn55k' },
      TagSpecification: [
        { ResourceType: 'instance', Tags: [{ Key: 'combo', Value: `${signMethod}/${httpMethod}` }] },
      ],
      ClientToken: `ours-${signMethod}-${httpMethod}`,
    });
    expect(ids).toHaveLength(1);
    const listed = (await simInstances(h.sim)).find((i) => i.InstanceId === ids[0]);
    expect(listed).toMatchObject({
      InstanceName: name,
      Zone: ZONE,
      ClientToken: `ours-${signMethod}-${httpMethod}`,
      Tags: [{ Key: 'combo', Value: `${signMethod}/${httpMethod}` }],
    });
  });

  it('describes an instance by id with a RequestId in the envelope', async () => {
    const client = h.client({ signMethod, httpMethod });
    const [id] = await client.call('RunInstances', { ...BASE_RUN }).then((r) => r.InstanceIdSet as string[]);
    const result = await describeInstances(client, { InstanceIds: [id] });
    expect(result.TotalCount).toBe(1);
    expect(result.InstanceSet[0]?.InstanceId).toBe(id);
    const raw = await client.call('DescribeInstances', { InstanceIds: [id] });
    expect(raw.RequestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
