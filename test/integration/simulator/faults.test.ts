import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIGN_METHODS } from '../../../lib/tencent/client.ts';
import { staticCredentials } from '../../../lib/tencent/credentials.ts';
import {
  addFault,
  BASE_RUN,
  describeInstances,
  type Harness,
  type HarnessClient,
  listFaults,
  runInstances,
  simInstances,
  startHarness,
} from '../../helpers/simulator.ts';

let h: Harness;
let client: HarnessClient;
beforeEach(async () => {
  h = await startHarness();
  client = h.client({ timeoutMs: 2000 });
});
afterEach(() => h.close());

async function inject(fault: Record<string, unknown>): Promise<void> {
  const response = await addFault(h.sim, fault);
  expect(response.status).toBe(201);
}

describe('fault modes', () => {
  it('answers InternalError as a Response.Error with that code', async () => {
    await inject({ action: 'RunInstances', mode: 'InternalError', count: 1 });
    await expect(client.call('RunInstances', { ...BASE_RUN })).rejects.toMatchObject({
      name: 'TencentApiError',
      code: 'InternalError',
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it('answers RequestLimitExceeded as a Response.Error with that code', async () => {
    await inject({ action: 'DescribeInstances', mode: 'RequestLimitExceeded', count: 1 });
    await expect(client.call('DescribeInstances')).rejects.toMatchObject({
      name: 'TencentApiError',
      code: 'RequestLimitExceeded',
    });
  });

  it('creates nothing when RunInstances is answered with an injected error', async () => {
    await inject({ action: 'RunInstances', mode: 'InternalError', count: 1 });
    await expect(client.call('RunInstances', { ...BASE_RUN })).rejects.toMatchObject({
      code: 'InternalError',
    });
    expect(await simInstances(h.sim)).toEqual([]);
  });

  it('answers http502 with HTTP 502, which our client reports as an unknown outcome', async () => {
    await inject({ action: 'RunInstances', mode: 'http502', count: 1 });
    await expect(client.call('RunInstances', { ...BASE_RUN })).rejects.toMatchObject({
      name: 'UnknownOutcomeError',
      code: 'HttpStatus',
      httpStatus: 502,
    });
  });

  it('holds a timeout fault until our client gives up with RequestTimeout', async () => {
    await inject({ action: 'DescribeInstances', mode: 'timeout', count: 1 });
    const impatient = h.client({ timeoutMs: 200 });
    await expect(impatient.call('DescribeInstances')).rejects.toMatchObject({
      name: 'UnknownOutcomeError',
      code: 'RequestTimeout',
    });
  });

  it('answers normally once the held timeout call is given up', async () => {
    await inject({ action: 'DescribeInstances', mode: 'timeout', count: 1 });
    const impatient = h.client({ timeoutMs: 200 });
    await expect(impatient.call('DescribeInstances')).rejects.toMatchObject({ code: 'RequestTimeout' });
    expect((await impatient.call('DescribeInstances')).TotalCount).toBe(0);
  });

  it.each(SIGN_METHODS)(
    'drops the connection after committing a %s RunInstances, which our client reports as ConnectionError',
    async (signMethod) => {
      await inject({ action: 'RunInstances', mode: 'dropAfterCommit', count: 1 });
      await expect(
        h
          .client({ signMethod })
          .call('RunInstances', { ...BASE_RUN, InstanceCount: 2, ClientToken: 'dropped' }),
      ).rejects.toMatchObject({ name: 'UnknownOutcomeError', code: 'ConnectionError' });
    },
  );

  it('keeps the instances of a dropped RunInstances in /_sim/instances', async () => {
    await inject({ action: 'RunInstances', mode: 'dropAfterCommit', count: 1 });
    await expect(
      client.call('RunInstances', { ...BASE_RUN, InstanceCount: 2, ClientToken: 'dropped-kept' }),
    ).rejects.toMatchObject({ code: 'ConnectionError' });
    const listed = await simInstances(h.sim);
    expect(listed).toHaveLength(2);
    expect(listed.every((i) => i.ClientToken === 'dropped-kept')).toBe(true);
  });

  it('returns the dropped call’s instances to a retry with the same ClientToken', async () => {
    await inject({ action: 'RunInstances', mode: 'dropAfterCommit', count: 1 });
    const request = { ...BASE_RUN, InstanceCount: 2, ClientToken: 'dropped-retry' };
    await expect(client.call('RunInstances', request)).rejects.toMatchObject({ code: 'ConnectionError' });
    const committed = (await simInstances(h.sim)).map((i) => i.InstanceId);
    expect(await runInstances(client, request)).toEqual(committed);
    expect(await simInstances(h.sim)).toHaveLength(2);
  });
});

describe('fault selection', () => {
  it('stops a count fault after count matching calls', async () => {
    await inject({ action: 'DescribeInstances', mode: 'InternalError', count: 2 });
    await expect(client.call('DescribeInstances')).rejects.toMatchObject({ code: 'InternalError' });
    await expect(client.call('DescribeInstances')).rejects.toMatchObject({ code: 'InternalError' });
    expect((await client.call('DescribeInstances')).TotalCount).toBe(0);
    expect(await listFaults(h.sim)).toEqual([]);
  });

  it('never fires a fault with rate 0', async () => {
    await inject({ action: 'DescribeInstances', mode: 'InternalError', rate: 0 });
    for (let i = 0; i < 30; i++) expect((await describeInstances(client)).TotalCount).toBe(0);
  });

  it('fires a fault with rate 1 on every matching call and keeps it', async () => {
    await inject({ action: 'DescribeInstances', mode: 'InternalError', rate: 1 });
    for (let i = 0; i < 3; i++) {
      await expect(client.call('DescribeInstances')).rejects.toMatchObject({ code: 'InternalError' });
    }
    expect(await listFaults(h.sim)).toEqual([
      { action: 'DescribeInstances', mode: 'InternalError', rate: 1 },
    ]);
  });

  it('fires a rate fault on the share of calls the injected random() puts under the rate', async () => {
    const draws = [0.1, 0.9, 0.2, 0.8];
    let next = 0;
    const seeded = await startHarness({ random: () => draws[next++ % draws.length] ?? 0 });
    try {
      await addFault(seeded.sim, { action: 'DescribeInstances', mode: 'InternalError', rate: 0.5 });
      const c = seeded.client();
      const outcomes: string[] = [];
      for (let i = 0; i < 4; i++) {
        outcomes.push(
          await c.call('DescribeInstances').then(
            () => 'ok',
            (e: { code: string }) => e.code,
          ),
        );
      }
      expect(outcomes).toEqual(['InternalError', 'ok', 'InternalError', 'ok']);
    } finally {
      await seeded.close();
    }
  });

  it('leaves other actions alone', async () => {
    await inject({ action: 'RunInstances', mode: 'InternalError', rate: 1 });
    expect((await describeInstances(client)).TotalCount).toBe(0);
  });

  it('applies a * fault to every action', async () => {
    await inject({ action: '*', mode: 'InternalError', count: 2 });
    await expect(client.call('DescribeInstances')).rejects.toMatchObject({ code: 'InternalError' });
    await expect(client.call('RunInstances', { ...BASE_RUN })).rejects.toMatchObject({
      code: 'InternalError',
    });
  });

  it('does not spend a count fault on a request that fails authentication', async () => {
    await inject({ action: 'DescribeInstances', mode: 'InternalError', count: 1 });
    const wrong = h.client({ credentials: staticCredentials('AKIDnobody0000000000000000000000000', 'x') });
    await expect(wrong.call('DescribeInstances')).rejects.toMatchObject({
      code: 'AuthFailure.SecretIdNotFound',
    });
    await expect(client.call('DescribeInstances')).rejects.toMatchObject({ code: 'InternalError' });
  });
});

describe('the /_sim/faults endpoint', () => {
  it('lists the faults it holds', async () => {
    await inject({ action: 'RunInstances', mode: 'http502', count: 3 });
    await inject({ action: '*', mode: 'timeout', rate: 0.25 });
    expect(await listFaults(h.sim)).toEqual([
      { action: 'RunInstances', mode: 'http502', count: 3 },
      { action: '*', mode: 'timeout', rate: 0.25 },
    ]);
  });

  it('clears every fault on DELETE', async () => {
    await inject({ action: 'DescribeInstances', mode: 'InternalError', rate: 1 });
    const response = await fetch(`${h.sim.url}/_sim/faults`, { method: 'DELETE' });
    expect(response.status).toBe(200);
    expect(await listFaults(h.sim)).toEqual([]);
    expect((await describeInstances(client)).TotalCount).toBe(0);
  });

  it.each([
    ['a body that is not JSON', '{mode:'],
    ['a JSON array', '[]'],
    ['no action', { mode: 'InternalError', count: 1 }],
    ['an unknown mode', { action: 'RunInstances', mode: 'explode', count: 1 }],
    ['both rate and count', { action: 'RunInstances', mode: 'InternalError', rate: 1, count: 1 }],
    ['neither rate nor count', { action: 'RunInstances', mode: 'InternalError' }],
    ['a rate above 1', { action: 'RunInstances', mode: 'InternalError', rate: 1.5 }],
    ['a negative rate', { action: 'RunInstances', mode: 'InternalError', rate: -0.1 }],
    ['a count of 0', { action: 'RunInstances', mode: 'InternalError', count: 0 }],
    ['a fractional count', { action: 'RunInstances', mode: 'InternalError', count: 1.5 }],
    ['an unknown when', { action: 'RunInstances', mode: 'http502', count: 1, when: 'during' }],
    [
      'throttling after the action',
      { action: 'RunInstances', mode: 'RequestLimitExceeded', count: 1, when: 'after' },
    ],
    ['mode error without a code', { action: 'RunInstances', mode: 'error', count: 1 }],
    [
      'mode error with a malformed code',
      { action: 'RunInstances', mode: 'error', code: 'no spaces', count: 1 },
    ],
    ['a code for another mode', { action: 'RunInstances', mode: 'http502', code: 'InternalError', count: 1 }],
    [
      'a message that is not text',
      { action: 'RunInstances', mode: 'error', code: 'X', message: 1, count: 1 },
    ],
  ])('refuses a fault with %s as HTTP 400', async (_what, fault) => {
    const response = await addFault(h.sim, fault);
    expect(response.status).toBe(400);
    expect(await listFaults(h.sim)).toEqual([]);
  });
});

describe('faults that strike after the action took effect', () => {
  it.each([
    ['http502', { name: 'UnknownOutcomeError', code: 'HttpStatus' }],
    ['InternalError', { name: 'TencentApiError', code: 'InternalError' }],
    ['timeout', { name: 'UnknownOutcomeError', code: 'RequestTimeout' }],
  ] as const)('creates the instances, then answers %s', async (mode, answer) => {
    await inject({ action: 'RunInstances', mode, count: 1, when: 'after' });
    const impatient = h.client({ timeoutMs: 300 });
    await expect(
      impatient.call('RunInstances', { ...BASE_RUN, ClientToken: `after-${mode}` }),
    ).rejects.toMatchObject(answer);
    const listed = await simInstances(h.sim);
    expect(listed).toHaveLength(1);
    // The retry with the same token finds what the lost call created.
    const retried = await impatient.call('RunInstances', { ...BASE_RUN, ClientToken: `after-${mode}` });
    expect(retried.InstanceIdSet).toEqual(listed.map((i) => i.InstanceId));
  });

  it('creates nothing when the same fault strikes before (the default)', async () => {
    await inject({ action: 'RunInstances', mode: 'http502', count: 1, when: 'before' });
    await expect(client.call('RunInstances', { ...BASE_RUN })).rejects.toMatchObject({ code: 'HttpStatus' });
    expect(await simInstances(h.sim)).toEqual([]);
  });

  it('answers an error fault after the action with its code, having created the instances', async () => {
    await inject({
      action: 'RunInstances',
      mode: 'error',
      code: 'InternalError.TradeUnknownError',
      count: 1,
      when: 'after',
    });
    await expect(client.call('RunInstances', { ...BASE_RUN })).rejects.toMatchObject({
      code: 'InternalError.TradeUnknownError',
      errorClass: 'unknown',
    });
    expect(await simInstances(h.sim)).toHaveLength(1);
  });
});

describe('the error mode', () => {
  it.each([
    ['ResourceInsufficient.SpecifiedInstanceType', 'capacity'],
    ['ResourcesSoldOut.SpecifiedInstanceType', 'capacity'],
    ['InvalidAccount.InsufficientBalance', 'quota'],
    ['LimitExceeded.InstanceQuota', 'quota'],
    ['RequestLimitExceeded.UinLimitExceeded', 'transient'],
    ['InternalError.TradeUnknownError', 'unknown'],
  ])('answers %s with its code and message, creating nothing', async (code, errorClass) => {
    await inject({ action: 'RunInstances', mode: 'error', code, message: `no: ${code}`, count: 1 });
    await expect(client.call('RunInstances', { ...BASE_RUN })).rejects.toMatchObject({
      name: 'TencentApiError',
      code,
      errorClass,
      message: expect.stringContaining(`no: ${code}`),
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(await simInstances(h.sim)).toEqual([]);
  });

  it('lists an error fault with its code and when', async () => {
    await inject({
      action: 'RunInstances',
      mode: 'error',
      code: 'ResourcesSoldOut.SpecifiedInstanceType',
      count: 2,
    });
    await inject({ action: 'RunInstances', mode: 'timeout', when: 'after', rate: 0.1 });
    expect(await listFaults(h.sim)).toEqual([
      { action: 'RunInstances', mode: 'error', code: 'ResourcesSoldOut.SpecifiedInstanceType', count: 2 },
      { action: 'RunInstances', mode: 'timeout', when: 'after', rate: 0.1 },
    ]);
  });
});
