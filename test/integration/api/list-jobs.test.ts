import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../../lib/api/deps.ts';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { cancelJobForCaller, listJobsOfCaller } from '../../../lib/api/jobs.ts';
import { ROUTES } from '../../../lib/api/router.ts';
import { InvalidRequestError } from '../../../lib/errors.ts';
import type { HttpEvent } from '../../../lib/http/types.ts';
import { acceptJob } from '../../../lib/jobs/accept.ts';
import { type ApiEmulators, emulatorApi, startApiEmulators } from '../../helpers/emulators.ts';
import { getJobEvent, invoke, problemOf, TOKENS } from '../../helpers/events.ts';
import { plainRequest } from '../../helpers/submit.ts';

let env: ApiEmulators;
let deps: ApiDeps;
let advance: (ms: number) => void;
const commands: string[] = [];
const alice: string[] = [];
const created: string[] = [];

beforeAll(async () => {
  env = await startApiEmulators('list-jobs');
  const api = emulatorApi(env);
  const ddb = api.deps.ddb;
  deps = {
    ...api.deps,
    ddb: {
      send: ((command: { constructor: { name: string } }) => {
        commands.push(command.constructor.name);
        return ddb.send(command as never);
      }) as typeof ddb.send,
    } as typeof ddb,
  };
  advance = api.clock.advance;
  // 45 jobs of alice's a minute apart, 5 of bob's among them.
  for (let i = 0; i < 50; i++) {
    const caller = i % 10 === 9 ? 'bob' : 'alice';
    const { job } = await acceptJob(deps, { caller, request: plainRequest() });
    if (caller === 'alice') alice.push(job.jobId);
    created.push(job.createdAt);
    advance(60_000);
  }
}, 60_000);
afterAll(() => env.stop());

describe('listing the caller’s jobs', () => {
  it('pages through every one of them, newest first, through the caller index (Query, never Scan)', async () => {
    commands.length = 0;
    const seen: string[] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    do {
      const page = await listJobsOfCaller(deps, 'alice', { limit: '20', ...(cursor ? { cursor } : {}) });
      sizes.push(page.jobs.length);
      seen.push(...page.jobs.map((job) => job.jobId));
      for (const job of page.jobs) expect(job.requestedBy).toBe('alice');
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...alice].reverse());
    expect(sizes.slice(0, 2)).toEqual([20, 20]);
    expect(commands.every((name) => name === 'QueryCommand')).toBe(true);
  });

  it('never shows another caller’s jobs', async () => {
    const page = await listJobsOfCaller(deps, 'bob', { limit: '100' });
    expect(page.jobs).toHaveLength(5);
    expect(page.jobs.every((job) => job.requestedBy === 'bob')).toBe(true);
    expect(page.next).toBeNull();
  });

  it('filters by status (one or more) and by creation time', async () => {
    const [first, second] = alice;
    await cancelJobForCaller(deps, 'alice', first ?? '');
    await cancelJobForCaller(deps, 'alice', second ?? '');
    const cancelled = await listJobsOfCaller(deps, 'alice', { status: 'CANCELLED' });
    expect(cancelled.jobs.map((job) => job.jobId).sort()).toEqual([first, second].sort());
    const both = await listJobsOfCaller(deps, 'alice', { status: 'QUEUED,CANCELLED', limit: '100' });
    expect(both.jobs).toHaveLength(45);
    const window = await listJobsOfCaller(deps, 'alice', {
      createdAfter: created[10] ?? '',
      createdBefore: created[19] ?? '',
      limit: '100',
    });
    // Jobs 10…19 of the 50, less bob's nineteenth.
    expect(window.jobs).toHaveLength(9);
  });

  it('refuses a cursor that was altered, or given out to another caller', async () => {
    const page = await listJobsOfCaller(deps, 'alice', { limit: '5' });
    const cursor = page.next ?? '';
    const [payload = '', mac = ''] = cursor.split('.');
    const altered = `${Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), byCaller: 'bob' }),
    ).toString('base64url')}.${mac}`;
    for (const bad of [altered, `${payload}.${'A'.repeat(43)}`, 'not-a-cursor', `${cursor}.x`])
      await expect(listJobsOfCaller(deps, 'alice', { cursor: bad })).rejects.toBeInstanceOf(
        InvalidRequestError,
      );
    await expect(listJobsOfCaller(deps, 'bob', { cursor })).rejects.toBeInstanceOf(InvalidRequestError);
  });

  it('refuses a signature spelt another way that decodes to the same bytes (padding, stray characters, spare bits)', async () => {
    const page = await listJobsOfCaller(deps, 'alice', { limit: '5' });
    const cursor = page.next ?? '';
    const [payload = '', mac = ''] = cursor.split('.');
    // 32 bytes in base64url: 43 characters, the last carrying 2 spare bits that decoding ignores.
    const last = mac.at(-1) ?? 'A';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const spare = alphabet[alphabet.indexOf(last) ^ 1] ?? 'A';
    expect(Buffer.from(`${mac.slice(0, -1)}${spare}`, 'base64url')).toEqual(Buffer.from(mac, 'base64url'));
    for (const bad of [
      `${mac}=`,
      `!${mac}`,
      `${mac.slice(0, 10)} ${mac.slice(10)}`,
      `${mac.slice(0, -1)}${spare}`,
    ])
      await expect(listJobsOfCaller(deps, 'alice', { cursor: `${payload}.${bad}` })).rejects.toBeInstanceOf(
        InvalidRequestError,
      );
    expect((await listJobsOfCaller(deps, 'alice', { cursor })).jobs.length).toBeGreaterThan(0);
  });

  it('answers GET /v1/jobs with 200 { jobs, next }, and 400 listing every bad parameter', async () => {
    const handler = createApiHandler(deps);
    const listEvent = (query: Record<string, string>): HttpEvent => {
      const event = getJobEvent('x', { bearer: TOKENS.alice.token });
      const { pathParameters: _p, ...rest } = event;
      return {
        ...rest,
        routeKey: ROUTES.listJobs,
        rawPath: '/v1/jobs',
        rawQueryString: new URLSearchParams(query).toString(),
        queryStringParameters: query,
        requestContext: { ...event.requestContext, routeKey: ROUTES.listJobs },
      };
    };
    const ok = await invoke(handler, listEvent({ limit: '3' }));
    expect(ok.statusCode).toBe(200);
    const body = JSON.parse(ok.body) as { jobs: unknown[]; next: string | null };
    expect(body.jobs).toHaveLength(3);
    expect(body.next).toEqual(expect.any(String));
    const bad = await invoke(handler, listEvent({ limit: '500', status: 'DONE', createdAfter: 'yesterday' }));
    expect(bad.statusCode).toBe(400);
    expect(
      problemOf(bad)
        .errors.map((e) => e.param)
        .sort(),
    ).toEqual(['createdAfter', 'limit', 'status']);
  });
});
