import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { createApiDeps, createChatDeps } from '../../lib/deps/http.ts';
import { createDeadLetterDeps, createScheduledDeps, createSubmitDeps } from '../../lib/deps.ts';
import type { Observability } from '../../lib/invocation.ts';

const config = () =>
  loadConfig({
    JOBS_TABLE: 'cvm-provisioner-test-jobs',
    SUBMIT_QUEUE_URL: 'http://127.0.0.1:9/000000000000/submit',
    SUBMIT_DLQ_URL: 'http://127.0.0.1:9/000000000000/submit-dlq',
    TENCENTCLOUD_SECRET_ID: 'AKIDtest',
    TENCENTCLOUD_SECRET_KEY: 'test-key',
    AUTH_MODE: 'iam',
  });

/** What a function's logger and metrics write to stdout for one line and one metric. */
function written(observability: Observability): Array<Record<string, unknown>> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    observability.logger.info('hello');
    observability.metrics.count('JobsAccepted');
    observability.metrics.flush();
  } finally {
    spy.mockRestore();
  }
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the composition root’s observability', () => {
  it.each([
    ['api', () => createApiDeps(config())],
    ['chatops', () => createChatDeps(config())],
    ['submit', () => createSubmitDeps(config())],
    ['deadLetter', () => createDeadLetterDeps(config())],
    ['poll', () => createScheduledDeps(config())],
  ] as const)('names the %s function as the service of its log lines and metrics', (service, create) => {
    const deps = create();
    expect(deps.logger).toBe(deps.observability.logger);
    expect(deps.metrics).toBe(deps.observability.metrics);
    const [line, metrics] = written(deps.observability);
    expect(line).toMatchObject({ service, message: 'hello' });
    expect(metrics).toMatchObject({ service, JobsAccepted: 1 });
  });

  it('measures the queue age on the submit queue only', () => {
    expect(createSubmitDeps(config()).queueAgeMetric).toBe('SubmitQueueAge');
    expect(createDeadLetterDeps(config()).queueAgeMetric).toBeUndefined();
  });
});
