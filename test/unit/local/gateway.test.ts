import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpEvent } from '../../../lib/http/types.ts';
import { createGateway, type Route } from '../../../local/gateway.ts';
import { captureLogs } from '../../helpers/logs.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function gatewayWith(routes: Route[]) {
  const logs = captureLogs('local-stack');
  const gateway = createGateway(routes, logs.logger);
  server = createServer((req, res) => void gateway(req, res));
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, logs };
}

describe('the local API Gateway stand-in', () => {
  it.each([
    ['a function that throws', () => Promise.reject(new Error('boom'))],
    ['a function that answers nothing', () => Promise.resolve(undefined)],
    ['a function that answers a string', () => Promise.resolve('hello')],
    ['a function that answers a status out of range', () => Promise.resolve({ statusCode: 42, body: '' })],
  ])('answers %s with a bare 500 problem, logs it, and serves the next request', async (_name, invoke) => {
    let calls = 0;
    const { url, logs } = await gatewayWith([
      {
        routeKey: 'GET /x',
        invoke: () =>
          ++calls === 1 ? invoke() : Promise.resolve({ statusCode: 200, headers: {}, body: 'ok' }),
      },
    ]);
    const first = await fetch(`${url}/x`);
    expect(first.status).toBe(500);
    expect(first.headers.get('content-type')).toBe('application/problem+json');
    expect(logs.records()).toContainEqual(expect.objectContaining({ level: 'error' }));
    expect(await (await fetch(`${url}/x`)).text()).toBe('ok');
  });

  it('prefers a route naming the method over ANY on the same path, and ANY over $default', async () => {
    const ok = (body: string) => () => Promise.resolve({ statusCode: 200, headers: {}, body });
    const { url } = await gatewayWith([
      { routeKey: 'ANY /jobs/{id}', invoke: ok('any') },
      { routeKey: 'GET /jobs/{id}', invoke: ok('get') },
      { routeKey: '$default', invoke: ok('default') },
    ]);
    expect(await (await fetch(`${url}/jobs/1`)).text()).toBe('get');
    expect(await (await fetch(`${url}/jobs/1`, { method: 'DELETE' })).text()).toBe('any');
    expect(await (await fetch(`${url}/other`)).text()).toBe('default');
  });

  it('hands requests no route matches to the $default route, without path parameters', async () => {
    const seen: HttpEvent[] = [];
    const { url } = await gatewayWith([
      {
        routeKey: 'GET /jobs/{id}',
        invoke: () => Promise.resolve({ statusCode: 200, headers: {}, body: 'job' }),
      },
      {
        routeKey: '$default',
        invoke: (event) => {
          seen.push(event);
          return Promise.resolve({ statusCode: 405, headers: { allow: 'GET' }, body: '' });
        },
      },
    ]);
    expect((await fetch(`${url}/jobs/1`, { method: 'DELETE' })).status).toBe(405);
    expect(seen[0]).toMatchObject({ routeKey: '$default', rawPath: '/jobs/1' });
    expect(seen[0]).not.toHaveProperty('pathParameters');
  });

  it('passes a JSON body that is not UTF-8 base64-encoded, as bytes, not as replacement characters', async () => {
    const seen: HttpEvent[] = [];
    const { url } = await gatewayWith([
      {
        routeKey: 'POST /x',
        invoke: (event) => {
          seen.push(event);
          return Promise.resolve({ statusCode: 200, headers: {}, body: '' });
        },
      },
    ]);
    await fetch(`${url}/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from([0x7b, 0xff, 0x7d]),
    });
    await fetch(`${url}/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":"é"}',
    });
    expect(seen.map((event) => [event.isBase64Encoded, event.body])).toEqual([
      [true, Buffer.from([0x7b, 0xff, 0x7d]).toString('base64')],
      [false, '{"a":"é"}'],
    ]);
  });
});
