import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INSTANCE_STATES, MARKERS, TERMINATE_REFUSALS } from '../../../local/cvm-simulator/index.ts';
import {
  codeOf,
  describeOne,
  type Harness,
  type HarnessClient,
  runInstances,
  startHarness,
} from '../../helpers/simulator.ts';

// Boot 1 s, settle 1 s: an instance is RUNNING at 1 s and its launch done at 2 s.
let h: Harness;
let client: HarnessClient;
beforeEach(async () => {
  h = await startHarness({ bootMs: 1000, settleMs: 1000, terminateMs: 2000 });
  client = h.client();
});
afterEach(() => h.close());

const terminate = (...ids: string[]) => codeOf(client.call('TerminateInstances', { InstanceIds: ids }));

describe('TerminateInstances refuses what the API refuses', () => {
  it('refuses a PENDING instance as UnsupportedOperation.InstanceStatePending', async () => {
    const [id = ''] = await runInstances(client);
    expect(await terminate(id)).toBe('UnsupportedOperation.InstanceStatePending');
  });

  it('refuses a RUNNING instance whose launch is still OPERATING as OperationDenied.InstanceOperationInProgress', async () => {
    const [id = ''] = await runInstances(client);
    h.clock.advance(1999);
    expect(await terminate(id)).toBe('OperationDenied.InstanceOperationInProgress');
    h.clock.advance(1);
    expect(await terminate(id)).toBe('accepted');
  });

  it('refuses a LAUNCH_FAILED instance as UnsupportedOperation.InstanceStateLaunchFailed', async () => {
    const [id = ''] = await runInstances(client, { InstanceName: MARKERS.launchFail });
    h.clock.advance(1000);
    expect(await terminate(id)).toBe('UnsupportedOperation.InstanceStateLaunchFailed');
  });

  it('refuses an instance already TERMINATING as UnsupportedOperation.InstanceStateTerminating', async () => {
    const [id = ''] = await runInstances(client);
    h.clock.advance(2000);
    expect(await terminate(id)).toBe('accepted');
    expect(await terminate(id)).toBe('UnsupportedOperation.InstanceStateTerminating');
  });

  it('refuses an instance created with DisableApiTermination as UnsupportedOperation.InstancesProtected', async () => {
    const [id = ''] = await runInstances(client, { DisableApiTermination: true });
    h.clock.advance(2000);
    expect(await terminate(id)).toBe('UnsupportedOperation.InstancesProtected');
    expect((await describeOne(client, id))?.InstanceState).toBe('RUNNING');
  });

  const refused = Object.entries(TERMINATE_REFUSALS).map(([state, refusal]) => [state, refusal?.code]);
  it.each(refused)('refuses a forced %s as %s', async (state, code) => {
    const [id = ''] = await runInstances(client);
    h.clock.advance(2000);
    const forced = INSTANCE_STATES.find((s) => s === state);
    if (!forced) throw new Error(`${state} is no documented state`);
    h.sim.state.forceState(id, { InstanceState: forced, LatestOperationState: 'SUCCESS' });
    expect(await terminate(id)).toBe(code);
  });

  const allowed = INSTANCE_STATES.filter((state) => TERMINATE_REFUSALS[state] === undefined);
  it.each(allowed)('terminates a forced %s whose latest operation is done', async (state) => {
    const [id = ''] = await runInstances(client);
    h.sim.state.forceState(id, { InstanceState: state, LatestOperationState: 'SUCCESS' });
    expect(await terminate(id)).toBe('accepted');
    expect((await describeOne(client, id))?.InstanceState).toBe('TERMINATING');
  });

  it('refuses a forced state whose latest operation is OPERATING as OperationDenied.InstanceOperationInProgress', async () => {
    const [id = ''] = await runInstances(client);
    h.sim.state.forceState(id, { InstanceState: 'STOPPED', LatestOperationState: 'OPERATING' });
    expect(await terminate(id)).toBe('OperationDenied.InstanceOperationInProgress');
  });

  it('refuses the whole call when one instance is refused, and terminates none of them', async () => {
    const [done = ''] = await runInstances(client);
    h.clock.advance(2000);
    const [pending = ''] = await runInstances(client);
    expect(await terminate(done, pending)).toBe('UnsupportedOperation.InstanceStatePending');
    expect((await describeOne(client, done))?.InstanceState).toBe('RUNNING');
  });

  it('answers InvalidInstanceId.NotFound before any state refusal', async () => {
    const [pending = ''] = await runInstances(client);
    expect(await terminate(pending, 'ins-zzzzzzzz')).toBe('InvalidInstanceId.NotFound');
  });

  it("shows the TerminateInstances RequestId as the instance's LatestOperationRequestId", async () => {
    const [id = ''] = await runInstances(client);
    h.clock.advance(2000);
    const launch = (await describeOne(client, id))?.LatestOperationRequestId;
    const { RequestId } = await client.call('TerminateInstances', { InstanceIds: [id] });
    const terminating = await describeOne(client, id);
    expect(terminating?.LatestOperationRequestId).toBe(RequestId);
    expect(terminating?.LatestOperationRequestId).not.toBe(launch);
  });

  it('accepts ReleaseAddress and ReleasePrepaidDataDisks', async () => {
    const [id] = await runInstances(client);
    h.clock.advance(2000);
    expect(
      await codeOf(
        client.call('TerminateInstances', {
          InstanceIds: [id],
          ReleaseAddress: true,
          ReleasePrepaidDataDisks: false,
        }),
      ),
    ).toBe('accepted');
  });
});
