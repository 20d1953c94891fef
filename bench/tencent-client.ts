/**
 * Tencent client benchmark (issues 3 and 15), all on loopback, printing figures only:
 *   - issue 15: our signed RunInstances round trip against a bare undici `request()` of the same body, same
 *     header count and same Pool options to the same server, sequential and 16 in flight, in interleaved
 *     rounds; counts first (requests per round trip, HMACs and hashes per signature), then ratios, then
 *     absolute figures with the machine. Goal >= 0.9x;
 *   - issue 3: TC3 signatures per second, ours vs the official SDK's Sign.sign3, and RunInstances round trips
 *     per second, ours vs the SDK's CvmClient. Goals: signing at least on par; round trips >= 2x the SDK's.
 * npm run bench:tencent
 */
import crypto from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus } from 'node:os';
import { type Dispatcher, Pool } from 'undici';
import { createTencentClient } from '../lib/tencent/client.ts';
import { staticCredentials } from '../lib/tencent/credentials.ts';
import { createTc3KeyCache, signTc3, tc3Date } from '../lib/tencent/sign-tc3.ts';
import { sdkSign3 } from '../test/helpers/tencent-sdk.ts';

const require = createRequire(import.meta.url);
type SdkClient = { RunInstances(req: Record<string, unknown>): Promise<unknown> };
const { cvm } = require('tencentcloud-sdk-nodejs-cvm') as {
  cvm: { v20170312: { Client: new (config: Record<string, unknown>) => SdkClient } };
};

const SECRET_ID = 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE';
const SECRET_KEY = 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE';
const PARAMS = {
  Placement: { Zone: 'ap-guangzhou-3' },
  ImageId: 'img-pmqg1cw7',
  InstanceType: 'S5.MEDIUM4',
  DataDisks: [{ DiskType: 'CLOUD_PREMIUM', DiskSize: 100 }],
  SecurityGroupIds: ['sg-p1ezv4wz'],
  LoginSettings: { KeyIds: ['skey-b4vakk62'] },
  InstanceName: 'web {R:1}',
  ClientToken: 'c0ffee00-0000-4000-8000-000000000001',
};
const BODY = JSON.stringify(PARAMS);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);

function perSecond(fn: () => void, ms: number): number {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
  }
  return (n / (performance.now() - start)) * 1000;
}

async function roundTrips(call: () => Promise<unknown>, inFlight: number, ms: number): Promise<number> {
  let done = 0;
  const start = performance.now();
  const worker = async () => {
    while (performance.now() - start < ms) {
      await call();
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return (done / (performance.now() - start)) * 1000;
}

let served = 0;
const server = createServer((req, res) => {
  served++;
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      '{"Response":{"InstanceIdSet":["ins-abcdefgh"],"RequestId":"3c140219-cfe9-470e-b241-907877d6fb03"}}',
    );
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;

const origin = `http://127.0.0.1:${port}`;
const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
const machine = `${availableParallelism()} cores (${cpu}), node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;

// ---- issue 15: ours vs a bare undici request of the same body ----
const ours = createTencentClient({
  endpoint: origin,
  signMethod: 'TC3-HMAC-SHA256',
  credentials: staticCredentials(SECRET_ID, SECRET_KEY),
});
const callOurs = () => ours.call('RunInstances', PARAMS, { region: 'ap-guangzhou' });

// The client's Pool options (lib/tencent/client.ts, newPool) and the headers it sends, with a fixed
// Authorization of the real one's length: what is left of a round trip when nothing is signed or parsed.
const bare = new Pool(origin, { connections: 32, keepAliveTimeout: 30_000 });
const BARE_HEADERS = {
  authorization: `TC3-HMAC-SHA256 Credential=${SECRET_ID}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=${'0'.repeat(64)}`,
  'content-type': 'application/json',
  'x-tc-action': 'RunInstances',
  'x-tc-version': '2017-03-12',
  'x-tc-timestamp': '1551113065',
  'x-tc-region': 'ap-guangzhou',
};
const callBare = async () => {
  const response = await bare.request({ path: '/', method: 'POST', headers: BARE_HEADERS, body: BODY });
  return response.body.text();
};

/** Counts calls to crypto's HMAC and hash constructors and JSON.stringify while `fn` runs. */
async function countCalls(fn: () => Promise<unknown>, n: number) {
  const counts = { hmac: 0, hash: 0, stringify: 0, requests: 0 };
  const { createHmac, createHash, hash } = crypto;
  const { stringify } = JSON;
  crypto.createHmac = ((...args: Parameters<typeof createHmac>) => {
    counts.hmac++;
    return createHmac(...args);
  }) as typeof createHmac;
  crypto.createHash = ((...args: Parameters<typeof createHash>) => {
    counts.hash++;
    return createHash(...args);
  }) as typeof createHash;
  crypto.hash = ((...args: Parameters<typeof hash>) => {
    counts.hash++;
    return hash(...args);
  }) as typeof hash;
  JSON.stringify = ((...args: Parameters<typeof stringify>) => {
    counts.stringify++;
    return stringify(...args);
  }) as typeof stringify;
  // The named imports of node:crypto in lib/ are live bindings; this points them at the counters.
  syncBuiltinESMExports();
  const before = served;
  try {
    for (let i = 0; i < n; i++) await fn();
  } finally {
    crypto.createHmac = createHmac;
    crypto.createHash = createHash;
    crypto.hash = hash;
    JSON.stringify = stringify;
    syncBuiltinESMExports();
  }
  counts.requests = served - before;
  const per = (x: number) => (x / n).toFixed(2);
  return {
    requests: per(counts.requests),
    hmac: per(counts.hmac),
    hash: per(counts.hash),
    stringify: per(counts.stringify),
  };
}

/** Alternating rounds (A B B A …) so that machine noise lands on both sides alike; returns calls per second. */
async function interleaved(a: () => Promise<unknown>, b: () => Promise<unknown>, inFlight: number) {
  const ROUNDS = 10;
  const ROUND_MS = 400;
  await roundTrips(a, inFlight, 300);
  await roundTrips(b, inFlight, 300);
  const rates = { a: [] as number[], b: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
    for (const side of order) rates[side].push(await roundTrips(side === 'a' ? a : b, inFlight, ROUND_MS));
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const ratios = rates.a.map((x, i) => x / (rates.b[i] ?? x)).sort((x, y) => x - y);
  return {
    a: mean(rates.a),
    b: mean(rates.b),
    ratio: mean(rates.a) / mean(rates.b),
    min: ratios[0] ?? 0,
    max: ratios.at(-1) ?? 0,
  };
}

await callOurs();
await callBare();
const ourCounts = await countCalls(callOurs, 200);
const bareCounts = await countCalls(callBare, 200);
console.log('issue 15: signed RunInstances round trip vs a bare undici request of the same body (loopback)');
console.log(
  `counts per round trip  ours: ${ourCounts.requests} requests, ${ourCounts.hmac} HMACs, ${ourCounts.hash} SHA-256, ` +
    `${ourCounts.stringify} JSON.stringify   bare: ${bareCounts.requests} requests, ${bareCounts.hmac} HMACs, ` +
    `${bareCounts.hash} SHA-256, ${bareCounts.stringify} JSON.stringify`,
);
const figures: string[] = [];
for (const inFlight of [1, 16]) {
  const r = await interleaved(callOurs, callBare, inFlight);
  const label = inFlight === 1 ? 'sequential' : `${inFlight} in flight`;
  console.log(
    `ratio ours/bare ${label.padEnd(13)} ${r.ratio.toFixed(2)}x   (per round ${r.min.toFixed(2)}–${r.max.toFixed(2)}; goal >= 0.90x)`,
  );
  figures.push(`round trips/s ${label.padEnd(13)} ours ${fmt(r.a)}   bare undici ${fmt(r.b)}`);
}
for (const line of figures) console.log(line);

// Where the gap is: CPU per round trip (client and server share this process, so noise from other processes
// on the machine does not count), and the client's own work per call with a dispatcher that answers at once.
const cpuPerCall = async (call: () => Promise<unknown>, n: number) => {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await call();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
};
const cpuUsed = { ours: 0, bare: 0 };
for (let r = 0; r < 6; r++) {
  cpuUsed.ours += await cpuPerCall(callOurs, 1000);
  cpuUsed.bare += await cpuPerCall(callBare, 1000);
}
const ANSWER =
  '{"Response":{"InstanceIdSet":["ins-abcdefgh"],"RequestId":"3c140219-cfe9-470e-b241-907877d6fb03"}}';
const instant = {
  request: async () => ({ statusCode: 200, body: { text: async () => ANSWER } }),
} as unknown as Dispatcher;
const offline = createTencentClient({
  endpoint: origin,
  signMethod: 'TC3-HMAC-SHA256',
  credentials: staticCredentials(SECRET_ID, SECRET_KEY),
  dispatcher: instant,
});
const callOffline = () => offline.call('RunInstances', PARAMS, { region: 'ap-guangzhou' });
await cpuPerCall(callOffline, 20_000);
const ownWork = await cpuPerCall(callOffline, 50_000);
console.log(
  `CPU µs per round trip  ours ${(cpuUsed.ours / 6).toFixed(1)}   bare ${(cpuUsed.bare / 6).toFixed(1)}   ` +
    `our client's own work per call (no network) ${ownWork.toFixed(1)}`,
);
console.log(`machine: ${machine}; 10 interleaved rounds of 400 ms per figure after warm-up`);
await bare.close();

// ---- issue 3: ours vs the official SDK ----
console.log(
  `\nissue 3: vs the official SDK; loopback server on 127.0.0.1:${port}; 2 s per figure after warm-up`,
);

let ts = 1551113065;
const input = () => ({
  method: 'POST' as const,
  host: 'cvm.tencentcloudapi.com',
  contentType: 'application/json',
  payload: BODY,
  timestamp: ts++,
  service: 'cvm',
  secretId: SECRET_ID,
  secretKey: SECRET_KEY,
});
perSecond(() => signTc3(input()), 500);
perSecond(() => sdkSign3(input()), 500);
const oursSign = perSecond(() => signTc3(input()), 2000);
const sdkSign = perSecond(() => sdkSign3(input()), 2000);
console.log(
  `TC3 signatures/s     ours ${fmt(oursSign)}   SDK Sign.sign3 ${fmt(sdkSign)}   ratio ${(oursSign / sdkSign).toFixed(2)}x   (both derive the key each time)`,
);
// As the client signs: the key from its cache (derived again only when the UTC date changes).
const keys = createTc3KeyCache();
const signCached = () => {
  const i = input();
  return signTc3(i, keys.get(i.secretKey, tc3Date(i.timestamp), i.service));
};
perSecond(signCached, 500);
const cachedSign = perSecond(signCached, 2000);
console.log(
  `TC3 signatures/s     ours, key cached ${fmt(cachedSign)}   ratio to SDK ${(cachedSign / sdkSign).toFixed(2)}x`,
);

const sdk = new cvm.v20170312.Client({
  credential: { secretId: SECRET_ID, secretKey: SECRET_KEY },
  region: 'ap-guangzhou',
  profile: { httpProfile: { endpoint: `127.0.0.1:${port}`, protocol: 'http://' } },
});
const callSdk = () => sdk.RunInstances(PARAMS);

for (const inFlight of [1, 16]) {
  await roundTrips(callOurs, inFlight, 500);
  await roundTrips(callSdk, inFlight, 500);
  const a = await roundTrips(callOurs, inFlight, 2000);
  const b = await roundTrips(callSdk, inFlight, 2000);
  const label = inFlight === 1 ? 'sequential' : `${inFlight} in flight`;
  console.log(
    `round trips/s ${label.padEnd(13)} ours ${fmt(a)}   SDK CvmClient ${fmt(b)}   ratio ${(a / b).toFixed(2)}x`,
  );
}

await ours.close();
server.closeAllConnections();
server.close();
