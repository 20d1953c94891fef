import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_LIFECYCLE,
  INSTANCE_STATES,
  MARKERS,
  type SimulatorOptions,
  simulatorOptionsFromEnv,
  startSimulator,
} from '../../../local/cvm-simulator/index.ts';
import {
  FORCED_OPERATIONS,
  LAUNCH_FAILURES,
  type LaunchFacts,
} from '../../../local/cvm-simulator/lifecycle.ts';
import {
  codeOf,
  describeInstances,
  describeOne,
  forceSimState,
  type Harness,
  runInstances,
  simInstances,
  startHarness,
  ZONE,
} from '../../helpers/simulator.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(options: Omit<SimulatorOptions, 'port' | 'now'> = {}) {
  h = await startHarness(options);
  return { h, client: h.client() };
}

const VPC = { VpcId: 'vpc-m0cnatxj', SubnetId: 'subnet-mv4sn55k' };

describe('the launch settles after RUNNING', () => {
  it('shows RUNNING with RunInstances OPERATING until settleMs after readyAt, then SUCCESS', async () => {
    const { h, client } = await harness({ bootMs: 2000, settleMs: 3000 });
    const [id = ''] = await runInstances(client);
    h.clock.advance(2000);
    expect(await describeOne(client, id)).toMatchObject({
      InstanceState: 'RUNNING',
      LatestOperation: 'RunInstances',
      LatestOperationState: 'OPERATING',
    });
    h.clock.advance(2999);
    expect((await describeOne(client, id))?.LatestOperationState).toBe('OPERATING');
    h.clock.advance(1);
    expect(await describeOne(client, id)).toMatchObject({
      InstanceState: 'RUNNING',
      LatestOperation: 'RunInstances',
      LatestOperationState: 'SUCCESS',
      LatestOperationErrorMsg: null,
    });
  });

  it('says RUNNING in DescribeInstancesStatus while the launch still settles', async () => {
    const { h, client } = await harness({ bootMs: 1000, settleMs: 5000 });
    const [id] = await runInstances(client);
    h.clock.advance(1000);
    const status = await client.call('DescribeInstancesStatus', { InstanceIds: [id] });
    expect(status.InstanceStatusSet).toEqual([{ InstanceId: id, InstanceState: 'RUNNING' }]);
  });

  it('shows the public address already while the launch settles', async () => {
    const { h, client } = await harness({ bootMs: 1000, settleMs: 5000 });
    const [id = ''] = await runInstances(client, { InternetAccessible: { InternetMaxBandwidthOut: 5 } });
    h.clock.advance(1000);
    const instance = await describeOne(client, id);
    expect(instance?.LatestOperationState).toBe('OPERATING');
    expect(instance?.PublicIpAddresses).toEqual([expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/)]);
  });

  it('succeeds at readyAt itself when settleMs is 0', async () => {
    const { h, client } = await harness({ bootMs: 1000, settleMs: 0 });
    const [id = ''] = await runInstances(client);
    h.clock.advance(1000);
    expect((await describeOne(client, id))?.LatestOperationState).toBe('SUCCESS');
  });
});

describe('launch failures', () => {
  const facts = (more: Partial<LaunchFacts> = {}): LaunchFacts => ({
    zone: ZONE,
    instanceType: 'S5.MEDIUM4',
    chargeType: 'POSTPAID_BY_HOUR',
    systemDiskType: 'CLOUD_PREMIUM',
    ...more,
  });
  const fitting = (f: LaunchFacts) => LAUNCH_FAILURES.filter((r) => r.fits(f)).map((r) => r.message(f));

  it('fails a launch with LatestOperationState FAILED and a reason from the table', async () => {
    const { h, client } = await harness({ bootMs: 1000, launchFailRate: 1 });
    const [id = ''] = await runInstances(client);
    h.clock.advance(1000);
    const failed = await describeOne(client, id);
    expect(failed).toMatchObject({
      InstanceState: 'LAUNCH_FAILED',
      LatestOperation: 'RunInstances',
      LatestOperationState: 'FAILED',
    });
    expect(fitting(facts())).toContain(failed?.LatestOperationErrorMsg);
  });

  it.each([
    [0, 0],
    [0.5, 1],
    [0.99, 2],
  ])(
    'picks the reason by the injected random() (draw %s → reason %s of a postpaid classic instance)',
    async (draw, index) => {
      const { h, client } = await harness({ bootMs: 1000, launchFailRate: 1, random: () => draw });
      const [id = ''] = await runInstances(client);
      h.clock.advance(1000);
      expect((await describeOne(client, id))?.LatestOperationErrorMsg).toBe(fitting(facts())[index]);
    },
  );

  it.each([
    [0.5, 'The account balance is insufficient to pay for the prepaid (monthly) instance.'],
    [0.7, 'The subnet subnet-mv4sn55k has no free private IP address left.'],
  ])('draws only among the reasons that fit: a prepaid VPC instance at draw %s', async (draw, reason) => {
    const { h, client } = await harness({ bootMs: 1000, launchFailRate: 1, random: () => draw });
    const [id = ''] = await runInstances(client, {
      InstanceChargeType: 'PREPAID',
      InstanceChargePrepaid: { Period: 1 },
      VirtualPrivateCloud: VPC,
    });
    h.clock.advance(1000);
    expect((await describeOne(client, id))?.LatestOperationErrorMsg).toBe(reason);
  });

  it('never gives a postpaid classic instance the prepaid or subnet reasons', () => {
    expect(fitting(facts()).join('\n')).not.toMatch(/prepaid|subnet/);
  });

  it('keeps the same reason for an instance from one Describe to the next', async () => {
    const { h, client } = await harness({ bootMs: 1000, launchFailRate: 1 });
    const [id = ''] = await runInstances(client);
    h.clock.advance(1000);
    const first = (await describeOne(client, id))?.LatestOperationErrorMsg;
    h.clock.advance(10_000);
    expect((await describeOne(client, id))?.LatestOperationErrorMsg).toBe(first);
  });

  it(`always fails an instance whose InstanceName holds ${MARKERS.launchFail}, whatever the rate`, async () => {
    const { h, client } = await harness({ bootMs: 1000, launchFailRate: 0 });
    const [failing = ''] = await runInstances(client, { InstanceName: `web-${MARKERS.launchFail}` });
    const [fine = ''] = await runInstances(client, { InstanceName: 'web-ok' });
    h.clock.advance(1000);
    expect(await describeOne(client, failing)).toMatchObject({
      InstanceState: 'LAUNCH_FAILED',
      InstanceName: 'web-sim:launch-fail',
      LatestOperationErrorMsg: expect.stringMatching(/\S/),
    });
    expect((await describeOne(client, fine))?.InstanceState).toBe('RUNNING');
  });

  it('reclaims a LAUNCH_FAILED instance reclaimMs after its launch failed: Describe and Terminate no longer know it', async () => {
    const { h, client } = await harness({ bootMs: 1000, reclaimMs: 30_000 });
    const [id = ''] = await runInstances(client, { InstanceName: MARKERS.launchFail });
    h.clock.advance(1000 + 29_999);
    expect((await describeOne(client, id))?.InstanceState).toBe('LAUNCH_FAILED');
    h.clock.advance(1);
    expect(await describeInstances(client, { InstanceIds: [id] })).toMatchObject({ TotalCount: 0 });
    expect((await client.call('DescribeInstancesStatus', { InstanceIds: [id] })).TotalCount).toBe(0);
    expect(await codeOf(client.call('TerminateInstances', { InstanceIds: [id] }))).toBe(
      'InvalidInstanceId.NotFound',
    );
    expect((await simInstances(h.sim)).map((i) => i.InstanceState)).toEqual(['GONE']);
  });

  it("frees a reclaimed instance's private address", async () => {
    const { h, client } = await harness({ bootMs: 1000, reclaimMs: 5000 });
    const fixed = { VirtualPrivateCloud: { ...VPC, PrivateIpAddresses: ['10.0.1.80'] } };
    await runInstances(client, { ...fixed, InstanceName: MARKERS.launchFail });
    h.clock.advance(1000);
    expect(await codeOf(runInstances(client, fixed))).toBe('VpcIpIsUsed');
    h.clock.advance(5000);
    expect(await codeOf(runInstances(client, fixed))).toBe('accepted');
  });
});

describe('forced states', () => {
  it.each(INSTANCE_STATES)(
    'shows a forced %s in both Describe calls, with its latest operation',
    async (forced) => {
      const { h, client } = await harness({ bootMs: 1000 });
      const [id = ''] = await runInstances(client);
      const response = await forceSimState(h.sim, id, { InstanceState: forced });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ InstanceId: id, InstanceState: forced });
      const { operation, operationState } = FORCED_OPERATIONS[forced];
      expect(await describeOne(client, id)).toMatchObject({
        InstanceState: forced,
        LatestOperation: operation,
        LatestOperationState: operationState,
      });
      const status = await client.call('DescribeInstancesStatus', { InstanceIds: [id] });
      expect(status.InstanceStatusSet).toEqual([{ InstanceId: id, InstanceState: forced }]);
    },
  );

  it('keeps a forced state however the clock moves (no boot, no settling, no reclaim)', async () => {
    const { h, client } = await harness({ bootMs: 1000, reclaimMs: 1000 });
    const [id = ''] = await runInstances(client);
    await forceSimState(h.sim, id, { InstanceState: 'STOPPED' });
    h.clock.advance(3_600_000);
    expect((await describeOne(client, id))?.InstanceState).toBe('STOPPED');
  });

  it('shows the LatestOperationState and LatestOperationErrorMsg given with the state', async () => {
    const { h, client } = await harness();
    const [id = ''] = await runInstances(client);
    await forceSimState(h.sim, id, {
      InstanceState: 'RUNNING',
      LatestOperationState: 'FAILED',
      LatestOperationErrorMsg: 'the disk could not be attached',
    });
    expect(await describeOne(client, id)).toMatchObject({
      InstanceState: 'RUNNING',
      LatestOperationState: 'FAILED',
      LatestOperationErrorMsg: 'the disk could not be attached',
    });
  });

  it("gives a forced LAUNCH_FAILED the instance's drawn reason, and keeps it past reclaimMs", async () => {
    const { h, client } = await harness({ bootMs: 1000, reclaimMs: 1000 });
    const [id = ''] = await runInstances(client);
    await forceSimState(h.sim, id, { InstanceState: 'LAUNCH_FAILED' });
    h.clock.advance(10_000);
    const failed = await describeOne(client, id);
    expect(failed).toMatchObject({ InstanceState: 'LAUNCH_FAILED', LatestOperationState: 'FAILED' });
    expect(failed?.LatestOperationErrorMsg).toBe(h.sim.state.instances.get(id)?.launchFailReason);
  });

  it.each([
    ['an unknown state', { InstanceState: 'BROKEN' }],
    ['no state', { LatestOperationState: 'SUCCESS' }],
    ['an unknown LatestOperationState', { InstanceState: 'RUNNING', LatestOperationState: 'DONE' }],
    [
      'a LatestOperationErrorMsg that is not a string',
      { InstanceState: 'RUNNING', LatestOperationErrorMsg: 7 },
    ],
    ['an unknown member', { InstanceState: 'RUNNING', Reason: 'x' }],
    ['a JSON array', '[]'],
    ['text that is not JSON', '{"InstanceState":'],
  ])('answers 400 to %s and changes nothing', async (_what, body) => {
    const { h, client } = await harness({ bootMs: 60_000 });
    const [id = ''] = await runInstances(client);
    const response = await forceSimState(h.sim, id, body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/\S/);
    expect((await describeOne(client, id))?.InstanceState).toBe('PENDING');
  });

  it('answers 404 for an unknown instance and for one that is gone', async () => {
    const { h, client } = await harness({ bootMs: 1000, reclaimMs: 1000 });
    expect((await forceSimState(h.sim, 'ins-zzzzzzzz', { InstanceState: 'RUNNING' })).status).toBe(404);
    const [id = ''] = await runInstances(client, { InstanceName: MARKERS.launchFail });
    h.clock.advance(2000);
    expect((await forceSimState(h.sim, id, { InstanceState: 'RUNNING' })).status).toBe(404);
  });

  it('forces a state in-process with SimState.forceState (false for an unknown instance)', async () => {
    const { h, client } = await harness();
    const [id = ''] = await runInstances(client);
    expect(h.sim.state.forceState(id, { InstanceState: 'REBOOTING' })).toBe(true);
    expect(await describeOne(client, id)).toMatchObject({
      InstanceState: 'REBOOTING',
      LatestOperation: 'RebootInstances',
      LatestOperationState: 'OPERATING',
    });
    expect(h.sim.state.forceState('ins-zzzzzzzz', { InstanceState: 'RUNNING' })).toBe(false);
  });

  it('lets TerminateInstances end a forced state: TERMINATING, then gone', async () => {
    const { h, client } = await harness({ terminateMs: 1000 });
    const [id = ''] = await runInstances(client);
    h.sim.state.forceState(id, { InstanceState: 'STOPPED' });
    await client.call('TerminateInstances', { InstanceIds: [id] });
    expect((await describeOne(client, id))?.InstanceState).toBe('TERMINATING');
    h.clock.advance(1000);
    expect(await describeOne(client, id)).toBeUndefined();
  });

  it.each([
    ['STOPPED', 2],
    ['LAUNCH_FAILED', 3],
    ['TERMINATING', 3],
  ] as const)(
    'counts a forced %s against the quota as the real state would (room for %s)',
    async (forced, room) => {
      const { h, client } = await harness({ quota: 3 });
      const [id = ''] = await runInstances(client);
      h.sim.state.forceState(id, { InstanceState: forced });
      expect(await codeOf(runInstances(client, { InstanceCount: room + 1 }))).toBe(
        'InstancesQuotaLimitExceeded',
      );
      expect(await codeOf(runInstances(client, { InstanceCount: room }))).toBe('accepted');
    },
  );
});

describe(`hidden for a while (${MARKERS.hidden.source})`, () => {
  it('keeps an instance named sim:hidden-<ms> out of every Describe call and TerminateInstances for <ms>', async () => {
    const { h, client } = await harness({ bootMs: 1000 });
    const [hidden = ''] = await runInstances(client, { InstanceName: 'slow sim:hidden-20000' });
    const [seen = ''] = await runInstances(client);
    h.clock.advance(19_999);
    expect((await describeInstances(client)).InstanceSet.map((i) => i.InstanceId)).toEqual([seen]);
    expect(await describeOne(client, hidden)).toBeUndefined();
    expect((await client.call('DescribeInstancesStatus', { InstanceIds: [hidden] })).TotalCount).toBe(0);
    expect(await codeOf(client.call('TerminateInstances', { InstanceIds: [hidden] }))).toBe(
      'InvalidInstanceId.NotFound',
    );
    h.clock.advance(1);
    expect(await describeOne(client, hidden)).toMatchObject({
      InstanceState: 'RUNNING',
      InstanceName: 'slow sim:hidden-20000',
    });
  });

  it('lists the hidden instance in /_sim/instances with the time Describe will see it', async () => {
    const { h, client } = await harness();
    const [id] = await runInstances(client, { InstanceName: 'sim:hidden-5000' });
    expect(await simInstances(h.sim)).toEqual([
      expect.objectContaining({ InstanceId: id, VisibleTime: new Date(h.clock.now() + 5000).toISOString() }),
    ]);
  });

  it('never shows an instance sooner than the visibility delay would', async () => {
    const { h, client } = await harness({ visibilityDelayMs: 3000 });
    const [id = ''] = await runInstances(client, { InstanceName: 'sim:hidden-1000' });
    h.clock.advance(2999);
    expect(await describeOne(client, id)).toBeUndefined();
    h.clock.advance(1);
    expect((await describeOne(client, id))?.InstanceId).toBe(id);
  });

  it('delays the tags by as much as the instance', async () => {
    const { h, client } = await harness({ tagDelayMs: 1000 });
    const [id = ''] = await runInstances(client, {
      InstanceName: 'sim:hidden-4000',
      TagSpecification: [{ ResourceType: 'instance', Tags: [{ Key: 'job', Value: 'j-1' }] }],
    });
    h.clock.advance(4000);
    expect((await describeOne(client, id))?.Tags).toEqual([]);
    h.clock.advance(1000);
    expect((await describeOne(client, id))?.Tags).toEqual([{ Key: 'job', Value: 'j-1' }]);
  });
});

describe('lifecycle settings', () => {
  it('settles for a second and reclaims failed launches after a minute by default', async () => {
    const sim = await startSimulator({ port: 0, rateLimits: false });
    try {
      expect(sim.state.settings).toMatchObject({ settleMs: 1000, reclaimMs: 60_000 });
      expect(DEFAULT_LIFECYCLE).toEqual({ settleMs: 1000, reclaimMs: 60_000 });
    } finally {
      await sim.close();
    }
  });

  it('reads SIM_SETTLE_MS and SIM_RECLAIM_MS from the environment', () => {
    expect(simulatorOptionsFromEnv({ SIM_SETTLE_MS: '250', SIM_RECLAIM_MS: '7200000' })).toMatchObject({
      settleMs: 250,
      reclaimMs: 7_200_000,
    });
    expect(simulatorOptionsFromEnv({})).toMatchObject(DEFAULT_LIFECYCLE);
    expect(() => simulatorOptionsFromEnv({ SIM_RECLAIM_MS: '-1' })).toThrow(
      'SIM_RECLAIM_MS must be a non-negative number, got "-1"',
    );
  });
});
