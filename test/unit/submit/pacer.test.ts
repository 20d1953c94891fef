import { describe, expect, it } from 'vitest';
import { createPacer, pacersByKey } from '../../../lib/submit/pacer.ts';

/** A pacer on a hand-moved clock whose sleeps move the clock. */
function pacedAt(ratePerSecond: number) {
  let now = 1_000_000;
  const sleeps: number[] = [];
  const pacer = createPacer({
    ratePerSecond,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  });
  return { pacer, sleeps, at: () => now, advance: (ms: number) => (now += ms) };
}

describe('createPacer', () => {
  it('spaces calls 1/rate apart, the first one interval after the pacer was made', async () => {
    const p = pacedAt(5);
    const made = p.at();
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      await p.pacer.take();
      times.push(p.at() - made);
    }
    // A new container's pacer waits one slot: the container it replaces may have just called.
    expect(times).toEqual([200, 400, 600, 800, 1000, 1200]);
  });

  it('saves no slots while idle: after a pause the next calls are spaced again, not bunched', async () => {
    const p = pacedAt(4);
    await p.pacer.take();
    p.advance(10_000);
    const start = p.at();
    await p.pacer.take();
    await p.pacer.take();
    expect(p.at() - start).toBe(250);
  });

  it('gives concurrent callers distinct slots, at most `rate` of them in any second', async () => {
    const slots: number[] = [];
    // The clock stands still: each caller's slot is when its sleep would end.
    const pacer = createPacer({ ratePerSecond: 10, now: () => 0, sleep: async (ms) => void slots.push(ms) });
    await Promise.all(Array.from({ length: 25 }, () => pacer.take()));
    slots.sort((a, b) => a - b);
    expect(new Set(slots).size).toBe(25);
    for (let i = 0; i + 10 < slots.length; i++)
      expect((slots[i + 10] ?? 0) - (slots[i] ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('refuses, without waiting or spending the slot, a call whose slot would come after its deadline', async () => {
    const p = pacedAt(1);
    await p.pacer.take();
    p.sleeps.length = 0;
    expect(await p.pacer.take(p.at() + 500)).toBe(false);
    expect(p.sleeps).toEqual([]);
    expect(await p.pacer.take(p.at() + 1000)).toBe(true);
    expect(p.sleeps).toEqual([1000]);
  });
});

describe('pacersByKey', () => {
  it('keeps one pacer per key, so regions do not share a limit', () => {
    let made = 0;
    const pacerFor = pacersByKey(() => {
      made++;
      return createPacer({ ratePerSecond: 1 });
    });
    expect(pacerFor('ap-guangzhou')).toBe(pacerFor('ap-guangzhou'));
    expect(pacerFor('ap-shanghai')).not.toBe(pacerFor('ap-guangzhou'));
    expect(made).toBe(2);
  });
});
