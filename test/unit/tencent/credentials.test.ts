import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CredentialsError } from '../../../lib/errors.ts';
import {
  makeCredentials,
  secretsManagerCredentials,
  staticCredentials,
} from '../../../lib/tencent/credentials.ts';

// Mocks the class for this file only: unit files share a worker, so the mock is undone after them.
const secrets = mockClient(SecretsManagerClient);
afterEach(() => secrets.reset());
afterAll(() => secrets.restore());

const SECRET = JSON.stringify({ SecretId: 'AKIDexample', SecretKey: 'very-secret-key' });

describe('makeCredentials', () => {
  it('keeps the key and token out of JSON, inspection and spread copies', () => {
    const credentials = makeCredentials('AKIDexample', 'very-secret-key', 'session-token');
    expect(credentials.secretKey).toBe('very-secret-key');
    expect(credentials.token).toBe('session-token');
    expect(JSON.stringify(credentials)).not.toContain('very-secret-key');
    expect(JSON.stringify({ ...credentials })).not.toContain('session-token');
    expect(String(Object.entries(credentials))).not.toContain('very-secret-key');
  });
});

describe('staticCredentials', () => {
  it('holds its key from the start: current() answers it at once, the same as the provider', async () => {
    const provider = staticCredentials('AKIDexample', 'very-secret-key');
    expect(provider.current?.()).toMatchObject({ secretId: 'AKIDexample', secretKey: 'very-secret-key' });
    expect(await provider()).toBe(provider.current?.());
  });
});

/** A Secrets Manager provider of secret tencent/cvm whose key lives 1000 ms on `clock`. */
const timedProvider = (clock: { now: number }) =>
  secretsManagerCredentials({
    client: new SecretsManagerClient({ region: 'us-east-1' }),
    secretName: 'tencent/cvm',
    ttlMs: 1000,
    now: () => clock.now,
  });

describe('secretsManagerCredentials', () => {
  it('current() is undefined until the secret was read, the read key within its lifetime, undefined after', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
    const clock = { now: 0 };
    const provider = timedProvider(clock);
    expect(provider.current?.()).toBeUndefined();
    const read = await provider();
    clock.now = 999;
    expect(provider.current?.()).toBe(read);
    clock.now = 1000;
    expect(provider.current?.()).toBeUndefined();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('reads the secret once and reuses it within its lifetime', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'tencent/cvm' }).resolves({ SecretString: SECRET });
    const clock = { now: 0 };
    const provider = timedProvider(clock);
    const first = await provider();
    clock.now = 999;
    const second = await provider();
    expect(first.secretId).toBe('AKIDexample');
    expect(second).toBe(first);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('reads the secret again once its lifetime is over', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
    const clock = { now: 0 };
    const provider = timedProvider(clock);
    await provider();
    clock.now = 1000;
    await provider();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('shares one read between concurrent callers', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
    const provider = secretsManagerCredentials({
      client: new SecretsManagerClient({ region: 'us-east-1' }),
      secretName: 's',
    });
    await Promise.all([provider(), provider(), provider()]);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it.each([
    ['not JSON', 'SecretKey=very-secret-key'],
    ['missing SecretId', JSON.stringify({ SecretKey: 'very-secret-key' })],
    ['non-string key', JSON.stringify({ SecretId: 'AKIDexample', SecretKey: 42 })],
  ])('refuses a secret that is %s without quoting it', async (_what, text) => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: text });
    const provider = secretsManagerCredentials({
      client: new SecretsManagerClient({ region: 'us-east-1' }),
      secretName: 's',
    });
    const error = await provider().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect(String((error as Error).message)).not.toContain('very-secret-key');
  });

  it('wraps a Secrets Manager failure in a CredentialsError', async () => {
    secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));
    const provider = secretsManagerCredentials({
      client: new SecretsManagerClient({ region: 'us-east-1' }),
      secretName: 's',
    });
    await expect(provider()).rejects.toBeInstanceOf(CredentialsError);
  });
});
