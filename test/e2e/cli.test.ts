import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SIM_SECRET_ID,
  DEFAULT_SIM_SECRET_KEY,
  type Simulator,
  startSimulator,
} from '../../local/cvm-simulator/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const seedJson = (n: number) =>
  readFileSync(new URL(`../../events/seed/example-${n}.json`, import.meta.url), 'utf8');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a bin/ script with this Node (24), as `npm run` would, with a clean environment plus `env`. */
function run(
  script: string,
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

describe('npm run validate', () => {
  it('prints ok, the region and the request with the password redacted, and exits 0', async () => {
    const result = await run('bin/validate.ts', ['events/seed/example-2.json']);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output).toMatchObject({
      ok: true,
      region: 'ap-guangzhou',
      request: { LoginSettings: { Password: '[REDACTED]' } },
    });
    expect(result.stdout).not.toContain('Qcloud@TestApi123++');
  });

  it('validates the flattened form with --form', async () => {
    const result = await run('bin/validate.ts', ['--form', 'events/seed/example-3.form']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: true,
      request: { InstanceChargeType: 'POSTPAID_BY_HOUR' },
    });
  });

  it('reads standard input for "-" and lists every violation with exit 1', async () => {
    const stdin = JSON.stringify({
      Placement: { Zone: 'ap-guangzhou-3' },
      ImageId: 'img-1',
      InstanceCoutn: 2,
    });
    const result = await run('bin/validate.ts', ['-'], { stdin });
    expect(result.code).toBe(1);
    const output = JSON.parse(result.stdout);
    expect(output.ok).toBe(false);
    expect(output.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ param: 'ImageId', code: 'InvalidImageId.Malformed' }),
        expect.objectContaining({ param: 'InstanceCoutn', code: 'UnknownParameter' }),
      ]),
    );
  });

  it('applies the profile from VALIDATION_PROFILE', async () => {
    const stdin = JSON.stringify({
      Placement: { Zone: 'ap-guangzhou-3' },
      ImageId: 'img-pmqg1cw7',
      HostName: 'web-1',
    });
    const seed = await run('bin/validate.ts', ['-'], { stdin });
    const current = await run('bin/validate.ts', ['-'], { stdin, env: { VALIDATION_PROFILE: 'current' } });
    expect(seed.code).toBe(1);
    expect(current.code).toBe(0);
  });

  it('never echoes a password from a body that is not JSON', async () => {
    const result = await run('bin/validate.ts', ['-'], {
      stdin: '{"LoginSettings":{"Password":Secr3t!pwXY}}',
    });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).not.toContain('Secr3t');
  });

  it('exits 2 on usage errors: no file, an unknown profile, an unreadable file', async () => {
    expect((await run('bin/validate.ts', [])).code).toBe(2);
    expect((await run('bin/validate.ts', ['--profile', 'bogus', 'events/seed/example-1.json'])).code).toBe(2);
    expect((await run('bin/validate.ts', ['no/such/file.json'])).code).toBe(2);
  });
});

describe('npm run validate, as a pre-flight of an API body', () => {
  it('accepts the control fields the API takes, and checks them', async () => {
    const body = JSON.stringify({
      ...JSON.parse(seedJson(1)),
      webhookUrl: 'https://hooks.example.com/x',
      metadata: { team: 'web' },
      minCount: 1,
    });
    const ok = await run('bin/validate.ts', ['-'], { stdin: body });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      webhookUrl: 'https://hooks.example.com/x',
      metadata: { team: 'web' },
      minCount: 1,
    });
    const over = await run('bin/validate.ts', ['-'], {
      stdin: JSON.stringify({ ...JSON.parse(seedJson(1)), minCount: 2 }),
    });
    expect(over.code).toBe(1);
    expect(JSON.parse(over.stdout).errors).toEqual([
      expect.objectContaining({ param: 'minCount', code: 'InvalidParameterValue.Range' }),
    ]);
    const bad = await run('bin/validate.ts', ['-'], {
      stdin: JSON.stringify({ ...JSON.parse(seedJson(1)), webhookUrl: 'http://plain.example.com/' }),
    });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).errors).toEqual([expect.objectContaining({ param: 'webhookUrl' })]);
  });

  it('applies the guardrails and EXTRA_ZONES of the environment, as the API would', async () => {
    const denied = await run('bin/validate.ts', ['events/seed/example-1.json'], {
      env: { ALLOWED_ZONES: 'ap-shanghai-2' },
    });
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout).errors[0]).toMatchObject({
      code: 'UnauthorizedOperation.ZoneNotAllowed',
    });
    const body = JSON.stringify({ Placement: { Zone: 'ap-guangzhou-9' }, ImageId: 'img-pmqg1cw7' });
    expect((await run('bin/validate.ts', ['-'], { stdin: body })).code).toBe(1);
    expect(
      (await run('bin/validate.ts', ['-'], { stdin: body, env: { EXTRA_ZONES: 'ap-guangzhou-9' } })).code,
    ).toBe(0);
  });

  it('prints usage with examples for --help, exit 0', async () => {
    const result = await run('bin/validate.ts', ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('npm run validate -- --form events/seed/example-2.form');
  });

  it('says to add --form for a form file given without it, and to leave it out for JSON', async () => {
    const form = await run('bin/validate.ts', ['events/seed/example-2.form']);
    expect(form.code).toBe(2);
    expect(form.stderr).toContain('looks like a flattened form (Placement.Zone=…): add --form');
    const json = await run('bin/validate.ts', ['--form', 'events/seed/example-2.json']);
    expect(json.code).toBe(2);
    expect(json.stderr).toContain('looks like JSON: leave out --form');
  });
});

describe('npm run token', () => {
  it('prints a token and the API_TOKENS entry that admits it', async () => {
    const result = await run('bin/token.ts', ['alice']);
    expect(result.code).toBe(0);
    const [token = ''] = /^ {2}(\S+)$/m.exec(result.stdout.split('API_TOKENS')[0] ?? '')?.slice(1) ?? [];
    const entry = /alice:([0-9a-f]{64})/.exec(result.stdout)?.[1];
    expect(entry).toBe(createHash('sha256').update(token).digest('hex'));
    expect(token.length).toBeGreaterThanOrEqual(40);
  });

  it('refuses a missing or malformed caller name with exit 2', async () => {
    expect((await run('bin/token.ts', [])).code).toBe(2);
    expect((await run('bin/token.ts', ['no spaces'])).code).toBe(2);
  });
});

describe('npm run cvm', () => {
  let simulator: Simulator;
  const env = () => ({
    TENCENTCLOUD_SECRET_ID: DEFAULT_SIM_SECRET_ID,
    TENCENTCLOUD_SECRET_KEY: DEFAULT_SIM_SECRET_KEY,
    TENCENTCLOUD_ENDPOINT: simulator.url,
  });

  beforeAll(async () => {
    // No visibility delays: the test describes what it just created.
    simulator = await startSimulator({
      bootMs: 0,
      visibilityDelayMs: 0,
      tagDelayMs: 0,
      visibilityJitterMs: 0,
    });
  });
  afterAll(() => simulator.close());

  it('calls an action with the configured key and prints the Response', async () => {
    const params = JSON.stringify({ Placement: { Zone: 'ap-guangzhou-3' }, ImageId: 'img-pmqg1cw7' });
    const created = await run('bin/cvm.ts', ['RunInstances', params, '--region', 'ap-guangzhou'], {
      env: env(),
    });
    expect(created.code).toBe(0);
    const [id] = JSON.parse(created.stdout).InstanceIdSet as string[];
    const described = await run(
      'bin/cvm.ts',
      ['DescribeInstances', JSON.stringify({ InstanceIds: [id] }), '--region', 'ap-guangzhou'],
      {
        env: { ...env(), TENCENTCLOUD_SIGN_METHOD: 'HmacSHA256' },
      },
    );
    expect(described.code).toBe(0);
    expect(JSON.parse(described.stdout)).toMatchObject({ TotalCount: 1, InstanceSet: [{ InstanceId: id }] });
  });

  it('prints the classified error and exits 1 when the key is wrong, without printing the key', async () => {
    const result = await run('bin/cvm.ts', ['DescribeInstances', '{}', '--region', 'ap-guangzhou'], {
      env: { ...env(), TENCENTCLOUD_SECRET_KEY: 'a-wrong-secret-key-value' },
    });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: 'TencentApiError',
      code: 'AuthFailure.SignatureFailure',
      retryable: false,
    });
    expect(result.stdout + result.stderr).not.toContain('a-wrong-secret-key-value');
  });

  it('exits 2 when credentials are not configured or the arguments are wrong', async () => {
    expect(
      (
        await run('bin/cvm.ts', ['DescribeInstances', '{}'], {
          env: { TENCENTCLOUD_ENDPOINT: simulator.url },
        })
      ).code,
    ).toBe(2);
    expect((await run('bin/cvm.ts', ['DescribeInstances', 'not json'], { env: env() })).code).toBe(2);
    expect(
      (await run('bin/cvm.ts', ['DescribeInstances', '{}', '--timeout-ms', 'abc'], { env: env() })).code,
    ).toBe(2);
  });
});
