import type { GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../clock.ts';
import { CredentialsError } from '../errors.ts';

/** A Tencent API key. `secretKey` and `token` are not enumerable, so logging or serialising the object omits them. */
export interface TencentCredentials {
  readonly secretId: string;
  readonly secretKey: string;
  readonly token?: string;
}

/**
 * Resolves the credentials to sign the next request with. `current`, when a provider has it, answers at once
 * with credentials it holds and may use now (or undefined: call the provider): the client's fast path, which
 * spares every call a promise and a timer for a lookup that has nothing to wait for.
 */
export type CredentialsProvider = (() => Promise<TencentCredentials>) & {
  current?: () => TencentCredentials | undefined;
};

/** Builds a credentials object whose secrets stay out of JSON.stringify, console.log and spread copies. */
export function makeCredentials(secretId: string, secretKey: string, token?: string): TencentCredentials {
  const credentials = { secretId } as TencentCredentials;
  Object.defineProperty(credentials, 'secretKey', { value: secretKey, enumerable: false });
  if (token) Object.defineProperty(credentials, 'token', { value: token, enumerable: false });
  return Object.freeze(credentials);
}

/** Credentials given directly (TENCENTCLOUD_SECRET_ID / _SECRET_KEY / _SESSION_TOKEN). */
export function staticCredentials(secretId: string, secretKey: string, token?: string): CredentialsProvider {
  const credentials = makeCredentials(secretId, secretKey, token);
  return Object.assign(async () => credentials, { current: () => credentials });
}

export interface SecretsManagerCredentialsOptions {
  client: {
    send(command: GetSecretValueCommand): Promise<Pick<GetSecretValueCommandOutput, 'SecretString'>>;
  };
  secretName: string;
  /** How long a fetched key is reused before the secret is read again (rotation picks up within this). */
  ttlMs?: number;
  now?: Clock;
}

/** Five minutes: a rotated key is picked up quickly, and a warm Lambda reads the secret rarely. */
export const CREDENTIALS_TTL_MS = 5 * 60 * 1000;

/**
 * Credentials from an AWS Secrets Manager secret holding `{ "SecretId": …, "SecretKey": … }` (optionally
 * `Token`), fetched once and cached for a bounded time. Concurrent callers share one fetch.
 */
export function secretsManagerCredentials(options: SecretsManagerCredentialsOptions): CredentialsProvider {
  const ttl = options.ttlMs ?? CREDENTIALS_TTL_MS;
  const now = options.now ?? Date.now;
  let cached: { credentials: TencentCredentials; expiresAt: number } | undefined;
  let pending: Promise<TencentCredentials> | undefined;

  const fetchCredentials = async (): Promise<TencentCredentials> => {
    let output: Pick<GetSecretValueCommandOutput, 'SecretString'>;
    try {
      output = await options.client.send(new GetSecretValueCommand({ SecretId: options.secretName }));
    } catch (error) {
      throw new CredentialsError(`cannot read the Tencent credentials secret ${options.secretName}`, {
        cause: error,
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(output.SecretString ?? '');
    } catch {
      // The parse error would quote the secret's text; say only what is wrong.
      throw new CredentialsError(`the secret ${options.secretName} is not JSON`);
    }
    const { SecretId, SecretKey, Token } = (parsed ?? {}) as Record<string, unknown>;
    if (typeof SecretId !== 'string' || typeof SecretKey !== 'string' || !SecretId || !SecretKey) {
      throw new CredentialsError(`the secret ${options.secretName} must hold string SecretId and SecretKey`);
    }
    const credentials = makeCredentials(
      SecretId.trim(),
      SecretKey.trim(),
      typeof Token === 'string' ? Token : undefined,
    );
    cached = { credentials, expiresAt: now() + ttl };
    return credentials;
  };

  const current = () => (cached && now() < cached.expiresAt ? cached.credentials : undefined);
  const provider = async () => {
    const held = current();
    if (held) return held;
    pending ??= fetchCredentials().finally(() => {
      pending = undefined;
    });
    return pending;
  };
  return Object.assign(provider, { current });
}
