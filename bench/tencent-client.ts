/**
 * Tencent client benchmark (issue 3), all on loopback, printing figures only:
 *   - TC3 signatures per second: ours vs the official SDK's Sign.sign3;
 *   - RunInstances round trips per second against one loopback server: ours vs the SDK's CvmClient,
 *     sequential and 16 in flight.
 * Goals: signing at least on par; round trips >= 2x the SDK's.   npm run bench:tencent
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createTencentClient } from '../lib/tencent/client.ts';
import { staticCredentials } from '../lib/tencent/credentials.ts';
import { signTc3 } from '../lib/tencent/sign-tc3.ts';
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

const server = createServer((req, res) => {
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

console.log(`node ${process.version}; loopback server on 127.0.0.1:${port}; 2 s per figure after warm-up`);

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
  `TC3 signatures/s     ours ${fmt(oursSign)}   SDK Sign.sign3 ${fmt(sdkSign)}   ratio ${(oursSign / sdkSign).toFixed(2)}x`,
);

const ours = createTencentClient({
  endpoint: `http://127.0.0.1:${port}`,
  signMethod: 'TC3-HMAC-SHA256',
  credentials: staticCredentials(SECRET_ID, SECRET_KEY),
});
const sdk = new cvm.v20170312.Client({
  credential: { secretId: SECRET_ID, secretKey: SECRET_KEY },
  region: 'ap-guangzhou',
  profile: { httpProfile: { endpoint: `127.0.0.1:${port}`, protocol: 'http://' } },
});
const callOurs = () => ours.call('RunInstances', PARAMS, { region: 'ap-guangzhou' });
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
