import type { LookupAddress, LookupOptions } from 'node:dns';
import {
  createServer as createTcpServer,
  isIP,
  type LookupFunction,
  type Server,
  type Socket,
} from 'node:net';
import { Agent, buildConnector, type Dispatcher, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { isRetryable, ProvisionerError } from '../../../lib/errors.ts';
import {
  addressRefusal,
  checkTargetUrl,
  createGuardedDispatcher,
  guardConnector,
  guardLookup,
  WEBHOOK_TARGET_REFUSED,
  WebhookTargetRefusedError,
} from '../../../lib/notify/ssrf.ts';
import { type LoopbackServer, startLoopbackServer } from '../../helpers/loopback-server.ts';

/** Every range the guard refuses, with the reason it gives: [address, reason]. */
const REFUSED: ReadonlyArray<readonly [string, string]> = [
  // IPv4 (IANA IPv4 Special-Purpose Address Registry)
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.169.254', 'linkLocal'],
  ['169.254.0.1', 'linkLocal'],
  ['100.64.0.1', 'carrierGradeNat'],
  ['100.127.255.255', 'carrierGradeNat'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.1', 'reserved'],
  ['192.0.0.1', 'reserved'],
  ['198.18.0.1', 'reserved'],
  ['198.19.255.255', 'reserved'],
  ['192.0.2.1', 'reserved'],
  ['198.51.100.1', 'reserved'],
  ['203.0.113.1', 'reserved'],
  ['192.88.99.1', 'reserved'],
  // IPv6 (IANA IPv6 Special-Purpose Address Registry)
  ['::1', 'loopback'],
  ['::', 'unspecified'],
  ['fc00::1', 'uniqueLocal'],
  ['fd00:ec2::254', 'uniqueLocal'],
  ['fe80::1', 'linkLocal'],
  ['fe80::1%eth0', 'linkLocal'],
  ['ff02::1', 'multicast'],
  ['fec0::1', 'deprecatedSiteLocal'],
  ['100::1', 'discard'],
  ['2001:db8::1', 'reserved'],
  ['64:ff9b::a00:1', 'rfc6052'],
  ['2002:7f00:1::1', '6to4'],
  ['2001::1', 'teredo'],
  ['::ffff:0:7f00:1', 'rfc6145'],
  // IPv4-mapped: judged by the embedded IPv4 address
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:10.0.0.1', 'private'],
  ['::ffff:169.254.169.254', 'linkLocal'],
  ['::ffff:0.0.0.0', 'unspecified'],
  // The explicit checks beyond ipaddr.js's ranges
  ['::127.0.0.1', 'ipv4Compatible'],
  ['::8.8.8.8', 'ipv4Compatible'],
  ['::7f00:1', 'notGlobalUnicast'],
  ['4000::1', 'notGlobalUnicast'],
  ['2606:4700:4700::1111%eth0', 'scoped'],
  ['localhost', 'invalid'],
  ['127.1', 'invalid'],
  ['2130706433', 'invalid'],
  ['', 'invalid'],
];

/** Public unicast, the neighbours of refused ranges among them (so an over-wide prefix fails here). */
const ALLOWED: readonly string[] = [
  '8.8.8.8',
  '1.1.1.1',
  '2606:4700:4700::1111',
  '2a00:1450:4001:80b::200e',
  '::ffff:8.8.8.8',
  '9.255.255.255',
  '11.0.0.0',
  '100.63.255.255',
  '100.128.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '169.253.255.255',
  '192.167.255.255',
  '198.17.255.255',
  '198.20.0.0',
  '223.255.255.255',
];

describe('addressRefusal', () => {
  it.each(REFUSED)('refuses %s (%s)', (address, reason) => {
    expect(addressRefusal(address)).toBe(reason);
  });

  it.each(ALLOWED)('allows public unicast %s', (address) => {
    expect(addressRefusal(address)).toBeUndefined();
  });
});

describe('checkTargetUrl', () => {
  const refusal = (url: string, allowPrivate = false): WebhookTargetRefusedError => {
    try {
      checkTargetUrl(url, { allowPrivate });
    } catch (error) {
      if (error instanceof WebhookTargetRefusedError) return error;
      throw error;
    }
    throw new Error(`${url} was not refused`);
  };

  it.each([
    // Spellings of 127.0.0.1 that a string check misses; new URL() normalises them all.
    ['http://2130706433/', '127.0.0.1', 'loopback'],
    ['http://0x7f.1/', '127.0.0.1', 'loopback'],
    ['http://127.1/', '127.0.0.1', 'loopback'],
    ['http://017700000001/', '127.0.0.1', 'loopback'],
    ['http://0x7f000001/', '127.0.0.1', 'loopback'],
    ['http://127.0.0.1./', '127.0.0.1', 'loopback'],
    ['http://[::ffff:7f00:1]/', '::ffff:7f00:1', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1', 'loopback'],
    ['http://[::1]:8080/hook', '::1', 'loopback'],
    ['http://0/', '0.0.0.0', 'unspecified'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'linkLocal'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'fd00:ec2::254', 'uniqueLocal'],
    ['https://10.1.2.3:8443/hook', '10.1.2.3', 'private'],
    ['https://100.64.0.1/', '100.64.0.1', 'carrierGradeNat'],
    ['https://[::ffff:10.0.0.1]/', '::ffff:a00:1', 'private'],
  ])('refuses %s as %s (%s)', (url, address, reason) => {
    const error = refusal(url);
    expect(error.reason).toBe(reason);
    expect(error.address).toBe(address);
  });

  it.each([
    'ftp://example.com/',
    'file:///etc/passwd',
    'gopher://example.com:70/_',
    'ws://example.com/',
    'data:text/plain,hello',
    'javascript:alert(1)',
  ])('refuses the scheme of %s, even with allowPrivate', (url) => {
    expect(refusal(url).reason).toBe('scheme');
    expect(refusal(url, true).reason).toBe('scheme');
  });

  it.each(['https://user:secret@example.com/', 'https://user@example.com/', 'https://:secret@example.com/'])(
    'refuses credentials in %s',
    (url) => {
      expect(refusal(url).reason).toBe('credentials');
      expect(refusal(url).message).not.toContain('secret');
    },
  );

  it('refuses what is not a URL', () => {
    expect(refusal('not a url').reason).toBe('invalidUrl');
    expect(refusal('http://[::1/').reason).toBe('invalidUrl');
  });

  it.each([
    'https://hooks.example.com/cvm?token=abc',
    'http://8.8.8.8/',
    'https://[2606:4700:4700::1111]:8443/',
  ])('allows %s', (url) => {
    expect(checkTargetUrl(url, { allowPrivate: false }).href).toBe(new URL(url).href);
  });

  it('leaves host names to the connect-time guard (it resolves nothing)', () => {
    expect(checkTargetUrl('http://localhost:3000/', { allowPrivate: false }).hostname).toBe('localhost');
  });

  it('lets private literals through with allowPrivate, for local development', () => {
    expect(checkTargetUrl('http://127.0.0.1:3000/hook', { allowPrivate: true }).port).toBe('3000');
    expect(checkTargetUrl('http://[::1]:3000/', { allowPrivate: true }).hostname).toBe('[::1]');
  });

  it('throws a non-retryable ProvisionerError with a stable code, and keeps the path out of the message', () => {
    const error = refusal('http://169.254.169.254/latest/meta-data/iam?secret=x');
    expect(error).toBeInstanceOf(ProvisionerError);
    expect(error.name).toBe('WebhookTargetRefusedError');
    expect(error.code).toBe(WEBHOOK_TARGET_REFUSED);
    expect(error.code).toBe('WebhookTargetRefused');
    expect(error.retryable).toBe(false);
    expect(isRetryable(error)).toBe(false);
    expect(error.message).toContain('169.254.169.254');
    expect(error.message).toContain('linkLocal');
    expect(error.message).not.toMatch(/meta-data|secret/);
  });
});

interface FakeLookup {
  lookup: LookupFunction;
  calls: { hostname: string; options: LookupOptions }[];
}

/** A resolver whose answer depends on how often it was asked (1 on the first call). */
function fakeLookup(answers: (call: number) => string[]): FakeLookup {
  const calls: FakeLookup['calls'] = [];
  const lookup: LookupFunction = (hostname, options, callback) => {
    calls.push({ hostname, options });
    const addresses = answers(calls.length).map((address) => ({ address, family: isIP(address) }));
    process.nextTick(() => callback(null, addresses));
  };
  return { lookup, calls };
}

/** What a lookup function calls back with. */
function resolveWith(
  lookup: LookupFunction,
  hostname: string,
  options: LookupOptions,
): Promise<{ error: Error | null; address: string | LookupAddress[]; family: number | undefined }> {
  return new Promise((resolve) =>
    lookup(hostname, options, (error, address, family) => resolve({ error, address, family })),
  );
}

describe('guardLookup', () => {
  it('refuses the whole name when any one address is refused, whatever its position', async () => {
    for (const answer of [
      ['8.8.8.8', '10.0.0.1'],
      ['10.0.0.1', '8.8.8.8'],
    ]) {
      const { error, address } = await resolveWith(
        guardLookup(fakeLookup(() => answer).lookup),
        'mixed.example',
        { all: true },
      );
      expect(error).toBeInstanceOf(WebhookTargetRefusedError);
      expect(error).toMatchObject({ reason: 'private', address: '10.0.0.1', host: 'mixed.example' });
      expect(address).toEqual([]);
    }
  });

  it('judges every resolution afresh: public the first time, loopback the second is refused the second time', async () => {
    const fake = fakeLookup((call) => (call === 1 ? ['8.8.8.8'] : ['127.0.0.1']));
    const guarded = guardLookup(fake.lookup);
    const first = await resolveWith(guarded, 'rebind.example', { all: true });
    expect(first.error).toBeNull();
    expect(first.address).toEqual([{ address: '8.8.8.8', family: 4 }]);
    const second = await resolveWith(guarded, 'rebind.example', { all: true });
    expect(second.error).toBeInstanceOf(WebhookTargetRefusedError);
    expect(second.error).toMatchObject({ reason: 'loopback', address: '127.0.0.1' });
    expect(fake.calls).toHaveLength(2);
  });

  it('always resolves every address, and answers one (the checked first) when asked for one', async () => {
    const fake = fakeLookup(() => ['2606:4700:4700::1111', '1.1.1.1']);
    const one = await resolveWith(guardLookup(fake.lookup), 'one.example', { family: 0 });
    expect(one).toEqual({ error: null, address: '2606:4700:4700::1111', family: 6 });
    expect(fake.calls[0]?.options).toMatchObject({ all: true, family: 0 });
  });

  it('judges a lookup that ignores `all` and answers a single address', async () => {
    const single: LookupFunction = (_hostname, _options, callback) => callback(null, '169.254.169.254', 4);
    const { error } = await resolveWith(guardLookup(single), 'metadata.example', { all: true });
    expect(error).toMatchObject({ reason: 'linkLocal', address: '169.254.169.254' });
  });

  it('passes resolver errors through, and fails closed on an empty answer', async () => {
    const failing: LookupFunction = (hostname, _options, callback) =>
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    const failed = await resolveWith(guardLookup(failing), 'nowhere.example', { all: true });
    expect(failed.error).toMatchObject({ code: 'ENOTFOUND' });
    expect(failed.error).not.toBeInstanceOf(WebhookTargetRefusedError);
    const empty = await resolveWith(guardLookup(fakeLookup(() => []).lookup), 'empty.example', { all: true });
    expect(empty.error).toMatchObject({ code: 'ENOTFOUND' });
  });
});

/** A bare TCP server on loopback that counts connections and bytes: did anything at all reach it? */
interface TcpProbe {
  port: number;
  connections: number;
  bytes: number;
  /** Resolves when every connection it accepted has closed. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

async function startTcpProbe(): Promise<TcpProbe> {
  const closed: Promise<void>[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createTcpServer((socket) => {
    probe.connections += 1;
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      probe.bytes += chunk.length;
    });
    socket.on('error', () => {});
    closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const probe: TcpProbe = {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    connections: 0,
    bytes: 0,
    settled: async () => {
      await Promise.all(closed);
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return probe;
}

/** What request() rejected with (the test fails if it resolved). */
async function failureOf(url: string, dispatcher: Dispatcher): Promise<unknown> {
  try {
    const response = await request(url, { method: 'POST', body: '{}', dispatcher });
    await response.body.dump();
  } catch (error) {
    return error;
  }
  throw new Error(`${url} was delivered`);
}

describe('the guarded dispatcher, against real loopback servers', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const server = async (): Promise<LoopbackServer> => {
    const started = await startLoopbackServer((_request, res) => {
      res.writeHead(204);
      res.end();
    });
    cleanups.push(() => started.close());
    return started;
  };
  const probe = async (): Promise<TcpProbe> => {
    const started = await startTcpProbe();
    cleanups.push(() => started.close());
    return started;
  };
  const dispatcher = <T extends Dispatcher>(created: T): T => {
    cleanups.push(() => created.destroy());
    return created;
  };

  it('refuses an IP-literal loopback target before connecting, surfacing the guard error from request()', async () => {
    const tcp = await probe();
    const fake = fakeLookup(() => ['8.8.8.8']);
    const guarded = dispatcher(createGuardedDispatcher({ allowPrivate: false, lookup: fake.lookup }));
    const error = await failureOf(`http://127.0.0.1:${tcp.port}/hook`, guarded);
    // undici hands the connector's error to the request as it is: the same class, code and fields.
    expect(error).toBeInstanceOf(WebhookTargetRefusedError);
    expect(error).toMatchObject({
      code: 'WebhookTargetRefused',
      reason: 'loopback',
      address: '127.0.0.1',
      retryable: false,
    });
    expect(isRetryable(error)).toBe(false);
    expect(tcp.connections).toBe(0);
    expect(fake.calls).toHaveLength(0);
  });

  it('refuses an IPv6 loopback literal the same way', async () => {
    const guarded = dispatcher(createGuardedDispatcher({ allowPrivate: false }));
    expect(await failureOf('http://[::1]:9/hook', guarded)).toMatchObject({
      reason: 'loopback',
      address: '::1',
    });
  });

  it('refuses a host name whose lookup answers 127.0.0.1, and asks the resolver for every address', async () => {
    const target = await server();
    const fake = fakeLookup(() => ['127.0.0.1']);
    const guarded = dispatcher(createGuardedDispatcher({ allowPrivate: false, lookup: fake.lookup }));
    const error = await failureOf(target.url.replace('127.0.0.1', 'webhook.test'), guarded);
    expect(error).toBeInstanceOf(WebhookTargetRefusedError);
    expect(error).toMatchObject({ reason: 'loopback', address: '127.0.0.1', host: 'webhook.test' });
    expect(fake.calls.map((call) => [call.hostname, call.options.all])).toEqual([['webhook.test', true]]);
    expect(target.received).toEqual([]);
  });

  it('refuses a name answering [public, private] without connecting to either', async () => {
    const tcp = await probe();
    const fake = fakeLookup(() => ['8.8.8.8', '127.0.0.1']);
    const guarded = dispatcher(createGuardedDispatcher({ allowPrivate: false, lookup: fake.lookup }));
    const error = await failureOf(`http://mixed.test:${tcp.port}/`, guarded);
    expect(error).toMatchObject({ reason: 'loopback', address: '127.0.0.1', host: 'mixed.test' });
    expect(tcp.connections).toBe(0);
  });

  it('resolves and judges again on every connection attempt (a refusal is not cached, nor a pass)', async () => {
    const fake = fakeLookup(() => ['10.0.0.1']);
    const guarded = dispatcher(createGuardedDispatcher({ allowPrivate: false, lookup: fake.lookup }));
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(await failureOf('http://again.test:9/', guarded)).toMatchObject({ reason: 'private' });
    }
    expect(fake.calls).toHaveLength(2);
  });

  it('delivers to loopback with allowPrivate, by IP literal and by host name, over one kept-alive connection', async () => {
    const target = await server();
    const fake = fakeLookup(() => ['127.0.0.1']);
    const open = dispatcher(
      createGuardedDispatcher({ allowPrivate: true, lookup: fake.lookup, connections: 1 }),
    );
    const byName = target.url.replace('127.0.0.1', 'webhook.test');
    for (const url of [target.url, byName, byName]) {
      const response = await request(`${url}/hook`, { method: 'POST', body: '{}', dispatcher: open });
      await response.body.dump();
      expect(response.statusCode).toBe(204);
    }
    expect(target.received.map((r) => r.headers.host)).toEqual([
      new URL(target.url).host,
      new URL(byName).host,
      new URL(byName).host,
    ]);
    // The name's two requests shared one socket: pooled per origin, resolved once.
    expect(target.received[1]?.remotePort).toBe(target.received[2]?.remotePort);
    expect(fake.calls).toHaveLength(1);
  });

  it('lets other connection errors through as they are, so a guard refusal can be told apart', async () => {
    const tcp = await startTcpProbe();
    const closedPort = tcp.port;
    await tcp.close();
    const open = dispatcher(createGuardedDispatcher({ allowPrivate: true }));
    const error = await failureOf(`http://127.0.0.1:${closedPort}/`, open);
    expect(error).not.toBeInstanceOf(WebhookTargetRefusedError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
  });

  describe('the remoteAddress check alone (a lookup that lies past the DNS guard)', () => {
    /** Answers 127.0.0.1 for any name, unguarded: what the DNS layer would have to miss for this layer to act. */
    const lyingLookup: LookupFunction = (_hostname, options, callback) =>
      options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4);
    const guardedOnlyByPeer = () =>
      dispatcher(new Agent({ connect: guardConnector(buildConnector({ lookup: lyingLookup })) }));

    it.each(['http', 'https'])(
      'destroys a %s socket whose peer is loopback before a byte is sent (no request, no TLS ClientHello)',
      async (scheme) => {
        const tcp = await probe();
        const error = await failureOf(`${scheme}://public.example:${tcp.port}/hook`, guardedOnlyByPeer());
        expect(error).toBeInstanceOf(WebhookTargetRefusedError);
        expect(error).toMatchObject({ reason: 'loopback', address: '127.0.0.1', host: 'public.example' });
        await tcp.settled();
        expect(tcp.connections).toBe(1);
        expect(tcp.bytes).toBe(0);
      },
    );

    it('would have delivered without it: the same lying lookup reaches the server through a plain connector', async () => {
      const target = await server();
      const plain = dispatcher(new Agent({ connect: buildConnector({ lookup: lyingLookup }) }));
      const response = await request(`${target.url.replace('127.0.0.1', 'public.example')}/hook`, {
        method: 'POST',
        body: '{}',
        dispatcher: plain,
      });
      await response.body.dump();
      expect(response.statusCode).toBe(204);
      expect(target.received).toHaveLength(1);
    });
  });
});
