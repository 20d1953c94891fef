// biome-ignore-all lint/suspicious/noTemplateCurlyInString: serverless.yml's ${…} variables are literal text here
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MAX_SUBMIT_ATTEMPTS } from '../../../lib/submit/stuck.ts';
import { readFunctions, resolveEnvironment } from '../../../local/functions.ts';
import { SERVERLESS_YML } from '../../../local/resources.ts';

/** serverless.yml's functions agree with what the code assumes of them. */
const { functions } = readFunctions(SERVERLESS_YML);
const file = parse(readFileSync(SERVERLESS_YML, 'utf8')) as {
  resources: { Resources: Record<string, { Properties: Record<string, unknown> }> };
};
const fn = (name: string) => {
  const spec = functions.find((f) => f.name === name);
  if (!spec) throw new Error(`serverless.yml has no function ${name}`);
  return spec;
};
const queue = (id: string) => file.resources.Resources[id]?.Properties ?? {};

describe('serverless.yml', () => {
  it('declares the five functions by the names the code gives their logs and metrics', () => {
    expect(functions.map((f) => f.name)).toEqual(['api', 'chatops', 'submit', 'deadLetter', 'poll']);
  });

  it('paces the submitters for the concurrency they run at: SUBMIT_MAX_CONCURRENCY is the SQS maximumConcurrency', () => {
    const [source] = fn('submit').events;
    expect(source).toMatchObject({
      kind: 'sqs',
      queue: 'SubmitQueue',
      batchSize: 10,
      reportBatchItemFailures: true,
    });
    const concurrency = String((source as { maximumConcurrency?: number }).maximumConcurrency);
    // Every function that paces Tencent calls divides the rate by the same number.
    for (const name of ['submit', 'deadLetter', 'poll'])
      expect(String(fn(name).environment.SUBMIT_MAX_CONCURRENCY), name).toBe(concurrency);
  });

  it("keeps Tencent's 10 RunInstances a second: the submitters' rate stays below it", () => {
    // The deployed rate (without a SUBMIT_RATE_PER_SECOND in the deploying shell), for every submitter at once.
    const rate = resolveEnvironment(fn('submit'), {
      service: 'cvm-provisioner',
      stage: 'ci',
      env: {},
      refs: { JobsTable: 't', SubmitQueue: 'q' },
      arns: {},
    }).SUBMIT_RATE_PER_SECOND;
    expect(Number(rate)).toBeGreaterThan(0);
    expect(Number(rate)).toBeLessThan(10);
  });

  it("gives each queue a visibility timeout of at least 6x its consumer's timeout, and the submit claim room to end first", () => {
    expect(Number(queue('SubmitQueue').VisibilityTimeout)).toBeGreaterThanOrEqual(
      6 * fn('submit').timeoutSeconds,
    );
    expect(Number(queue('SubmitDeadLetterQueue').VisibilityTimeout)).toBeGreaterThanOrEqual(
      6 * fn('deadLetter').timeoutSeconds,
    );
  });

  it("leaves room for a slow but successful RunInstances (60 s) inside the submit function's timeout", () => {
    expect(fn('submit').timeoutSeconds).toBeGreaterThanOrEqual(60 + 20);
  });

  it('dead-letters after as many receives as the sweep counts attempts, and consumes the dead-letter queue', () => {
    expect((queue('SubmitQueue').RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBe(
      MAX_SUBMIT_ATTEMPTS,
    );
    expect(fn('deadLetter').events).toEqual([
      expect.objectContaining({ kind: 'sqs', queue: 'SubmitDeadLetterQueue' }),
    ]);
  });

  it('serves the chat endpoint without an IAM authorizer: the platform’s signature is the authentication', () => {
    expect(fn('chatops').events).toEqual([{ kind: 'httpApi', routeKey: 'POST /v1/chatops/slack' }]);
    const raw = parse(readFileSync(SERVERLESS_YML, 'utf8')) as {
      functions: Record<string, { events: Array<{ httpApi?: { authorizer?: unknown } }> }>;
    };
    expect(raw.functions.chatops?.events.every((event) => event.httpApi?.authorizer === undefined)).toBe(
      true,
    );
    // Slack gives three seconds: the function's own limit is short, and it never calls Tencent.
    expect(fn('chatops').timeoutSeconds).toBeLessThanOrEqual(10);
  });

  it('runs one sweep at a time, every minute', () => {
    expect(fn('poll')).toMatchObject({
      reservedConcurrency: 1,
      events: [{ kind: 'schedule', expression: 'rate(1 minute)' }],
    });
  });
});

describe('stage parameters on the local stack', () => {
  const yml = (text: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'cvmp-sls-')), 'serverless.yml');
    writeFileSync(path, text);
    return path;
  };
  const [spec] = readFunctions(
    yml(`service: s
params:
  default: { mode: iam, secret: "\${env:SECRET, ''}", protect: false }
  prod: { mode: token, secret: null }
functions:
  f:
    handler: handlers/f.handler
    environment: { MODE: "\${param:mode}", SECRET: "\${param:secret}", PROTECT: "\${param:protect}" }
`),
  ).functions;
  const context = (stage: string, env: Record<string, string> = {}) => ({
    service: 's',
    stage,
    env,
    refs: {},
    arns: {},
  });

  it("resolves ${param:…} as osls does: the stage's entry over default's, a null entry skipped", () => {
    if (!spec) throw new Error('no function');
    expect(resolveEnvironment(spec, context('ci'))).toEqual({ MODE: 'iam', PROTECT: 'false' });
    expect(resolveEnvironment(spec, context('prod'))).toEqual({ MODE: 'token', PROTECT: 'false' });
  });

  it("resolves the variables a parameter's own value holds (a secret from the shell)", () => {
    if (!spec) throw new Error('no function');
    expect(resolveEnvironment(spec, context('ci', { SECRET: 'from-shell' }))).toMatchObject({
      SECRET: 'from-shell',
    });
  });

  it('refuses a parameter no stage defines, naming where it is used', () => {
    const [broken] = readFunctions(
      yml(`service: s
functions:
  f: { handler: handlers/f.handler, environment: { X: "\${param:nope}" } }
`),
    ).functions;
    if (!broken) throw new Error('no function');
    expect(() => resolveEnvironment(broken, context('ci'))).toThrow(
      /functions\.f\.environment\.X.*param:nope/,
    );
  });

  it("resolves serverless.yml's own parameters for the local stage", () => {
    const env = resolveEnvironment(fn('api'), {
      ...context('local'),
      service: 'cvm-provisioner',
      refs: { JobsTable: 't', SubmitQueue: 'q' },
    });
    expect(env).toMatchObject({ AUTH_MODE: 'iam', VALIDATION_PROFILE: 'seed-2017' });
  });
});
