import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BASE_RUN,
  codeOf,
  type Harness,
  type HarnessClient,
  resetSim,
  runInstances,
  simInstances,
  startHarness,
} from '../../helpers/simulator.ts';

/** A request with nested objects, arrays, numbers and booleans: every shape the two encodings must agree on. */
const RICH = {
  ...BASE_RUN,
  InstanceCount: 2,
  InstanceName: 'idem {R:1}',
  SystemDisk: { DiskType: 'CLOUD_PREMIUM', DiskSize: 50 },
  DataDisks: [{ DiskType: 'CLOUD_SSD', DiskSize: 100, DeleteWithInstance: true }],
  InternetAccessible: { InternetMaxBandwidthOut: 10, PublicIpAssigned: true },
  VirtualPrivateCloud: { VpcId: 'vpc-m0cnatxj', SubnetId: 'subnet-mv4sn55k' },
  SecurityGroupIds: ['sg-p1ezv4wz'],
  EnhancedService: { SecurityService: { Enabled: false } },
  TagSpecification: [{ ResourceType: 'instance', Tags: [{ Key: 'team', Value: 'idem' }] }],
};

let h: Harness;
let client: HarnessClient;
beforeEach(async () => {
  h = await startHarness({ quota: 10 });
  client = h.client();
});
afterEach(() => h.close());

describe('ClientToken', () => {
  it('answers the same token with the same parameters with the same InstanceIdSet', async () => {
    const first = await runInstances(client, { ...RICH, ClientToken: 'token-same' });
    const second = await runInstances(client, { ...RICH, ClientToken: 'token-same' });
    expect(second).toEqual(first);
  });

  it('creates nothing when the same token and parameters come again', async () => {
    await runInstances(client, { ...RICH, ClientToken: 'token-once' });
    await runInstances(client, { ...RICH, ClientToken: 'token-once' });
    const listed = await simInstances(h.sim);
    expect(listed).toHaveLength(2);
    expect(listed.every((i) => i.ClientToken === 'token-once')).toBe(true);
  });

  it('refuses the same token with different parameters as UnsupportedOperation.IdempotentParameterMismatch', async () => {
    await runInstances(client, { ...RICH, ClientToken: 'token-mismatch' });
    await expect(
      client.call('RunInstances', { ...RICH, InstanceCount: 3, ClientToken: 'token-mismatch' }),
    ).rejects.toMatchObject({ code: 'UnsupportedOperation.IdempotentParameterMismatch' });
    expect(await simInstances(h.sim)).toHaveLength(2);
  });

  it('refuses a ClientToken reused with InstanceName TRUE after true: case matters in strings', async () => {
    await client.call('RunInstances', { ...BASE_RUN, InstanceName: 'TRUE', ClientToken: 'case-token' });
    const code = await codeOf(
      client.call('RunInstances', { ...BASE_RUN, InstanceName: 'true', ClientToken: 'case-token' }),
    );
    expect(code).toBe('UnsupportedOperation.IdempotentParameterMismatch');
  });

  it('treats a different member order as the same parameters', async () => {
    const first = await runInstances(client, { ...RICH, ClientToken: 'token-order' });
    const reordered = Object.fromEntries(Object.entries({ ...RICH, ClientToken: 'token-order' }).reverse());
    expect(await runInstances(client, reordered)).toEqual(first);
  });

  it.each([
    ['HmacSHA256', 'POST'],
    ['HmacSHA256', 'GET'],
    ['HmacSHA1', 'POST'],
    ['TC3-HMAC-SHA256', 'GET'],
  ] as const)(
    'gives the same ids to a JSON/TC3 request and its %s %s form twin',
    async (signMethod, httpMethod) => {
      const token = `token-twin-${signMethod}-${httpMethod}`;
      const json = await runInstances(client, { ...RICH, ClientToken: token });
      const form = await runInstances(h.client({ signMethod, httpMethod }), { ...RICH, ClientToken: token });
      expect(form).toEqual(json);
      expect(await simInstances(h.sim)).toHaveLength(2);
    },
  );

  it('gives the same ids to a v1 form request replayed as JSON/TC3', async () => {
    const form = await runInstances(h.client({ signMethod: 'HmacSHA256' }), {
      ...RICH,
      ClientToken: 'token-back',
    });
    expect(await runInstances(client, { ...RICH, ClientToken: 'token-back' })).toEqual(form);
  });

  it('replays a token whose request fixed a private IP instead of refusing the IP as used', async () => {
    const fixed = {
      ...BASE_RUN,
      VirtualPrivateCloud: {
        VpcId: 'vpc-m0cnatxj',
        SubnetId: 'subnet-mv4sn55k',
        PrivateIpAddresses: ['10.0.1.9'],
      },
      ClientToken: 'token-fixed-ip',
    };
    const first = await runInstances(client, fixed);
    expect(await runInstances(client, fixed)).toEqual(first);
  });

  it('replays a token whose instances fill the quota instead of refusing it as over quota', async () => {
    const full = { ...BASE_RUN, InstanceCount: 10, ClientToken: 'token-full' };
    const first = await runInstances(client, full);
    expect(await runInstances(client, full)).toEqual(first);
  });

  it('does not bind a token to a request that was refused', async () => {
    await expect(
      client.call('RunInstances', { ...BASE_RUN, ImageId: 'img-00000000', ClientToken: 'token-refused' }),
    ).rejects.toMatchObject({ code: 'InvalidImageId.NotFound' });
    expect(await runInstances(client, { ...BASE_RUN, ClientToken: 'token-refused' })).toHaveLength(1);
  });

  it('creates new instances for the same parameters under a new token', async () => {
    const first = await runInstances(client, { ...BASE_RUN, ClientToken: 'token-a' });
    const second = await runInstances(client, { ...BASE_RUN, ClientToken: 'token-b' });
    expect(second).not.toEqual(first);
    expect(await simInstances(h.sim)).toHaveLength(2);
  });

  it('creates new instances for every request without a token', async () => {
    await runInstances(client);
    await runInstances(client);
    expect(await simInstances(h.sim)).toHaveLength(2);
  });

  it('treats an empty ClientToken as none, so unrelated requests are not deduplicated', async () => {
    const first = await runInstances(client, { ClientToken: '', InstanceName: 'a' });
    const second = await runInstances(client, { ClientToken: '', InstanceName: 'b' });
    expect(second).not.toEqual(first);
  });

  it('forgets tokens on /_sim/reset', async () => {
    const first = await runInstances(client, { ...BASE_RUN, ClientToken: 'token-reset' });
    await resetSim(h.sim);
    const second = await runInstances(client, { ...BASE_RUN, ClientToken: 'token-reset' });
    expect(second).not.toEqual(first);
  });
});

describe('ClientToken modes, weaker than hoped', () => {
  it('expiring: replays the token until clientTokenTtlMs, then creates again', async () => {
    const weak = await startHarness({ clientTokens: 'expiring', clientTokenTtlMs: 10_000 });
    try {
      const c = weak.client();
      const first = await runInstances(c, { ...BASE_RUN, ClientToken: 'token-ttl' });
      weak.clock.advance(9_999);
      expect(await runInstances(c, { ...BASE_RUN, ClientToken: 'token-ttl' })).toEqual(first);
      weak.clock.advance(1);
      const later = await runInstances(c, { ...BASE_RUN, ClientToken: 'token-ttl' });
      expect(later).not.toEqual(first);
      expect(await simInstances(weak.sim)).toHaveLength(2);
      // The new creation is what the token now stands for.
      expect(await runInstances(c, { ...BASE_RUN, ClientToken: 'token-ttl' })).toEqual(later);
    } finally {
      await weak.close();
    }
  });

  it('ignored: every call creates, whatever the token, and a mismatch is never noticed', async () => {
    const weak = await startHarness({ clientTokens: 'ignored' });
    try {
      const c = weak.client();
      const first = await runInstances(c, { ...BASE_RUN, ClientToken: 'token-ignored' });
      const second = await runInstances(c, { ...BASE_RUN, ClientToken: 'token-ignored' });
      expect(second).not.toEqual(first);
      expect(
        await runInstances(c, { ...BASE_RUN, InstanceCount: 2, ClientToken: 'token-ignored' }),
      ).toHaveLength(2);
      const listed = await simInstances(weak.sim);
      expect(listed).toHaveLength(4);
      expect(listed.every((i) => i.ClientToken === 'token-ignored')).toBe(true);
    } finally {
      await weak.close();
    }
  });
});
