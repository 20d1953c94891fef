// biome-ignore-all lint/suspicious/noTemplateCurlyInString: serverless.yml's ${…} variables are literal text here
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  type ResolveContext,
  readFunctions,
  resolveEnvironment,
  resolveValue,
} from '../../../local/functions.ts';
import { succeededRecords } from '../../../local/runtime/sqs-source.ts';

const record = (messageId: string) => ({ messageId }) as SQSRecord;
const BATCH = [record('a'), record('b'), record('c')];

describe("succeededRecords (Lambda's partial batch response rules)", () => {
  it('counts every record done when ReportBatchItemFailures is off, whatever the function answered', () => {
    expect(succeededRecords(BATCH, { batchItemFailures: [{ itemIdentifier: 'a' }] }, false)).toEqual(BATCH);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an empty list', { batchItemFailures: [] }],
    ['no batchItemFailures member', {}],
  ])('counts every record done for %s', (_name, result) => {
    expect(succeededRecords(BATCH, result, true)).toEqual(BATCH);
  });

  it('keeps the listed records and deletes the others', () => {
    expect(succeededRecords(BATCH, { batchItemFailures: [{ itemIdentifier: 'b' }] }, true)).toEqual([
      record('a'),
      record('c'),
    ]);
  });

  it.each([
    ['an identifier not in the batch', { batchItemFailures: [{ itemIdentifier: 'zzz' }] }],
    ['an empty identifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null identifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a wrong key name', { batchItemFailures: [{ id: 'a' }] }],
    ['batchItemFailures that is not a list', { batchItemFailures: 'a' }],
  ])('fails the whole batch for %s', (_name, result) => {
    expect(succeededRecords(BATCH, result, true)).toBeNull();
  });
});

const CONTEXT: ResolveContext = {
  service: 'svc',
  stage: 'local',
  env: { SET: 'from-env' },
  refs: { Table: 'svc-local-table', Queue: 'http://127.0.0.1:1/q' },
  arns: { Queue: 'arn:aws:sqs:us-east-1:000000000000:q' },
};

describe('resolveValue (serverless.yml values on the local stack)', () => {
  it.each([
    ['${self:service}-${sls:stage}', 'svc-local'],
    ["${env:SET, 'fallback'}", 'from-env'],
    ["${env:UNSET, 'fallback'}", 'fallback'],
    ["${env:UNSET, ''}", ''],
    [7, '7'],
    [true, 'true'],
  ])('resolves %j to %j', (value, resolved) => {
    expect(resolveValue(value, CONTEXT, 'x')).toBe(resolved);
  });

  it('resolves Ref to a name or URL and Fn::GetAtt Arn to an ARN', () => {
    expect(resolveValue({ Ref: 'Table' }, CONTEXT, 'x')).toBe('svc-local-table');
    expect(resolveValue({ 'Fn::GetAtt': ['Queue', 'Arn'] }, CONTEXT, 'x')).toBe(CONTEXT.arns.Queue);
  });

  it.each([
    ['an unset variable without default', '${env:UNSET}'],
    ['a source the local stack cannot resolve', '${ssm:/param}'],
    ['a Ref to no local resource', { Ref: 'Nope' }],
    ['an attribute other than Arn', { 'Fn::GetAtt': ['Queue', 'QueueName'] }],
  ])('refuses %s, naming where it is', (_name, value) => {
    expect(() => resolveValue(value, CONTEXT, 'functions.api.environment.X')).toThrow(
      /functions\.api\.environment\.X/,
    );
  });
});

function yml(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cvmp-sls-')), 'serverless.yml');
  writeFileSync(file, text);
  return file;
}

describe('readFunctions', () => {
  it("overlays a function's environment on the provider's and drops empty values when resolved", () => {
    const { functions } = readFunctions(
      yml(`service: s
provider: { environment: { A: a, B: b, EMPTY: "" } }
functions:
  f: { handler: handlers/f.handler, environment: { B: own } }
`),
    );
    const [f] = functions;
    expect(f).toMatchObject({ file: 'handlers/f.ts', exportName: 'handler', timeoutSeconds: 6 });
    expect(f && resolveEnvironment(f, CONTEXT)).toEqual({ A: 'a', B: 'own' });
  });

  it('refuses an event type the local runtime does not run', () => {
    expect(() =>
      readFunctions(
        yml(`service: s
functions:
  f: { handler: handlers/f.handler, events: [{ s3: bucket }] }
`),
      ),
    ).toThrow(/functions\.f\.events\[0\].*s3/);
  });

  it('reads the SQS settings Lambda uses', () => {
    const { functions } = readFunctions(
      yml(`service: s
functions:
  f:
    handler: handlers/f.handler
    events:
      - sqs: { arn: { Fn::GetAtt: [Q, Arn] }, batchSize: 5, functionResponseType: ReportBatchItemFailures, maximumConcurrency: 3 }
`),
    );
    expect(functions[0]?.events).toEqual([
      { kind: 'sqs', queue: 'Q', batchSize: 5, reportBatchItemFailures: true, maximumConcurrency: 3 },
    ]);
  });
});
