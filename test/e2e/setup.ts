/**
 * The end-to-end suite's log capture (vitest setupFiles of the e2e project): every line the local stack's log
 * sink receives — its own and every function's, whatever sink the test passed — and every line of the child
 * processes the tests start (`npm start`, the CLIs, `serverless`), kept with the secrets the tests hand them.
 * After each test file, its log lines are scanned: no Tencent key, password, token or signing secret may be in
 * one (test/helpers/log-capture.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, expect, vi } from 'vitest';
import { DEFAULT_SIM_SECRET_KEY } from '../../local/cvm-simulator/server.ts';
import { MATTERMOST_TOKEN, SLACK_SECRET } from '../helpers/chat.ts';
import { TOKENS } from '../helpers/events.ts';
import { capturedLines, knowSecret, leaksIn } from '../helpers/log-capture.ts';
import { OTHER_WEBHOOK_SECRET, TEST_WEBHOOK_SECRET } from '../helpers/poll.ts';
import { SEED_PASSWORD } from '../helpers/requests.ts';

vi.mock('../../local/stack.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../local/stack.ts')>();
  const capture = await import('../helpers/log-capture.ts');
  const startLocalStack: typeof original.startLocalStack = async (options = {}) => {
    capture.knowSecretsOf('the stack’s', options.env ?? process.env);
    const sink = options.logSink ?? ((line: string) => process.stdout.write(`${line}\n`));
    const stack = await original.startLocalStack({
      ...options,
      logSink: (line) => {
        capture.captureLine('local stack', line);
        sink(line);
      },
    });
    capture.knowSecret('the dev token', stack.devToken);
    if (stack.slackSigningSecretFile)
      capture.knowSecret(
        'the stack’s Slack signing secret',
        readFileSync(stack.slackSigningSecretFile, 'utf8').trim(),
      );
    capture.knowSecretsIn(options.dataDir ?? undefined);
    return stack;
  };
  return { ...original, startLocalStack };
});

vi.mock('node:child_process', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:child_process')>();
  const capture = await import('../helpers/log-capture.ts');
  /** Tees a child's stdout and stderr into the capture, and learns the secrets of the environment it got. */
  const watch = (child: ChildProcess | undefined, args: unknown[]): void => {
    if (!child) return;
    const [command, ...rest] = args;
    const argv = Array.isArray(rest[0]) ? (rest[0] as unknown[]).map(String) : [];
    const source = [String(command), ...argv].join(' ').slice(0, 80);
    const options = rest.find(
      (arg): arg is { env?: Record<string, string | undefined> } =>
        typeof arg === 'object' && arg !== null && !Array.isArray(arg),
    );
    // Only what the test added: the worker's own environment is not the tests' to keep secret.
    const given = Object.fromEntries(
      Object.entries(options?.env ?? {}).filter(([key, value]) => process.env[key] !== value),
    );
    capture.knowSecretsOf(source, given);
    const dataDir = given.DATA_DIR;
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const lines = capture.lineSplitter((line) => capture.captureLine(source, line));
      stream.on('data', (chunk: Buffer | string) => {
        // The stack makes its secrets at start: learn them before its first lines are scanned.
        capture.knowSecretsIn(dataDir);
        lines.push(chunk);
      });
      stream.on('end', () => lines.end());
    }
  };
  const spawn = ((...args: Parameters<typeof original.spawn>) => {
    const child = original.spawn(...args);
    watch(child, args);
    return child;
  }) as typeof original.spawn;
  const execFile = ((...args: Parameters<typeof original.execFile>) => {
    const child = original.execFile(...args);
    watch(child, args);
    return child;
  }) as typeof original.execFile;
  // promisify(execFile) resolves with { stdout, stderr }: keep that, and watch the child it starts.
  const promised = (original.execFile as unknown as Record<symbol, (...args: unknown[]) => Promise<unknown>>)[
    promisify.custom
  ];
  Object.defineProperty(execFile, promisify.custom, {
    value: (...args: unknown[]) => {
      const promise = promised?.(...args) as Promise<unknown> & { child?: ChildProcess };
      watch(promise.child, args);
      return promise;
    },
  });
  return { ...original, default: { ...original, spawn, execFile }, spawn, execFile };
});

// The secrets the suite's helpers use, whoever passes them on.
knowSecret('the simulator’s Tencent SecretKey', DEFAULT_SIM_SECRET_KEY);
knowSecret('the seed examples’ password', SEED_PASSWORD);
knowSecret('the test webhook secret', TEST_WEBHOOK_SECRET);
knowSecret('the other test webhook secret', OTHER_WEBHOOK_SECRET);
knowSecret('the test Slack signing secret', SLACK_SECRET);
knowSecret('the test Mattermost token', MATTERMOST_TOKEN);
for (const { name, token } of Object.values(TOKENS)) knowSecret(`${name}’s bearer token`, token);

afterAll(() => {
  expect(leaksIn(capturedLines()), 'secrets in the log lines of this file').toEqual([]);
});
