import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listJobEventsForCaller, redeliverEventForCaller } from '../../../lib/api/events.ts';
import { createApiHandler } from '../../../lib/api/handler.ts';
import { ROUTES } from '../../../lib/api/router.ts';
import { InvalidRequestError, NotFoundError } from '../../../lib/errors.ts';
import type { HttpEvent } from '../../../lib/http/types.ts';
import { finishJob } from '../../../lib/jobs/lifecycle.ts';
import type { ChatOrigin, Job } from '../../../lib/jobs/model.ts';
import { eventId } from '../../../lib/jobs/outbox.ts';
import { deliverDueEvents } from '../../../lib/notify/notifier.ts';
import { submitJob } from '../../../lib/submit/submit-job.ts';
import { type ApiEmulators, type ApiStack, emulatorApi, startApiEmulators } from '../../helpers/emulators.ts';
import { type EventOptions, getJobEvent, invoke, problemOf, TOKENS } from '../../helpers/events.ts';
import type { ReceivedRequest, Reply } from '../../helpers/loopback-server.ts';
import {
  type PollRig,
  remaining,
  startPollRig,
  TEST_SCHEDULE_MS,
  TEST_WEBHOOK_SECRET,
} from '../../helpers/poll.ts';
import { delivery } from '../../helpers/submit.ts';

let env: ApiEmulators;
beforeAll(async () => {
  env = await startApiEmulators('events');
});
afterAll(() => env.stop());

let rig: PollRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});
/** A poll rig (default target: its loopback receiver at /hooks) on a table of its own; the stack for the API. */
async function start(reply?: Reply): Promise<{ r: PollRig; stack: ApiStack }> {
  const stack = await env.provision(`events-${randomUUID().slice(0, 8)}`);
  rig = await startPollRig(stack, { sim: { bootMs: 0 }, ...(reply ? { reply } : {}) });
  return { r: rig, stack };
}

/** Answers with each status in turn, then the last one for good. */
const answering =
  (...statuses: number[]): Reply =>
  (_request, res) => {
    const status = statuses.length > 1 ? (statuses.shift() as number) : (statuses[0] as number);
    res.writeHead(status).end();
  };

const hooks = (r: PollRig) => r.receiver.received.filter((request) => request.url === '/hooks');
const idOf = (request: ReceivedRequest | undefined) => String(request?.headers['webhook-id']);
const isoNow = (r: PollRig) => new Date(r.h.clock.now()).toISOString();
const submittedId = (job: Job) => eventId(job.jobId, 'job.submitted');

/** A chat origin whose response_url is the rig's receiver at /response. */
const chatOrigin = (r: PollRig): ChatOrigin => ({
  platform: 'slack',
  teamId: 'T0TEAM001',
  channelId: 'C0OPS0001',
  userId: 'U0ALICE01',
  responseUrl: `${r.receiver.url}/response`,
  receivedAt: isoNow(r),
});

describe('listing a job’s events', () => {
  it('lists every attempt of a delivery: the failed one with its status, then the delivered one', async () => {
    const { r } = await start(answering(500, 200));
    const job = await r.submitted();
    const first = isoNow(r);
    await deliverDueEvents(r.run, remaining());
    r.h.clock.advance(TEST_SCHEDULE_MS[0] ?? 0);
    const second = isoNow(r);
    await deliverDueEvents(r.run, remaining());
    const stored = await r.job(job.jobId);
    expect(await listJobEventsForCaller(r.deps, 'alice', job.jobId)).toEqual({
      events: [
        {
          id: submittedId(job),
          type: 'job.submitted',
          createdAt: stored.events[submittedId(job)]?.createdAt,
          deliveries: [
            {
              target: 'default',
              state: 'DELIVERED',
              attempts: [
                { at: first, status: 500 },
                { at: second, status: 200 },
              ],
              nextAttemptAt: null,
            },
          ],
        },
      ],
    });
  });

  it('lists events oldest first and deliveries by target name, without the snapshot', async () => {
    const { r } = await start();
    const submitted = await r.submitted(undefined, { webhookUrl: 'https://hooks.example.com/cvm' });
    r.h.clock.advance(1000);
    await finishJob(r.run, submitted, 'succeed', { instances: submitted.instances });
    const { events } = await listJobEventsForCaller(r.deps, 'alice', submitted.jobId);
    expect(events.map((event) => event.type)).toEqual(['job.submitted', 'job.succeeded']);
    for (const event of events) {
      expect(Object.keys(event).sort()).toEqual(['createdAt', 'deliveries', 'id', 'type']);
      // The job's own webhookUrl is written first (eventTargets), but the listing is by name.
      expect(event.deliveries.map((delivery) => delivery.target)).toEqual(['default', 'webhook']);
      expect(event.deliveries.every((delivery) => delivery.state === 'PENDING')).toBe(true);
    }
    expect(JSON.stringify(events)).not.toContain('hooks.example.com');
  });

  it('shows a chat follow-up’s attempts with how they went out (via), and never the response_url', async () => {
    const { r } = await start();
    const job = await r.submitted(undefined, undefined, chatOrigin(r));
    await deliverDueEvents(r.run, remaining());
    const [event] = (await listJobEventsForCaller(r.deps, 'alice', job.jobId)).events;
    expect(event?.deliveries).toEqual([
      {
        target: 'chat',
        state: 'DELIVERED',
        attempts: [{ at: isoNow(r), via: 'response_url', status: 204 }],
        nextAttemptAt: null,
      },
      {
        target: 'default',
        state: 'DELIVERED',
        attempts: [{ at: isoNow(r), status: 204 }],
        nextAttemptAt: null,
      },
    ]);
    expect(JSON.stringify(event)).not.toContain('/response');
  });
});

describe('redelivering an event', () => {
  it('sends the event again with its original webhook-id, signed, the attempt history kept', async () => {
    const { r } = await start(answering(500, 200));
    const job = await r.submitted();
    await deliverDueEvents(r.run, remaining());
    r.h.clock.advance(TEST_SCHEDULE_MS[0] ?? 0);
    await deliverDueEvents(r.run, remaining());
    r.h.clock.advance(60_000);
    const redelivered = await redeliverEventForCaller(r.deps, 'alice', job.jobId, submittedId(job), {});
    expect(redelivered.deliveries).toEqual([
      {
        target: 'default',
        state: 'PENDING',
        attempts: [expect.objectContaining({ status: 500 }), expect.objectContaining({ status: 200 })],
        nextAttemptAt: isoNow(r),
      },
    ]);
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ attempts: 1, delivered: 1 });
    const [firstDelivery, , redelivery] = hooks(r);
    expect(hooks(r)).toHaveLength(3);
    expect(idOf(redelivery)).toBe(idOf(firstDelivery));
    expect(idOf(redelivery)).toBe(submittedId(job));
    if (!redelivery) throw new Error('no redelivery arrived');
    expect(() =>
      new Webhook(TEST_WEBHOOK_SECRET).verify(redelivery.body, {
        'webhook-id': idOf(redelivery),
        'webhook-timestamp': String(redelivery.headers['webhook-timestamp']),
        'webhook-signature': String(redelivery.headers['webhook-signature']),
      }),
    ).not.toThrow();
    const [event] = (await listJobEventsForCaller(r.deps, 'alice', job.jobId)).events;
    expect(event?.deliveries[0]?.state).toBe('DELIVERED');
    expect(event?.deliveries[0]?.attempts.map((attempt) => attempt.status)).toEqual([500, 200, 200]);
  });

  it('gives a FAILED delivery whose schedule is spent one more attempt, FAILED again if that fails', async () => {
    const { r } = await start(answering(500));
    const job = await r.submitted();
    for (const delay of [0, ...TEST_SCHEDULE_MS]) {
      r.h.clock.advance(delay);
      await deliverDueEvents(r.run, remaining());
    }
    const spent = (await r.job(job.jobId)).events[submittedId(job)]?.deliveries.default;
    expect(spent?.state).toBe('FAILED');
    expect(spent?.attempts).toHaveLength(TEST_SCHEDULE_MS.length + 1);
    await redeliverEventForCaller(r.deps, 'alice', job.jobId, submittedId(job), {});
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ attempts: 1, failed: 1 });
    const again = (await r.job(job.jobId)).events[submittedId(job)]?.deliveries.default;
    expect(again).toMatchObject({ state: 'FAILED', nextAttemptAt: null });
    expect(again?.attempts).toHaveLength(TEST_SCHEDULE_MS.length + 2);
    r.receiver.reply = answering(204);
    await redeliverEventForCaller(r.deps, 'alice', job.jobId, submittedId(job), {});
    await deliverDueEvents(r.run, remaining());
    expect((await r.job(job.jobId)).events[submittedId(job)]?.deliveries.default?.state).toBe('DELIVERED');
    expect(hooks(r)).toHaveLength(TEST_SCHEDULE_MS.length + 3);
  });

  it('stays STOPPED, unsent, while another event of the job holds its target’s 410 Gone; sent once that event is redelivered', async () => {
    const { r } = await start(answering(410, 204));
    const submitted = await r.submitted();
    await deliverDueEvents(r.run, remaining());
    await finishJob(r.run, await r.job(submitted.jobId), 'succeed', { instances: submitted.instances });
    await deliverDueEvents(r.run, remaining());
    const succeededId = eventId(submitted.jobId, 'job.succeeded');
    expect(hooks(r)).toHaveLength(1);
    await redeliverEventForCaller(r.deps, 'alice', submitted.jobId, succeededId, {});
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ attempts: 0, stopped: 1 });
    expect(hooks(r)).toHaveLength(1);
    expect(
      (await r.job(submitted.jobId)).events[succeededId]?.deliveries.default?.attempts.at(-1)?.error,
    ).toMatch(/410 Gone/);
    await redeliverEventForCaller(r.deps, 'alice', submitted.jobId, submittedId(submitted), {});
    await redeliverEventForCaller(r.deps, 'alice', submitted.jobId, succeededId, {});
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ attempts: 2, delivered: 2 });
    expect(hooks(r).map(idOf).slice(1)).toEqual([submittedId(submitted), succeededId]);
  });

  it('redelivers every target but chat by default, and chat only when ?target=chat names it', async () => {
    const { r } = await start();
    const job = await r.submitted(undefined, undefined, chatOrigin(r));
    await deliverDueEvents(r.run, remaining());
    const posts = () => r.receiver.received.filter((request) => request.url === '/response').length;
    expect([hooks(r).length, posts()]).toEqual([1, 1]);

    const byDefault = await redeliverEventForCaller(r.deps, 'alice', job.jobId, submittedId(job), {});
    expect(byDefault.deliveries.map((delivery) => [delivery.target, delivery.state])).toEqual([
      ['chat', 'DELIVERED'],
      ['default', 'PENDING'],
    ]);
    await deliverDueEvents(r.run, remaining());
    expect([hooks(r).length, posts()]).toEqual([2, 1]);

    const chat = await redeliverEventForCaller(r.deps, 'alice', job.jobId, submittedId(job), {
      target: 'chat',
    });
    expect(chat.deliveries.map((delivery) => [delivery.target, delivery.state])).toEqual([
      ['chat', 'PENDING'],
      ['default', 'DELIVERED'],
    ]);
    await deliverDueEvents(r.run, remaining());
    expect([hooks(r).length, posts()]).toEqual([2, 2]);
  });

  it('refuses a target the event does not have with 400 naming its targets, and changes nothing', async () => {
    const { r } = await start();
    const job = await r.submitted();
    await deliverDueEvents(r.run, remaining());
    const before = await r.job(job.jobId);
    const refusal = redeliverEventForCaller(r.deps, 'alice', job.jobId, submittedId(job), { target: 'chat' });
    await expect(refusal).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(refusal).rejects.toMatchObject({
      violations: [{ param: 'target', message: expect.stringContaining('use default') }],
    });
    expect((await r.job(job.jobId)).version).toBe(before.version);
  });

  it('asks for ?target=chat when chat is the event’s only target, and refuses an event with no targets', async () => {
    const { r } = await start();
    const noTargets = { ...r.deps, eventTargets: [] };
    const fromChat = await r.accept(undefined, undefined, chatOrigin(r));
    await submitJob(noTargets, fromChat.jobId, delivery());
    const chatOnly = redeliverEventForCaller(r.deps, 'alice', fromChat.jobId, submittedId(fromChat), {});
    await expect(chatOnly).rejects.toMatchObject({
      kind: 'invalid',
      violations: [
        { param: 'target', code: 'MissingParameter', message: expect.stringContaining('?target=chat') },
      ],
    });
    const named = await redeliverEventForCaller(r.deps, 'alice', fromChat.jobId, submittedId(fromChat), {
      target: 'chat',
    });
    expect(named.deliveries.map((d) => d.target)).toEqual(['chat']);
    const bare = await r.accept();
    await submitJob(noTargets, bare.jobId, delivery());
    await expect(
      redeliverEventForCaller(r.deps, 'alice', bare.jobId, submittedId(bare), {}),
    ).rejects.toMatchObject({
      violations: [{ param: 'target', message: 'this event has no delivery targets' }],
    });
  });

  it('answers a redelivery already due as it is, without a write', async () => {
    const { r } = await start();
    const job = await r.submitted();
    await deliverDueEvents(r.run, remaining());
    const first = await redeliverEventForCaller(r.deps, 'alice', job.jobId, submittedId(job), {});
    const version = (await r.job(job.jobId)).version;
    const again = await redeliverEventForCaller(r.deps, 'alice', job.jobId, submittedId(job), {});
    expect(again).toEqual(first);
    expect((await r.job(job.jobId)).version).toBe(version);
  });

  it('does not let another caller list or redeliver the job’s events, and changes nothing', async () => {
    const { r } = await start();
    const job = await r.submitted();
    await deliverDueEvents(r.run, remaining());
    const before = await r.job(job.jobId);
    await expect(listJobEventsForCaller(r.deps, 'bob', job.jobId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      redeliverEventForCaller(r.deps, 'bob', job.jobId, submittedId(job), {}),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(await r.job(job.jobId)).toEqual(before);
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ attempts: 0 });
  });

  it.each([
    ['an event the job does not have', (job: Job) => eventId(job.jobId, 'job.succeeded')],
    ['a name every object inherits', () => 'constructor'],
    ['another job’s event', () => eventId(randomUUID(), 'job.submitted')],
  ])('answers 404 for %s', async (_name, idFor) => {
    const { r } = await start();
    const job = await r.submitted();
    const refusal = redeliverEventForCaller(r.deps, 'alice', job.jobId, idFor(job), {});
    await expect(refusal).rejects.toBeInstanceOf(NotFoundError);
  });

  it('wins over a notifier record that lands between its read and its write: it reads again and lands', async () => {
    const { r } = await start();
    const submitted = await r.submitted();
    await deliverDueEvents(r.run, remaining());
    await finishJob(r.run, await r.job(submitted.jobId), 'succeed', { instances: submitted.instances });
    // The redelivery's write waits until the notifier has recorded job.succeeded: its version is stale.
    let raced = false;
    const racing = {
      ...r.deps,
      ddb: {
        send: (async (command: unknown) => {
          if (command instanceof UpdateCommand && !raced) {
            raced = true;
            expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ delivered: 1 });
          }
          return r.deps.ddb.send(command as never);
        }) as typeof r.deps.ddb.send,
      },
    };
    const redelivered = await redeliverEventForCaller(
      racing,
      'alice',
      submitted.jobId,
      submittedId(submitted),
      {},
    );
    expect(raced).toBe(true);
    expect(redelivered.deliveries[0]?.state).toBe('PENDING');
    const stored = await r.job(submitted.jobId);
    expect(stored.events[eventId(submitted.jobId, 'job.succeeded')]?.deliveries.default?.state).toBe(
      'DELIVERED',
    );
    expect(stored.events[submittedId(submitted)]?.deliveries.default?.state).toBe('PENDING');
    await deliverDueEvents(r.run, remaining());
    expect(hooks(r).map(idOf)).toEqual([
      submittedId(submitted),
      eventId(submitted.jobId, 'job.succeeded'),
      submittedId(submitted),
    ]);
  });

  it('keeps a notifier’s record that loses to it: the notifier reads again and records its attempt', async () => {
    // The receiver holds job.succeeded's attempt until the redelivery of job.submitted has been written.
    let release: (() => void) | undefined;
    let arrived: (() => void) | undefined;
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { r } = await start((_request, res: ServerResponse) => {
      if (hooks(rig as PollRig).length === 1) return void res.writeHead(204).end();
      release = () => res.writeHead(204).end();
      arrived?.();
    });
    const submitted = await r.submitted();
    await deliverDueEvents(r.run, remaining());
    await finishJob(r.run, await r.job(submitted.jobId), 'succeed', { instances: submitted.instances });
    const run = deliverDueEvents(r.run, remaining());
    await arrival;
    await redeliverEventForCaller(r.deps, 'alice', submitted.jobId, submittedId(submitted), {});
    release?.();
    expect(await run).toMatchObject({ delivered: 1 });
    const stored = await r.job(submitted.jobId);
    expect(stored.events[eventId(submitted.jobId, 'job.succeeded')]?.deliveries.default?.state).toBe(
      'DELIVERED',
    );
    expect(stored.events[submittedId(submitted)]?.deliveries.default).toMatchObject({
      state: 'PENDING',
      attempts: [{ status: 204 }],
    });
  });
});

describe('the routes through the API handler', () => {
  const routeEvent = (
    routeKey: string,
    method: string,
    path: string,
    pathParameters: Record<string, string>,
    options: EventOptions & { query?: Record<string, string> } = {},
  ): HttpEvent => {
    const { query, ...rest } = options;
    const event = getJobEvent(pathParameters.jobId ?? '', rest);
    return {
      ...event,
      routeKey,
      rawPath: path,
      rawQueryString: query ? new URLSearchParams(query).toString() : '',
      pathParameters,
      ...(query ? { queryStringParameters: query } : {}),
      requestContext: {
        ...event.requestContext,
        routeKey,
        http: { ...event.requestContext.http, method, path },
      },
    };
  };
  const listEvent = (jobId: string, options: EventOptions = {}) =>
    routeEvent(ROUTES.jobEvents, 'GET', `/v1/jobs/${jobId}/events`, { jobId }, options);
  const redeliverEvent = (
    jobId: string,
    id: string,
    options: EventOptions & { query?: Record<string, string> } = {},
  ) =>
    routeEvent(
      ROUTES.redeliverEvent,
      'POST',
      `/v1/jobs/${jobId}/events/${id}/redeliver`,
      { jobId, eventId: id },
      options,
    );

  it('answers 200 with the events and 202 with the redelivered event, as application/json', async () => {
    const { r, stack } = await start();
    const handler = createApiHandler(emulatorApi(stack, { now: r.h.clock.now }).deps);
    const job = await r.submitted();
    await deliverDueEvents(r.run, remaining());
    const listed = await invoke(handler, listEvent(job.jobId));
    expect(listed.statusCode).toBe(200);
    expect(listed.headers['content-type']).toBe('application/json');
    expect(JSON.parse(listed.body)).toEqual(await listJobEventsForCaller(r.deps, 'alice', job.jobId));
    const accepted = await invoke(handler, redeliverEvent(job.jobId, submittedId(job)));
    expect(accepted.statusCode).toBe(202);
    expect(accepted.headers['content-type']).toBe('application/json');
    expect(JSON.parse(accepted.body)).toMatchObject({
      id: submittedId(job),
      type: 'job.submitted',
      deliveries: [{ target: 'default', state: 'PENDING', nextAttemptAt: isoNow(r) }],
    });
  });

  it('answers another caller, an unknown event and a malformed job id with 404 problem+json, as GET /v1/jobs/{jobId} does', async () => {
    const { r, stack } = await start();
    const handler = createApiHandler(emulatorApi(stack, { now: r.h.clock.now }).deps);
    const job = await r.submitted();
    const before = await r.job(job.jobId);
    const asGet = async (jobId: string, options: EventOptions = {}) => {
      const { instance: _instance, ...problem } = problemOf(
        await invoke(handler, getJobEvent(jobId, options)),
      );
      return problem;
    };
    const bob = { bearer: TOKENS.bob.token };
    for (const [response, expected] of [
      [await invoke(handler, listEvent(job.jobId, bob)), await asGet(job.jobId, bob)],
      [await invoke(handler, redeliverEvent(job.jobId, submittedId(job), bob)), await asGet(job.jobId, bob)],
      [await invoke(handler, listEvent('not-a-job-id')), await asGet('not-a-job-id')],
      [await invoke(handler, redeliverEvent('not-a-job-id', submittedId(job))), await asGet('not-a-job-id')],
    ] as const) {
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toBe('application/problem+json');
      expect(problemOf(response)).toMatchObject({ ...expected, status: 404, code: 'ResourceNotFound' });
    }
    const unknown = await invoke(handler, redeliverEvent(job.jobId, eventId(job.jobId, 'job.failed')));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toBe('application/problem+json');
    expect(problemOf(unknown)).toMatchObject({
      code: 'ResourceNotFound',
      detail: expect.stringContaining('no event'),
    });
    expect(await r.job(job.jobId)).toEqual(before);
  });

  it('answers an unknown ?target= with 400 problem+json on the target parameter', async () => {
    const { r, stack } = await start();
    const handler = createApiHandler(emulatorApi(stack, { now: r.h.clock.now }).deps);
    const job = await r.submitted();
    const response = await invoke(
      handler,
      redeliverEvent(job.jobId, submittedId(job), { query: { target: 'pager' } }),
    );
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(problemOf(response)).toMatchObject({
      status: 400,
      code: 'InvalidParameterValue',
      errors: [{ param: 'target', message: expect.stringContaining('pager is not a target') }],
    });
  });
});
