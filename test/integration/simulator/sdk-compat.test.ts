import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../local/cvm-simulator/index.ts';
import { IMAGE_ID, SECRET_ID, sdkClient, simInstances, ZONE } from '../../helpers/simulator.ts';

// The SDK stamps requests with the wall clock, so this simulator runs on Date.now (and, to describe at once
// what it created, without visibility delays).
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, visibilityDelayMs: 0, tagDelayMs: 0, visibilityJitterMs: 0 });
});
afterAll(() => sim.close());

const SIGN_METHODS = ['TC3-HMAC-SHA256', 'HmacSHA256'] as const;

describe.each(SIGN_METHODS)('the official SDK CvmClient signing with %s', (signMethod) => {
  it('creates instances with RunInstances', async () => {
    const client = sdkClient(sim, signMethod);
    const response = await client.RunInstances({
      Placement: { Zone: ZONE },
      ImageId: IMAGE_ID,
      InstanceType: 'S5.MEDIUM4',
      InstanceCount: 2,
      InstanceName: `sdk-${signMethod}-{R:1}`,
      InternetAccessible: { InternetMaxBandwidthOut: 5, PublicIpAssigned: true },
      TagSpecification: [{ ResourceType: 'instance', Tags: [{ Key: 'via', Value: signMethod }] }],
      ClientToken: `sdk-${signMethod}`,
    });
    expect(response.InstanceIdSet).toHaveLength(2);
    expect(response.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    const created = (await simInstances(sim)).filter((i) => i.ClientToken === `sdk-${signMethod}`);
    expect(created.map((i) => i.InstanceId).sort()).toEqual([...(response.InstanceIdSet ?? [])].sort());
    expect(created.map((i) => i.InstanceName).sort()).toEqual([`sdk-${signMethod}-1`, `sdk-${signMethod}-2`]);
  });

  it('describes the instances it created, by id and by tag filter', async () => {
    const client = sdkClient(sim, signMethod);
    const { InstanceIdSet: ids = [] } = await client.RunInstances({
      Placement: { Zone: ZONE },
      ImageId: IMAGE_ID,
      InstanceName: `described-${signMethod}`,
    });
    const byId = await client.DescribeInstances({ InstanceIds: ids });
    expect(byId.TotalCount).toBe(1);
    expect(byId.InstanceSet?.[0]).toMatchObject({
      InstanceId: ids[0],
      InstanceName: `described-${signMethod}`,
      InstanceState: 'PENDING',
      Placement: { Zone: ZONE },
    });
    const byFilter = await client.DescribeInstances({
      Filters: [{ Name: 'instance-name', Values: [`described-${signMethod}`] }],
    });
    expect(byFilter.InstanceSet?.map((i) => i.InstanceId)).toEqual(ids);
  });

  it('receives a Response.Error as an SDK exception carrying the code and RequestId', async () => {
    const client = sdkClient(sim, signMethod, { secretId: SECRET_ID, secretKey: 'not-the-key' });
    const error = await client.DescribeInstances({}).then(
      () => undefined,
      (e: unknown) => e as { code?: string; requestId?: string },
    );
    expect(error?.code).toBe('AuthFailure.SignatureFailure');
    expect(error?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
