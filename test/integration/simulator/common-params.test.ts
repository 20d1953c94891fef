import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGN_METHODS } from '../../../lib/tencent/client.ts';
import {
  BASE_RUN,
  describeInstances,
  type Harness,
  rawTc3,
  runInstances,
  startHarness,
} from '../../helpers/simulator.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe.each(SIGN_METHODS)('common parameters sent with %s', (signMethod) => {
  it('refuses an unknown action as InvalidAction', async () => {
    await expect(h.client({ signMethod }).call('LaunchRockets')).rejects.toMatchObject({
      code: 'InvalidAction',
    });
  });

  it('refuses another API version as NoSuchVersion', async () => {
    await expect(
      h.client({ signMethod, version: '2099-01-01' }).call('DescribeInstances'),
    ).rejects.toMatchObject({ code: 'NoSuchVersion' });
  });

  it('refuses a request without Region as MissingParameter', async () => {
    await expect(h.client({ signMethod }).call('DescribeInstances', {}, null)).rejects.toMatchObject({
      code: 'MissingParameter',
    });
  });

  it('refuses an unknown region as UnsupportedRegion', async () => {
    await expect(h.client({ signMethod }).call('DescribeInstances', {}, 'ap-mars')).rejects.toMatchObject({
      code: 'UnsupportedRegion',
    });
  });
});

describe('regions', () => {
  it('shows an instance only to Describe calls in the region it was created in', async () => {
    const client = h.client();
    const [id] = await runInstances(client, { InstanceName: 'guangzhou-only' });
    const elsewhere = await client.call('DescribeInstances', { InstanceIds: [id] }, 'ap-shanghai');
    expect(elsewhere.TotalCount).toBe(0);
    const here = await describeInstances(client, { InstanceIds: [id] });
    expect(here.TotalCount).toBe(1);
  });
});

describe('request body', () => {
  it('refuses a TC3 body that is not JSON as InvalidParameter', async () => {
    const { body } = await rawTc3(h.sim, {
      action: 'RunInstances',
      timestamp: Math.floor(h.clock.now() / 1000),
      payload: '{"ImageId":',
    });
    expect(body.Response.Error?.Code).toBe('InvalidParameter');
  });

  it('refuses a body over 1 MB as RequestSizeLimitExceeded', async () => {
    const payload = JSON.stringify({ ...BASE_RUN, UserData: 'A'.repeat(1024 * 1024 + 1) });
    const { status, body } = await rawTc3(h.sim, {
      action: 'RunInstances',
      timestamp: Math.floor(h.clock.now() / 1000),
      payload,
    });
    expect(status).toBe(200);
    expect(body.Response.Error?.Code).toBe('RequestSizeLimitExceeded');
  });
});
