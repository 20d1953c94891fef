import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig, loadValidationSettings, requireSettings } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

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
