/**
 * Simulator benchmark (issue 4), printing figures only:
 *   - DescribeInstances calls per second it sustains with rate limits off (goal >= 5,000/s, so it is never
 *     the bottleneck of other benchmarks): signed TC3 requests from 16 in-flight callers, with the simulator
 *     in its own process (`npm run simulator`) as other benchmarks and the local stack use it, and in-process;
 *   - heap used by 10,000 instances.
 *   npm run bench:simulator
 */
import { spawn } from 'node:child_process';
import { createTencentClient } from '../lib/tencent/client.ts';
import { staticCredentials } from '../lib/tencent/credentials.ts';
import {
  DEFAULT_SIM_SECRET_ID,
  DEFAULT_SIM_SECRET_KEY,
  startSimulator,
} from '../local/cvm-simulator/index.ts';

const gc = (globalThis as { gc?: () => void }).gc;
async function heapMiB(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc?.();
  }
  return process.memoryUsage().heapUsed / 2 ** 20;
}

const simulator = await startSimulator({ rateLimits: false, quota: 20_000, bootMs: 0 });
const client = createTencentClient({
  endpoint: simulator.url,
  signMethod: 'TC3-HMAC-SHA256',
  credentials: staticCredentials(DEFAULT_SIM_SECRET_ID, DEFAULT_SIM_SECRET_KEY),
});
const region = { region: 'ap-guangzhou' };

const seeded = await client.call(
  'RunInstances',
  { Placement: { Zone: 'ap-guangzhou-3' }, ImageId: 'img-pmqg1cw7', InstanceCount: 10 },
  region,
);
const ids = seeded.InstanceIdSet as string[];

console.log(
  `node ${process.version}; rate limits off; ${gc ? 'heap after gc' : 'no --expose-gc: heap figures are rough'}`,
);

/** DescribeInstances of 10 ids, signed TC3, from 16 callers in flight, for `ms` milliseconds. */
async function describeRate(client: typeof remote, ids: string[], ms: number): Promise<number> {
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() - start < ms) {
        await client.call('DescribeInstances', { InstanceIds: ids, Limit: 100 }, region);
        done++;
      }
    }),
  );
  return (done / (performance.now() - start)) * 1000;
}

// The simulator in its own process, as `npm run simulator` runs it for the local stack and other benchmarks.
const child = spawn(process.execPath, [new URL('../local/cvm-simulator/main.ts', import.meta.url).pathname], {
  env: { PATH: process.env.PATH ?? '', SIMULATOR_PORT: '0', SIM_RATE_LIMITS: 'off', SIM_BOOT_MS: '0' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const childUrl = await new Promise<string>((resolve, reject) => {
  child.stdout.on('data', (chunk: Buffer) => {
    const found = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(chunk.toString());
    if (found?.[1]) resolve(found[1]);
  });
  child.once('exit', () => reject(new Error('the simulator process exited')));
});
const remote = createTencentClient({
  endpoint: childUrl,
  signMethod: 'TC3-HMAC-SHA256',
  credentials: staticCredentials(DEFAULT_SIM_SECRET_ID, DEFAULT_SIM_SECRET_KEY),
});
const remoteSeed = await remote.call(
  'RunInstances',
  { Placement: { Zone: 'ap-guangzhou-3' }, ImageId: 'img-pmqg1cw7', InstanceCount: 10 },
  region,
);
const remoteIds = remoteSeed.InstanceIdSet as string[];
await describeRate(remote, remoteIds, 1000);
const separate = await describeRate(remote, remoteIds, 3000);
await remote.close();
child.kill('SIGTERM');
console.log(
  `DescribeInstances, simulator in its own process: ${Math.round(separate).toLocaleString('en-US')} calls/s (goal >= 5,000/s)`,
);

await describeRate(client, ids, 1000);
const shared = await describeRate(client, ids, 3000);
console.log(
  `DescribeInstances, simulator in the caller's process (one thread signs and verifies): ${Math.round(shared).toLocaleString('en-US')} calls/s`,
);

const before = await heapMiB();
for (let i = 0; i < 20; i++) {
  await client.call(
    'RunInstances',
    { Placement: { Zone: 'ap-guangzhou-3' }, ImageId: 'img-pmqg1cw7', InstanceCount: 500 },
    region,
  );
}
const after = await heapMiB();
console.log(
  `10,000 instances: ${simulator.state.instances.size.toLocaleString('en-US')} held, heap +${(after - before).toFixed(1)} MiB ` +
    `(${(((after - before) * 2 ** 20) / 10_000 / 1024).toFixed(2)} KiB each), heap used ${after.toFixed(1)} MiB`,
);
const paged = await callsPerSecondFiltered(2000);
console.log(
  `DescribeInstances over 10,010 instances (zone filter, Limit 100): ${Math.round(paged).toLocaleString('en-US')} calls/s`,
);

async function callsPerSecondFiltered(ms: number): Promise<number> {
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() - start < ms) {
        await client.call(
          'DescribeInstances',
          { Filters: [{ Name: 'zone', Values: ['ap-guangzhou-3'] }], Limit: 100 },
          region,
        );
        done++;
      }
    }),
  );
  return (done / (performance.now() - start)) * 1000;
}

await client.close();
await simulator.close();
