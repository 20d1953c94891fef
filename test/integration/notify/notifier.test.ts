import { connect } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { finishJob } from '../../../lib/jobs/lifecycle.ts';
import type { Job } from '../../../lib/jobs/model.ts';
import { eventId } from '../../../lib/jobs/outbox.ts';
import { deliverDueEvents } from '../../../lib/notify/notifier.ts';
import { createSigners } from '../../../lib/notify/payload.ts';
import { createGuardedDispatcher } from '../../../lib/notify/ssrf.ts';
import { REDACTED } from '../../../lib/run-instances/index.ts';
import { type ReceivedRequest, type Reply, startLoopbackServer } from '../../helpers/loopback-server.ts';
import {
  OTHER_WEBHOOK_SECRET,
  ok,
  pollRigsFor,
  remaining,
  TEST_SCHEDULE_MS,
  TEST_WEBHOOK_SECRET,
} from '../../helpers/poll.ts';
import { SEED_PASSWORD } from '../../helpers/requests.ts';
import { plainRequest } from '../../helpers/submit.ts';

const start = pollRigsFor('notify');

const headersOf = (request: ReceivedRequest) => ({
  'webhook-id': String(request.headers['webhook-id']),
  'webhook-timestamp': String(request.headers['webhook-timestamp']),
  'webhook-signature': String(request.headers['webhook-signature']),
});

const answering =
  (...statuses: number[]): Reply =>
  (_request, res) => {
    const status = statuses.length > 1 ? (statuses.shift() as number) : (statuses[0] as number);
    res.writeHead(status).end();
  };

/** A dispatcher that takes every connection, whatever its URL names, to the loopback receiver in plain HTTP. */
function routedTo(receiverUrl: string): Agent {
  const port = Number(new URL(receiverUrl).port);
  return new Agent({
    connect: (_options, callback) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => callback(null, socket));
      socket.once('error', (error) => callback(error, null));
    },
  });
}

const deliveryOf = (job: Job, type: Parameters<typeof eventId>[1], target = 'default') =>
  job.events[eventId(job.jobId, type)]?.deliveries[target];

describe('what is sent', () => {
  it('POSTs the event signed with Standard Webhooks over the exact bytes, the password never present', async () => {
    const r = await start();
    const job = await r.submitted({ ...plainRequest({ LoginSettings: { Password: SEED_PASSWORD } }) });
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ attempts: 1, delivered: 1 });
    const [request] = r.receiver.received;
    if (!request) throw new Error('nothing arrived');
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hooks');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['webhook-id']).toBe(eventId(job.jobId, 'job.submitted'));
    expect(Number(request.headers['webhook-timestamp'])).toBe(Math.floor(r.h.clock.now() / 1000));
    const verified = new Webhook(TEST_WEBHOOK_SECRET).verify(request.body, headersOf(request));
    expect(verified).toMatchObject({
      type: 'job.submitted',
      timestamp: job.events[eventId(job.jobId, 'job.submitted')]?.createdAt,
      data: { jobId: job.jobId, status: 'SUBMITTED', instances: job.instances },
    });
    expect(request.body.toString()).not.toContain(SEED_PASSWORD);
    expect((verified as { data: Job }).data.request.LoginSettings?.Password).toBe(REDACTED);
    const stored = await r.job(job.jobId);
    expect(deliveryOf(stored, 'job.submitted')).toEqual({
      state: 'DELIVERED',
      attempts: [{ at: new Date(r.h.clock.now()).toISOString(), status: 204 }],
      nextAttemptAt: null,
    });
    // Nothing is left due: the job left the due-events index.
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ attempts: 0 });
  });

  it('signs with every secret while a new one is rolled out: each verifies alone', async () => {
    const r = await start({ run: { signers: createSigners([OTHER_WEBHOOK_SECRET, TEST_WEBHOOK_SECRET]) } });
    await r.submitted();
    await deliverDueEvents(r.run, remaining());
    const [request] = r.receiver.received;
    if (!request) throw new Error('nothing arrived');
    expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [OTHER_WEBHOOK_SECRET, TEST_WEBHOOK_SECRET])
      expect(() => new Webhook(secret).verify(request.body, headersOf(request))).not.toThrow();
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(request.body, headersOf(request)),
    ).toThrow();
  });

  it('sends to the job’s own webhookUrl as well as the default target', async () => {
    const r = await start();
    const toReceiver = routedTo(r.receiver.url);
    r.run.dispatcher = toReceiver;
    const job = await r.submitted(undefined, { webhookUrl: 'https://hooks.example.com/cvm' });
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ attempts: 2, delivered: 2 });
    await toReceiver.close();
    const arrived = r.receiver.received.map((request) => `${request.headers.host}${request.url}`).sort();
    expect(arrived).toEqual([`${new URL(r.receiver.url).host}/hooks`, 'hooks.example.com/cvm'].sort());
    const stored = await r.job(job.jobId);
    expect(deliveryOf(stored, 'job.submitted', 'webhook')?.state).toBe('DELIVERED');
    expect(deliveryOf(stored, 'job.submitted', 'default')?.state).toBe('DELIVERED');
  });
});

describe('retries', () => {
  it('retries a failing receiver on the schedule and delivers with the same webhook-id', async () => {
    const r = await start({ reply: answering(500, 503, 502, 200) });
    const job = await r.submitted();
    const started = r.h.clock.now();
    for (const delay of [0, ...TEST_SCHEDULE_MS]) {
      r.h.clock.advance(delay);
      await deliverDueEvents(r.run, remaining());
    }
    const ids = new Set(r.receiver.received.map((request) => request.headers['webhook-id']));
    expect(r.receiver.received).toHaveLength(4);
    expect([...ids]).toEqual([eventId(job.jobId, 'job.submitted')]);
    const delivery = deliveryOf(await r.job(job.jobId), 'job.submitted');
    expect(delivery?.state).toBe('DELIVERED');
    expect(delivery?.attempts.map((attempt) => attempt.status)).toEqual([500, 503, 502, 200]);
    let at = started;
    expect(delivery?.attempts.map((attempt) => Date.parse(attempt.at) - started)).toEqual(
      [0, ...TEST_SCHEDULE_MS].map((delay) => {
        at += delay;
        return at - started;
      }),
    );
  });

  it('does not try again before the jittered delay is due', async () => {
    const r = await start({ reply: answering(500, 200) });
    const job = await r.submitted();
    await deliverDueEvents(r.run, remaining());
    const pending = deliveryOf(await r.job(job.jobId), 'job.submitted');
    expect(pending?.state).toBe('PENDING');
    expect(Date.parse(pending?.nextAttemptAt ?? '') - r.h.clock.now()).toBe(5000);
    r.h.clock.advance(4999);
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ attempts: 0 });
    r.h.clock.advance(1);
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ delivered: 1 });
  });

  it('honours Retry-After when it asks for longer than the schedule', async () => {
    const r = await start({
      reply: (_request, res) => {
        res.writeHead(429, { 'retry-after': '120' }).end();
      },
    });
    const job = await r.submitted();
    await deliverDueEvents(r.run, remaining());
    const pending = deliveryOf(await r.job(job.jobId), 'job.submitted');
    expect(Date.parse(pending?.nextAttemptAt ?? '') - r.h.clock.now()).toBe(120_000);
  });

  it('ends FAILED, recorded and logged, once the schedule is spent', async () => {
    const r = await start({ reply: answering(500) });
    const job = await r.submitted();
    for (const delay of [0, ...TEST_SCHEDULE_MS, 86_400_000]) {
      r.h.clock.advance(delay);
      await deliverDueEvents(r.run, remaining());
    }
    expect(r.receiver.received).toHaveLength(TEST_SCHEDULE_MS.length + 1);
    const stored = await r.job(job.jobId);
    expect(deliveryOf(stored, 'job.submitted')).toMatchObject({ state: 'FAILED', nextAttemptAt: null });
    expect(r.logs.records()).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'webhook delivery failed for good',
        jobId: job.jobId,
      }),
    );
  });

  it('stops sending to a target that answers 410 Gone, for later events of the job too', async () => {
    const r = await start({ reply: answering(410), sim: { bootMs: 0 } });
    const job = await r.submitted();
    await deliverDueEvents(r.run, remaining());
    const submitted = await r.job(job.jobId);
    await finishJob(r.run, submitted, 'succeed', { instances: submitted.instances });
    await deliverDueEvents(r.run, remaining());
    expect(r.receiver.received).toHaveLength(1);
    const stored = await r.job(job.jobId);
    expect(deliveryOf(stored, 'job.submitted')?.state).toBe('STOPPED');
    expect(deliveryOf(stored, 'job.succeeded')?.state).toBe('STOPPED');
  });

  it('does not follow a redirect: a 3xx is a failed attempt', async () => {
    const r = await start({
      reply: (request, res) => {
        if (request.url === '/moved') res.writeHead(200).end();
        else res.writeHead(302, { location: '/moved' }).end();
      },
    });
    const job = await r.submitted();
    await deliverDueEvents(r.run, remaining());
    expect(r.receiver.received.map((request) => request.url)).toEqual(['/hooks']);
    expect(deliveryOf(await r.job(job.jobId), 'job.submitted')).toMatchObject({
      state: 'PENDING',
      attempts: [{ status: 302 }],
    });
  });

  it('gives up on an attempt that gets no answer within the timeout, and tries again later', async () => {
    const r = await start({ reply: () => undefined, run: { timeoutMs: 1000 } });
    const job = await r.submitted();
    await deliverDueEvents(r.run, remaining());
    expect(deliveryOf(await r.job(job.jobId), 'job.submitted')).toMatchObject({
      state: 'PENDING',
      attempts: [{ error: 'no answer within 1000 ms' }],
    });
  });
});

describe('bounds', () => {
  it('keeps a slow target from holding up the others, and at most half the slots go to one target', async () => {
    let inFlight = 0;
    let most = 0;
    const arrivedAt = new Map<string, number[]>();
    const began = Date.now();
    const r = await start({
      run: { concurrency: 4 },
      reply: (request, res) => {
        const path = request.url;
        arrivedAt.set(path, [...(arrivedAt.get(path) ?? []), Date.now() - began]);
        if (path !== '/slow') return void res.writeHead(204).end();
        inFlight++;
        most = Math.max(most, inFlight);
        setTimeout(() => {
          inFlight--;
          res.writeHead(204).end();
        }, 300);
      },
    });
    r.run.targetUrls = { default: `${r.receiver.url}/slow` };
    r.run.dispatcher = routedTo(r.receiver.url);
    const jobs: Job[] = [];
    for (let i = 0; i < 6; i++)
      jobs.push(await r.submitted(undefined, { webhookUrl: 'https://fast.example.com/fast' }));
    const started = Date.now() - began;
    await deliverDueEvents(r.run, remaining());
    await r.run.dispatcher.close();
    // Six slow deliveries, two at a time: three rounds of 300 ms. The fast target's six do not wait for them.
    expect(most).toBe(2);
    expect(arrivedAt.get('/slow')).toHaveLength(6);
    expect(arrivedAt.get('/fast')).toHaveLength(6);
    expect(Math.max(...(arrivedAt.get('/fast') ?? [])) - started).toBeLessThan(300);
    expect(Math.max(...(arrivedAt.get('/slow') ?? [])) - started).toBeGreaterThanOrEqual(600);
    for (const job of jobs) {
      const stored = await r.job(job.jobId);
      expect(deliveryOf(stored, 'job.submitted')?.state).toBe('DELIVERED');
      expect(deliveryOf(stored, 'job.submitted', 'webhook')?.state).toBe('DELIVERED');
    }
  });

  it('starts no attempt with too little of the run left: the event stays due', async () => {
    const r = await start();
    const job = await r.submitted();
    expect(await deliverDueEvents(r.run, remaining(3500))).toMatchObject({ attempts: 0, deferred: 1 });
    expect(deliveryOf(await r.job(job.jobId), 'job.submitted')?.state).toBe('PENDING');
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ delivered: 1 });
  });
});

describe('in a scheduled run', () => {
  it('sends nothing unsigned: without a secret the events stay due, and the run says why', async () => {
    const r = await start({ run: { signers: [] } });
    const job = await r.submitted();
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ attempts: 0, deferred: 1 });
    expect(r.receiver.received).toHaveLength(0);
    expect(deliveryOf(await r.job(job.jobId), 'job.submitted')).toMatchObject({
      state: 'PENDING',
      attempts: [],
    });
    expect(r.logs.records()).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: expect.stringContaining('WEBHOOK_SECRET is not set'),
      }),
    );
  });

  it('delivers the jobs it is handed even when the due-events index does not list them yet', async () => {
    const r = await start();
    const job = await r.submitted();
    // limit 0: the index lists nothing, as an eventually consistent index may just after a write.
    expect(await deliverDueEvents(r.run, { remainingMs: () => 60_000, limit: 0 })).toMatchObject({
      attempts: 0,
    });
    expect(
      await deliverDueEvents(r.run, { remainingMs: () => 60_000, limit: 0, jobs: [await r.job(job.jobId)] }),
    ).toMatchObject({ delivered: 1 });
  });
});

describe('the SSRF guard', () => {
  it('refuses a loopback target when private targets are not allowed: FAILED at once, never retried', async () => {
    const r = await start();
    r.run.allowPrivate = false;
    r.run.dispatcher = createGuardedDispatcher({ allowPrivate: false });
    const job = await r.submitted();
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ attempts: 1, failed: 1 });
    await r.run.dispatcher.close();
    expect(r.receiver.received).toHaveLength(0);
    expect(deliveryOf(await r.job(job.jobId), 'job.submitted')).toMatchObject({
      state: 'FAILED',
      attempts: [{ error: expect.stringMatching(/loopback/i) }],
    });
  });

  it('refuses a name that resolves to a private address, found at connect time: FAILED, never retried', async () => {
    const r = await start();
    const port = new URL(r.receiver.url).port;
    r.run.allowPrivate = false;
    r.run.targetUrls = { default: `http://receiver.example.com:${port}/hooks` };
    r.run.dispatcher = createGuardedDispatcher({
      allowPrivate: false,
      lookup: ((_host: string, _options: unknown, callback: (...args: unknown[]) => void) =>
        callback(null, [{ address: '127.0.0.1', family: 4 }])) as never,
    });
    const job = await r.submitted();
    expect(await deliverDueEvents(r.run, remaining())).toMatchObject({ attempts: 1, failed: 1 });
    await r.run.dispatcher.close();
    expect(r.receiver.received).toHaveLength(0);
    expect(deliveryOf(await r.job(job.jobId), 'job.submitted')).toMatchObject({
      state: 'FAILED',
      attempts: [{ error: expect.stringMatching(/127\.0\.0\.1/) }],
    });
  });
});

describe('a target that does not answer', () => {
  it('is given up for the rest of the run after three silent attempts: its other deliveries wait a minute', async () => {
    const r = await start({ run: { concurrency: 2 } });
    // A port nothing listens on: every connection is refused.
    const dead = await startLoopbackServer(ok);
    await dead.close();
    r.run.targetUrls = { default: `${dead.url}/hooks` };
    const jobs: Job[] = [];
    for (let i = 0; i < 6; i++) jobs.push(await r.submitted());
    const summary = await deliverDueEvents(r.run, remaining());
    expect(summary).toMatchObject({ attempts: 3, retrying: 3, deferred: 3 });
    const deliveries = await Promise.all(
      jobs.map(async (job) => deliveryOf(await r.job(job.jobId), 'job.submitted')),
    );
    const putOff = deliveries.filter((delivery) => delivery?.attempts.length === 0);
    expect(putOff).toHaveLength(3);
    for (const delivery of putOff) {
      expect(delivery).toMatchObject({ state: 'PENDING' });
      expect(Date.parse(delivery?.nextAttemptAt ?? '') - r.h.clock.now()).toBe(60_000);
    }
  });
});
