import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_SCHEDULE_MS,
  loadConfig,
  loadValidationSettings,
  parseDurations,
  requireSettings,
} from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const secret = (bytes: number, fill = 3) => `whsec_${Buffer.alloc(bytes, fill).toString('base64')}`;

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the defaults of docs/configuration.md to an empty environment', () => {
    expect(loadConfig({})).toMatchObject({
      VALIDATION_PROFILE: 'seed-2017',
      TENCENTCLOUD_SIGN_METHOD: 'TC3-HMAC-SHA256',
      AUTH_MODE: 'iam',
      LOG_LEVEL: 'info',
    });
  });

  it('treats an empty variable as unset (serverless.yml passes "" for an unset guardrail)', () => {
    expect(loadConfig({ ALLOWED_ZONES: '', MAX_INSTANCES_PER_JOB: ' ', EXTRA_ZONES: '' })).not.toHaveProperty(
      'ALLOWED_ZONES',
    );
  });

  it('names every invalid variable in one error', () => {
    expect(
      problemsOf({ VALIDATION_PROFILE: 'nope', MAX_INSTANCES_PER_JOB: '0', AUTH_MODE: 'token' }).join('\n'),
    ).toMatch(/VALIDATION_PROFILE[\s\S]*MAX_INSTANCES_PER_JOB/);
  });

  it('reads API_TOKENS as names and lower-case hashes', () => {
    expect(
      loadConfig({ API_TOKENS: ` alice:${sha('a').toUpperCase()} , bob:${sha('b')}` }).API_TOKENS,
    ).toEqual([
      { name: 'alice', sha256: sha('a') },
      { name: 'bob', sha256: sha('b') },
    ]);
  });

  it('refuses API_TOKENS that are not name:sha256hex, saying how to make one', () => {
    expect(problemsOf({ API_TOKENS: 'alice:not-a-hash' })).toEqual([
      expect.stringContaining('npm run token'),
    ]);
  });

  it('refuses one token given to two callers (the second would authenticate as the first)', () => {
    expect(problemsOf({ API_TOKENS: `alice:${sha('same')},bob:${sha('same')}` })).toEqual([
      expect.stringContaining('gives one token to two callers (alice and bob)'),
    ]);
  });

  it('lets one caller have two tokens (a rotation)', () => {
    expect(loadConfig({ API_TOKENS: `alice:${sha('old')},alice:${sha('new')}` }).API_TOKENS).toHaveLength(2);
  });

  it('needs API_TOKENS in token mode', () => {
    expect(problemsOf({ AUTH_MODE: 'token' })).toEqual(['AUTH_MODE=token needs API_TOKENS']);
  });

  it('reads EXTRA_ZONES as zone ids and refuses anything else', () => {
    expect(loadConfig({ EXTRA_ZONES: 'ap-guangzhou-8, ap-tokyo-3' }).EXTRA_ZONES).toEqual([
      'ap-guangzhou-8',
      'ap-tokyo-3',
    ]);
    expect(problemsOf({ EXTRA_ZONES: 'ap-guangzhou-8,guangzhou' })).toEqual([
      expect.stringContaining('EXTRA_ZONES'),
    ]);
  });

  it('refuses an IDEMPOTENCY_SECRET too short to be a secret', () => {
    expect(problemsOf({ IDEMPOTENCY_SECRET: 'short' })).toEqual([
      expect.stringContaining('at least 32 characters'),
    ]);
    expect(loadConfig({ IDEMPOTENCY_SECRET: 'x'.repeat(32) }).IDEMPOTENCY_SECRET).toHaveLength(32);
  });

  it('wants Tencent keys in pairs', () => {
    expect(problemsOf({ TENCENTCLOUD_SECRET_ID: 'AKID' })).toEqual([
      'TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY must be set together',
    ]);
  });
});

describe('requireSettings', () => {
  it('names every missing setting a handler needs', () => {
    expect(() => requireSettings(loadConfig({}), ['JOBS_TABLE', 'SUBMIT_QUEUE_URL'])).toThrow(
      'JOBS_TABLE is required; SUBMIT_QUEUE_URL is required',
    );
  });
});

describe('loadValidationSettings', () => {
  it('reads the validation settings and ignores the rest, however wrong', () => {
    const settings = loadValidationSettings({
      VALIDATION_PROFILE: 'current',
      AUTH_MODE: 'token',
      API_TOKENS: 'x',
    });
    expect(settings.VALIDATION_PROFILE).toBe('current');
    expect(settings.AUTH_MODE).toBe('iam');
  });
});

describe('the notifier’s and poller’s settings', () => {
  it('defaults to a 900 s job timeout, a 60 s visibility grace, 20 Describe calls/s, a 10 s attempt and the schedule', () => {
    expect(loadConfig({})).toMatchObject({
      JOB_TIMEOUT_SECONDS: 900,
      INSTANCE_VISIBILITY_GRACE_MS: 60_000,
      DESCRIBE_RATE_PER_SECOND: 20,
      WEBHOOK_TIMEOUT_MS: 10_000,
      WEBHOOK_CONCURRENCY: 16,
      WEBHOOK_ALLOW_PRIVATE: false,
      WEBHOOK_RETRY_SCHEDULE: [
        5_000, 60_000, 300_000, 1_800_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000,
      ],
    });
    expect(DEFAULT_RETRY_SCHEDULE_MS).toHaveLength(8);
  });

  it('reads WEBHOOK_SECRET as one or more whsec_ secrets, space- or comma-separated (rotation)', () => {
    expect(loadConfig({ WEBHOOK_SECRET: secret(24) }).WEBHOOK_SECRET).toEqual([secret(24)]);
    expect(loadConfig({ WEBHOOK_SECRET: `${secret(32)} ${secret(32, 4)}` }).WEBHOOK_SECRET).toEqual([
      secret(32),
      secret(32, 4),
    ]);
    expect(loadConfig({ WEBHOOK_SECRET: `${secret(32)},${secret(32, 4)}` }).WEBHOOK_SECRET).toHaveLength(2);
  });

  it.each([
    ['no prefix', Buffer.alloc(32).toString('base64')],
    ['too short (16 bytes)', secret(16)],
    ['not base64', 'whsec_not*base64*at*all*!!!!!!!!!!!!!!!!'],
    ['one good, one bad', `${secret(32)} whsec_`],
  ])('refuses a WEBHOOK_SECRET that is %s', (_case, value) => {
    expect(problemsOf({ WEBHOOK_SECRET: value }).join('\n')).toMatch(
      /WEBHOOK_SECRET must be one or more whsec_/,
    );
  });

  it.each([
    ['ftp://hooks.example.com/x'],
    ['hooks.example.com/x'],
    ['https://user:pass@hooks.example.com/x'],
  ])('refuses DEFAULT_WEBHOOK_URL %s', (value) => {
    expect(problemsOf({ DEFAULT_WEBHOOK_URL: value }).join('\n')).toMatch(/DEFAULT_WEBHOOK_URL must be/);
  });

  it('accepts an http DEFAULT_WEBHOOK_URL (a loopback receiver in development; the guard decides at delivery)', () => {
    expect(
      loadConfig({ DEFAULT_WEBHOOK_URL: 'http://127.0.0.1:3000/_local/webhooks' }).DEFAULT_WEBHOOK_URL,
    ).toBe('http://127.0.0.1:3000/_local/webhooks');
  });

  it('caps WEBHOOK_TIMEOUT_MS at 15 s and reads WEBHOOK_ALLOW_PRIVATE as true or false only', () => {
    expect(problemsOf({ WEBHOOK_TIMEOUT_MS: '15001' }).join('\n')).toMatch(
      /WEBHOOK_TIMEOUT_MS .*at most 15000/,
    );
    expect(loadConfig({ WEBHOOK_TIMEOUT_MS: '15000' }).WEBHOOK_TIMEOUT_MS).toBe(15_000);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'true' }).WEBHOOK_ALLOW_PRIVATE).toBe(true);
    expect(problemsOf({ WEBHOOK_ALLOW_PRIVATE: 'yes' }).join('\n')).toMatch(/WEBHOOK_ALLOW_PRIVATE/);
  });

  it('reads a retry schedule of durations, and refuses anything else', () => {
    expect(parseDurations('250ms, 1s,2m,3h')).toEqual([250, 1000, 120_000, 10_800_000]);
    expect(parseDurations('1d')).toBeUndefined();
    expect(parseDurations('')).toBeUndefined();
    expect(problemsOf({ WEBHOOK_RETRY_SCHEDULE: '5s,soon' }).join('\n')).toMatch(/WEBHOOK_RETRY_SCHEDULE/);
  });
});
