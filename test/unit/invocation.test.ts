import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { instrument } from '../../lib/invocation.ts';
import { createLogger } from '../../lib/log.ts';
import { createMetrics } from '../../lib/metrics.ts';
import { lambdaContext } from '../helpers/events.ts';

/** A function's logger and metrics on one sink, as its container's stdout would carry them. */
function observed() {
  const lines: string[] = [];
  const sink = (line: string) => lines.push(line);
  const observability = {
    logger: createLogger({ sink, base: { service: 'api' } }),
    metrics: createMetrics({ service: 'api', sink }),
  };
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { observability, records };
}

const context = (awsRequestId: string): Context => ({
  ...lambdaContext('cvm-provisioner-dev-api', 25_000),
  awsRequestId,
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('an instrumented handler', () => {
  it('logs with the invocation’s context and publishes its metrics when it returns', async () => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    const { observability, records } = observed();
    const handler = instrument(observability, async (event: { n: number }) => {
      observability.logger.info('handled', { n: event.n });
      observability.metrics.count('JobsAccepted');
      return event.n * 2;
    });
    expect(await handler({ n: 1 }, context('req-1'))).toBe(2);
    expect(await handler({ n: 2 }, context('req-2'))).toBe(4);
    const [first, firstMetrics, second, secondMetrics] = records();
    expect(first).toMatchObject({ message: 'handled', function_request_id: 'req-1', cold_start: true });
    expect(firstMetrics).toMatchObject({ service: 'api', JobsAccepted: 1 });
    expect(second).toMatchObject({ function_request_id: 'req-2', cold_start: false });
    expect(secondMetrics).toMatchObject({ JobsAccepted: 1 });
  });

  it('publishes the metrics of an invocation that throws, and rethrows', async () => {
    const { observability, records } = observed();
    const handler = instrument(observability, async () => {
      observability.metrics.count('JobsRejected', { code: 'InternalError' });
      throw new Error('boom');
    });
    await expect(handler({}, context('req-1'))).rejects.toThrow('boom');
    expect(records()).toEqual([expect.objectContaining({ JobsRejected: 1, code: 'InternalError' })]);
  });
});
