import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The log capture of the end-to-end suite (test/e2e/setup.ts): every line the local stack's log sink and the
 * child processes the tests start write, and every secret the tests hand them, so that one scan can say no
 * secret reached a log line.
 */

export interface CapturedLine {
  /** Where it came from: `local stack`, or the child's command. */
  source: string;
  line: string;
}

export interface KnownSecret {
  /** What it is, for the report (never the value). */
  name: string;
  value: string;
}

export interface Leak {
  source: string;
  what: string;
  /** The line with the secret masked. */
  line: string;
}

const lines: CapturedLine[] = [];
const secrets = new Map<string, string>();

/** Adds a line to the capture. */
export function captureLine(source: string, line: string): void {
  lines.push({ source, line });
}

/** Every line captured so far in this test file. */
export const capturedLines = (): readonly CapturedLine[] => lines;

/** Registers a secret the scan must never find (values too short to be told from other text are left out). */
export function knowSecret(name: string, value: string | undefined): void {
  if (value && value.length >= 8) secrets.set(value, name);
}

export const knownSecrets = (): KnownSecret[] => [...secrets].map(([value, name]) => ({ name, value }));

/** Settings whose values are secrets (an id is not: TENCENTCLOUD_SECRET_ID, SIM_SECRET_ID). */
const SECRET_SETTING = /SECRET|TOKEN|PASSWORD|_KEY$/;
const NOT_A_SECRET = /_ID$|^API_TOKENS$|_FILE$|_URL$/;

/** Registers the secret settings of an environment a test gave the stack or a child. */
export function knowSecretsOf(source: string, env: Readonly<Record<string, string | undefined>> = {}): void {
  for (const [key, value] of Object.entries(env))
    if (SECRET_SETTING.test(key) && !NOT_A_SECRET.test(key)) knowSecret(`${source} ${key}`, value);
}

/** The secrets the local stack keeps in its data directory (made at its first start). */
export const DATA_DIR_SECRETS = ['dev-token', 'idempotency-secret', 'slack-signing-secret', 'webhook-secret'];

/** Registers the secrets kept in a local stack's data directory, those that exist. */
export function knowSecretsIn(dataDir: string | undefined): void {
  if (!dataDir) return;
  for (const name of DATA_DIR_SECRETS) {
    const file = join(dataDir, name);
    if (existsSync(file)) knowSecret(`${name} of ${dataDir}`, readFileSync(file, 'utf8').trim());
  }
}

/**
 * Shapes of secrets whatever their value: a bearer token, a Standard Webhooks secret, a dev token, a Slack
 * signature, a TC3 signature (a signature is not a key, but a header carrying one should not be logged either).
 */
const SHAPES: ReadonlyArray<[string, RegExp]> = [
  ['a bearer token', /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/],
  ['a webhook secret', /\bwhsec_[A-Za-z0-9+/=]{20,}/],
  ['a dev token', /\bdev_[A-Za-z0-9_-]{20,}/],
  ['a Slack signature', /\bv0=[0-9a-f]{64}\b/],
  ['a Tencent signature', /Signature=[0-9a-f]{64}\b/],
];

/** A log line: a JSON object on a line of its own (what the functions and the stack write; not a banner). */
export function isLogLine(line: string): boolean {
  const text = line.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return false;
  try {
    return typeof JSON.parse(text) === 'object';
  } catch {
    return false;
  }
}

/** Every known secret or secret-shaped text in the log lines among `captured`. */
export function leaksIn(
  captured: readonly CapturedLine[],
  known: readonly KnownSecret[] = knownSecrets(),
): Leak[] {
  const leaks: Leak[] = [];
  for (const { source, line } of captured) {
    if (!isLogLine(line)) continue;
    let masked = line;
    const found: string[] = [];
    for (const secret of known) {
      if (!masked.includes(secret.value)) continue;
      found.push(secret.name);
      masked = masked.replaceAll(secret.value, '[SECRET]');
    }
    for (const [what, shape] of SHAPES) {
      if (!shape.test(masked)) continue;
      found.push(what);
      masked = masked.replace(new RegExp(shape.source, 'g'), '[SECRET]');
    }
    for (const what of found) leaks.push({ source, what, line: masked.slice(0, 500) });
  }
  return leaks;
}

/** Splits a stream's chunks into lines, each to `onLine` (the last, unterminated one when the stream ends). */
export function lineSplitter(onLine: (line: string) => void): {
  push(chunk: Buffer | string): void;
  end(): void;
} {
  let rest = '';
  return {
    push(chunk) {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) onLine(part);
    },
    end() {
      if (rest) onLine(rest);
      rest = '';
    },
  };
}
