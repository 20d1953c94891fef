import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SEED_PASSWORD } from '../helpers/requests.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * `npm start` as a user runs it: a real process, its banner, its refusals to start, and its stop. Each run
 * gets ports the system picks and a data directory of its own.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];

function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cvmp-start-'));
  dirs.push(dir);
  return dir;
}

/** `npm start` (through npm, as a user types it) or the stack's own entry point, with `env` added. */
function start(env: Record<string, string>, via: 'npm' | 'node' = 'node'): Started {
  const child =
    via === 'npm'
      ? spawn('npm', ['start', '--silent'], { cwd: ROOT, env: { ...process.env, ...env } })
      : spawn(process.execPath, ['local/main.ts'], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', ...env },
        });
  children.push(child);
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

const ephemeral = { PORT: '0', SIMULATOR_PORT: '0' };
const urlOf = (output: string) => /API {8}(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the npm start banner', () => {
  it('shows how to create a job without writing the seed example password into the log', async () => {
    const run = start({ ...ephemeral, DATA_DIR: freshDataDir() });
    await waitFor('the banner', () => urlOf(run.output()));
    expect(run.output()).toContain('--data @events/seed/example-2.json');
    expect(run.output()).not.toContain(SEED_PASSWORD);
    expect(run.output()).toMatch(/token {6}dev_\S+ {3}\(caller "dev"/);
  });

  it('shows a signed chat command that works as printed (openssl and curl)', async () => {
    const run = start({ ...ephemeral, DATA_DIR: freshDataDir() });
    await waitFor('the chat recipe', () => /curl -sS -X POST .*chatops.*\n/.test(run.output()) || undefined);
    const lines = run.output().split('\n');
    const first = lines.findIndex((line) => line.trim().startsWith('SECRET='));
    const last = lines.findIndex((line, i) => i > first && line.includes('/v1/chatops/slack'));
    const recipe = lines.slice(first, last + 1).join('\n');
    expect(recipe).toMatch(/openssl dgst -sha256 -hmac/);
    const answer = await new Promise<string>((resolve, reject) => {
      const shell = spawn('bash', ['-c', recipe]);
      let out = '';
      shell.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      shell.on('error', reject);
      shell.on('exit', () => resolve(out));
    });
    const reply = JSON.parse(answer) as { response_type: string; text: string };
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('shows how to watch a job’s webhooks at the stack’s own sink, and never prints the signing secret', async () => {
    const dataDir = freshDataDir();
    const run = start({ ...ephemeral, DATA_DIR: dataDir });
    const url = await waitFor('the banner', () => urlOf(run.output()));
    await waitFor('the watch line', () => run.output().includes('/_local/webhooks?jobId=') || undefined);
    expect(run.output()).toContain(`curl -sS '${url}/_local/webhooks?jobId=<jobId>'`);
    const secret = readFileSync(join(dataDir, 'webhook-secret'), 'utf8').trim();
    expect(secret).toMatch(/^whsec_/);
    expect(run.output()).not.toContain(secret);
  });

  it('names the callers of API_TOKENS instead of a dev token when API_TOKENS is set', async () => {
    const hash = (token: string) => createHash('sha256').update(token).digest('hex');
    const run = start({
      ...ephemeral,
      DATA_DIR: freshDataDir(),
      API_TOKENS: `alice:${hash('a-token')},bob:${hash('b-token')}`,
    });
    await waitFor('the banner', () => urlOf(run.output()));
    expect(run.output()).toContain('callers    alice, bob');
    expect(run.output()).not.toContain('dev_');
    expect(run.output()).not.toContain('<one of your API_TOKENS>');
  });
});

describe('npm start refusing to start', () => {
  it('says in one line that the data directory is in use by another stack, and re-enqueues nothing', async () => {
    const dataDir = freshDataDir();
    const first = start({ ...ephemeral, DATA_DIR: dataDir });
    await waitFor('the first stack', () => urlOf(first.output()));
    const second = start({ ...ephemeral, DATA_DIR: dataDir });
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/^npm start: .* is in use by another local stack \(process \d+\)/m);
    expect(second.output()).not.toMatch(/\n\s+at /);
    expect(second.output()).not.toContain('Re-enqueued');
  });

  it('says in one line that the port is taken, and which setting chooses another', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const run = start({ ...ephemeral, PORT: String(port), DATA_DIR: freshDataDir() });
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`npm start: port ${port} is in use`);
      expect(run.output()).toContain('PORT=');
      expect(run.output()).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });

  it('says in one line that another TENCENTCLOUD_ENDPOINT needs its keys', async () => {
    const run = start({
      ...ephemeral,
      DATA_DIR: freshDataDir(),
      TENCENTCLOUD_ENDPOINT: 'https://cvm.tencentcloudapi.com',
    });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(
      /^npm start: TENCENTCLOUD_ENDPOINT is https:\/\/cvm\.tencentcloudapi\.com, but no keys for it: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY/m,
    );
  });

  it('names the setting at fault in one line for an invalid configuration', async () => {
    const run = start({ ...ephemeral, DATA_DIR: freshDataDir(), EXTRA_ZONES: 'not a zone' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/^npm start: Invalid configuration: EXTRA_ZONES/m);
  });
});

describe('stopping npm start', () => {
  it('stops the whole stack on a plain SIGTERM to npm', async () => {
    const run = start({ ...ephemeral, DATA_DIR: freshDataDir() }, 'npm');
    const url = await waitFor('the banner', () => urlOf(run.output()), 30_000);
    expect((await fetch(`${url}/v1/jobs/x`)).status).toBe(401);
    run.child.kill('SIGTERM');
    await run.exited;
    await waitFor(
      'the API to stop answering',
      () =>
        fetch(`${url}/v1/jobs/x`).then(
          () => undefined,
          () => true,
        ),
      10_000,
    );
  });
});
