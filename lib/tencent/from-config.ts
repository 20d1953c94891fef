import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { createTencentClient, type TencentClient, type TencentClientOptions } from './client.ts';
import { type CredentialsProvider, secretsManagerCredentials, staticCredentials } from './credentials.ts';

/** Credentials from the environment's keys, else from the named Secrets Manager secret. */
export function credentialsFromConfig(config: Config): CredentialsProvider {
  if (config.TENCENTCLOUD_SECRET_ID && config.TENCENTCLOUD_SECRET_KEY) {
    return staticCredentials(
      config.TENCENTCLOUD_SECRET_ID,
      config.TENCENTCLOUD_SECRET_KEY,
      config.TENCENTCLOUD_SESSION_TOKEN,
    );
  }
  if (config.TENCENTCLOUD_CREDENTIALS_SECRET) {
    return secretsManagerCredentials({
      client: new SecretsManagerClient({}),
      secretName: config.TENCENTCLOUD_CREDENTIALS_SECRET,
    });
  }
  throw new ConfigError([
    'Tencent credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or TENCENTCLOUD_CREDENTIALS_SECRET',
  ]);
}

/** The Tencent client the configuration describes. */
export function tencentClientFromConfig(
  config: Config,
  overrides: Partial<TencentClientOptions> = {},
): TencentClient {
  return createTencentClient({
    endpoint: config.TENCENTCLOUD_ENDPOINT,
    signMethod: config.TENCENTCLOUD_SIGN_METHOD,
    credentials: credentialsFromConfig(config),
    language: 'en-US',
    ...overrides,
  });
}
