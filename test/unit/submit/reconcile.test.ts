import { describe, expect, it } from 'vitest';
import type { SubmitDeps } from '../../../lib/submit/deps.ts';
import { reconcile } from '../../../lib/submit/reconcile.ts';
import { jobIn } from '../../helpers/jobs.ts';
import { captureLogs } from '../../helpers/logs.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');
/** A Lambda's worth of time left. */
const DELIVERY = { remainingMs: () => 90_000 };

/** Deps whose Tencent client answers DescribeInstances from a list of instance ids, page by page. */
function describing(ids: string[], window = 10_000) {
  const offsets: number[] = [];
  const logs = captureLogs('submit');
  const deps = {
    now: () => NOW,
    tagVisibilityWindowMs: window,
    logger: logs.logger,
    tencent: {
      call: async (_action: string, params: Record<string, unknown>) => {
        const offset = Number(params.Offset);
        const limit = Number(params.Limit);
        offsets.push(offset);
        return {
          TotalCount: ids.length,
          InstanceSet: ids.slice(offset, offset + limit).map((InstanceId) => ({ InstanceId })),
        };
      },
    },
  } as unknown as SubmitDeps;
  return { deps, offsets, logs };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `ins-${String(i).padStart(8, '0')}`);

describe('reconcile', () => {
  it('reads every page of a job with more instances than one page holds', async () => {
    const { deps, offsets } = describing(ids(250));
    const job = jobIn('SUBMITTING', { request: { ...jobIn('SUBMITTING').request, InstanceCount: 250 } });
    const result = await reconcile(deps, job, new Date(NOW - 60_000).toISOString(), DELIVERY);
    expect(offsets).toEqual([0, 100, 200]);
    expect(result).toMatchObject({ found: ids(250), complete: true, trusted: true });
  });

  it('trusts "none found" only once the window after reconcileAfter has passed', async () => {
    const { deps } = describing([]);
    const job = jobIn('SUBMITTING');
    expect(await reconcile(deps, job, new Date(NOW - 9_999).toISOString(), DELIVERY)).toMatchObject({
      found: [],
      trusted: false,
      complete: false,
      trustedAt: NOW + 1,
    });
    expect(await reconcile(deps, job, new Date(NOW - 10_000).toISOString(), DELIVERY)).toMatchObject({
      trusted: true,
      complete: true,
    });
  });

  it('counts a part as complete only after the window, and then says the number is wrong', async () => {
    const job = jobIn('SUBMITTING'); // InstanceCount 2
    const early = describing(ids(1));
    expect(await reconcile(early.deps, job, new Date(NOW - 1000).toISOString(), DELIVERY)).toMatchObject({
      complete: false,
    });
    expect(early.logs.lines).toEqual([]);
    const late = describing(ids(1));
    expect(await reconcile(late.deps, job, new Date(NOW - 10_000).toISOString(), DELIVERY)).toMatchObject({
      complete: true,
    });
    expect(late.logs.records()).toEqual([
      expect.objectContaining({ level: 'error', jobId: job.jobId, wanted: 2, found: 1 }),
    ]);
  });
});
