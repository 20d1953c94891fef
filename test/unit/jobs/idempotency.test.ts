import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IdempotencyInProgressError,
  IdempotencyMismatchError,
  InvalidRequestError,
} from '../../../lib/errors.ts';
import {
  abandonIdempotentRequest,
  beginIdempotentRequest,
  IDEMPOTENCY_TTL_SECONDS,
  IN_PROGRESS_LEASE_SECONDS,
  idempotencyRecordKey,
  parseIdempotencyKey,
} from '../../../lib/jobs/idempotency.ts';
import { awsErrors, mockedApi } from '../../helpers/aws-mocks.ts';
import { CLOCK_START } from '../../helpers/clock.ts';
import { jobIn } from '../../helpers/jobs.ts';

const { conditionFailed } = awsErrors;

describe('parseIdempotencyKey', () => {
  it.each([
    ['a bare token', 'order-42', 'order-42'],
    ['a structured-field string', '"order-42"', 'order-42'],
    ['surrounding spaces', '  order-42  ', 'order-42'],
    ['a UUID', 'c0ffee00-0000-4000-8000-000000000001', 'c0ffee00-0000-4000-8000-000000000001'],
    ['255 visible characters', 'k'.repeat(255), 'k'.repeat(255)],
  ])('accepts %s', (_name, header, key) => {
    expect(parseIdempotencyKey(header)).toBe(key);
  });

  it.each([
    ['an empty header', ''],
    ['an empty quoted string', '""'],
    ['an inner space', 'order 42'],
    ['a lone quote', '"'],
    ['an inner quote', 'a"b'],
    ['non-ASCII text', 'commande-é'],
    ['a control character', 'order\t42'],
    ['256 characters', 'k'.repeat(256)],
  ])('refuses %s with 400', (_name, header) => {
    expect(() => parseIdempotencyKey(header)).toThrow(InvalidRequestError);
  });

  it('returns every visible-ASCII key of 1-255 characters unchanged (property)', () => {
    const visible = fc
      .string({
        unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
        minLength: 1,
        maxLength: 255,
      })
      .filter((key) => !key.includes('"'));
    fc.assert(
      fc.property(visible, (key) => {
        expect(parseIdempotencyKey(key)).toBe(key);
      }),
    );
  });
});

describe('idempotencyRecordKey', () => {
  it('differs between callers for the same key', () => {
    expect(idempotencyRecordKey('alice', 'k1')).not.toBe(idempotencyRecordKey('bob', 'k1'));
  });

  it('does not let caller and key run into each other', () => {
    expect(idempotencyRecordKey('ab', 'c')).not.toBe(idempotencyRecordKey('a', 'bc'));
  });

  it('stores neither the caller nor the key in clear', () => {
    const record = idempotencyRecordKey('alice', 'order-42');
    expect(record).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('beginIdempotentRequest', () => {
  it('claims a new key with an IN_PROGRESS record that expires after 24 h and a 60 s lease', async () => {
    const api = mockedApi();
    await expect(beginIdempotentRequest(api.deps, 'rk', 'fp', 'job-1')).resolves.toEqual({
      kind: 'new',
      recordKey: 'rk',
    });
    const now = CLOCK_START / 1000;
    expect(api.ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
      pk: 'idem#rk',
      kind: 'idempotency',
      status: 'IN_PROGRESS',
      fingerprint: 'fp',
      expiresAt: now + IDEMPOTENCY_TTL_SECONDS,
      ttl: now + IDEMPOTENCY_TTL_SECONDS,
      leaseExpiresAt: now + IN_PROGRESS_LEASE_SECONDS,
    });
  });

  it('answers a completed record with the same fingerprint with the job it names', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(conditionFailed());
    api.ddb.on(GetCommand).resolves({ Item: { status: 'COMPLETED', fingerprint: 'fp', jobId: 'job-0' } });
    await expect(beginIdempotentRequest(api.deps, 'rk', 'fp', 'job-1')).resolves.toEqual({
      kind: 'replay',
      jobId: 'job-0',
    });
  });

  it('throws the 422 error for a different fingerprint', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(conditionFailed());
    api.ddb.on(GetCommand).resolves({ Item: { status: 'COMPLETED', fingerprint: 'other', jobId: 'job-0' } });
    await expect(beginIdempotentRequest(api.deps, 'rk', 'fp', 'job-1')).rejects.toThrow(
      IdempotencyMismatchError,
    );
  });

  it('throws the 422 error for a different fingerprint even while in progress', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(conditionFailed());
    api.ddb.on(GetCommand).resolves({ Item: { status: 'IN_PROGRESS', fingerprint: 'other' } });
    await expect(beginIdempotentRequest(api.deps, 'rk', 'fp', 'job-1')).rejects.toThrow(
      IdempotencyMismatchError,
    );
  });

  it('throws the 409 error while the first request is in progress and its job is not stored yet', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(conditionFailed());
    api.ddb.on(GetCommand).resolves({});
    api.ddb
      .on(GetCommand, { Key: { pk: 'idem#rk' } })
      .resolves({ Item: { status: 'IN_PROGRESS', fingerprint: 'fp', jobId: 'job-0' } });
    await expect(beginIdempotentRequest(api.deps, 'rk', 'fp', 'job-1')).rejects.toThrow(
      IdempotencyInProgressError,
    );
    expect(api.ddb.commandCalls(GetCommand).map((call) => call.args[0].input.Key)).toEqual([
      { pk: 'idem#rk' },
      { pk: 'job#job-0' },
    ]);
  });

  it('answers with the job an in-progress record names once it is stored: no write marks the record complete', async () => {
    const api = mockedApi();
    const job = jobIn('QUEUED', { jobId: 'job-0' });
    api.ddb.on(PutCommand).rejects(conditionFailed());
    api.ddb
      .on(GetCommand, { Key: { pk: 'job#job-0' } })
      .resolves({ Item: { ...job, pk: 'job#job-0', kind: 'job' } });
    api.ddb.on(GetCommand, { Key: { pk: 'idem#rk' } }).resolves({
      Item: {
        status: 'IN_PROGRESS',
        fingerprint: 'fp',
        jobId: 'job-0',
        leaseExpiresAt: CLOCK_START / 1000 + 5,
      },
    });
    const start = await beginIdempotentRequest(api.deps, 'rk', 'fp', 'job-1');
    expect(start).toMatchObject({
      kind: 'replay',
      jobId: 'job-0',
      job: { jobId: 'job-0', status: 'QUEUED' },
    });
    expect(api.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('claims the key again when the record vanished between the Put and the read', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});
    api.ddb.on(GetCommand).resolves({});
    await expect(beginIdempotentRequest(api.deps, 'rk', 'fp', 'job-1')).resolves.toEqual({
      kind: 'new',
      recordKey: 'rk',
    });
    expect(api.ddb.commandCalls(PutCommand)).toHaveLength(2);
  });

  it('gives up with 409 after the record vanished twice', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(conditionFailed());
    api.ddb.on(GetCommand).resolves({});
    await expect(beginIdempotentRequest(api.deps, 'rk', 'fp', 'job-1')).rejects.toThrow(
      IdempotencyInProgressError,
    );
  });

  it('propagates an error other than a failed condition', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(new Error('throttled'));
    await expect(beginIdempotentRequest(api.deps, 'rk', 'fp', 'job-1')).rejects.toThrow('throttled');
    expect(api.ddb.commandCalls(GetCommand)).toHaveLength(0);
  });
});

describe('abandonIdempotentRequest', () => {
  it('deletes only an IN_PROGRESS record when abandoning', async () => {
    const api = mockedApi();
    await abandonIdempotentRequest(api.deps, 'rk');
    expect(api.ddb.commandCalls(DeleteCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: 'idem#rk' },
      ConditionExpression: '#status = :inProgress',
    });
  });

  it('treats an already completed record as nothing to abandon', async () => {
    const api = mockedApi();
    api.ddb.on(DeleteCommand).rejects(conditionFailed());
    await expect(abandonIdempotentRequest(api.deps, 'rk')).resolves.toBeUndefined();
  });
});
