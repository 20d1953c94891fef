import { describe, expect, it } from 'vitest';
import { formatReport, runChaos } from '../helpers/chaos.ts';

/**
 * The whole pipeline under faults (test/helpers/chaos.ts says what is done to it): 120 jobs of every kind, the
 * simulator failing, throttling, holding and losing answers under each ClientToken mode, the submitter killed
 * after a commit, duplicate messages, overlapping polls, a webhook receiver down and then failing. Every
 * invariant must hold, and every fault must have struck: a run in which nothing went wrong proves nothing.
 */
describe('the pipeline under faults', () => {
  it('keeps every invariant with 120 jobs', async () => {
    const report = await runChaos({ jobs: 120, settleTimeoutMs: 150_000 });
    const summary = formatReport(report);
    for (const invariant of report.invariants) {
      expect(invariant.violations, `${invariant.name}\n\n${summary}`).toEqual([]);
      // What the functions left in the dead-letter queue: nothing, normally (its function consumes it).
      if (!invariant.name.startsWith('nothing left in the dead-letter queue'))
        expect(invariant.checked, invariant.name).toBeGreaterThan(0);
    }
    // What was done to it happened.
    for (const fault of [
      'RunInstances InternalError before',
      'RunInstances InternalError after',
      'RunInstances http502 before',
      'RunInstances http502 after',
      'RunInstances timeout before',
      'RunInstances timeout after',
      'RunInstances RequestLimitExceeded before',
      'RunInstances dropAfterCommit after',
    ])
      expect(report.struck[fault] ?? 0, `${fault}\n\n${summary}`).toBeGreaterThan(0);
    for (const mode of ['honoured', 'expiring', 'ignored'] as const)
      expect(report.runInstancesByTokenMode[mode], `RunInstances under ${mode}`).toBeGreaterThan(0);
    expect(report.crashes, summary).toBeGreaterThanOrEqual(2);
    expect(report.duplicateMessages).toBeGreaterThan(0);
    expect(report.deadLettered, summary).toBeGreaterThan(0);
    expect(report.maxConcurrentPolls, summary).toBeGreaterThanOrEqual(2);
    expect(report.receiver.refusedWhileDown, summary).toBeGreaterThan(0);
    expect(report.receiver.answered5xx, summary).toBeGreaterThan(0);
    for (const status of ['SUCCEEDED', 'CANCELLED', 'FAILED'])
      expect(report.statuses[status] ?? 0, `${status}\n\n${summary}`).toBeGreaterThan(0);
    console.log(summary);
  }, 360_000);
});
