import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  ClientTokenInUseError,
  IdempotencyInProgressError,
  IdempotencyMismatchError,
  InvalidRequestError,
  PolicyDeniedError,
  RequestError,
  ServiceUnavailableError,
} from '../../../lib/errors.ts';
import { acceptJob, STORE_DOWN_RETRY_AFTER_SECONDS } from '../../../lib/jobs/accept.ts';
import { IN_PROGRESS_LEASE_SECONDS } from '../../../lib/jobs/idempotency.ts';
import { awsErrors, mockedApi } from '../../helpers/aws-mocks.ts';
import { fingerprintOf, jobIdOf, jobIn } from '../../helpers/jobs.ts';
import { SEED_PASSWORD, seedBusinessRequest, seedExample, validRequest } from '../../helpers/requests.ts';

const { conditionFailed } = awsErrors;

describe('acceptJob, without HTTP', () => {
  it('answers the stored QUEUED job for a valid request, not replayed', async () => {
    const api = mockedApi();
    const { job, replayed } = await acceptJob(api.deps, { caller: 'slack:T1/U1', request: seedExample(2) });
    expect(replayed).toBe(false);
    expect(job).toMatchObject({
      jobId: jobIdOf(1),
      status: 'QUEUED',
      region: 'ap-guangzhou',
      requestedBy: 'slack:T1/U1',
      clientToken: `cvmp-${jobIdOf(1)}`,
      version: 1,
    });
    expect(api.items.get(`job#${job.jobId}`)).toMatchObject({ status: 'QUEUED' });
    expect(api.sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody).toBe(
      JSON.stringify({ jobId: job.jobId }),
    );
  });

  it('keeps the password in the stored request until submission (the submitter sends it)', async () => {
    const api = mockedApi();
    const { job } = await acceptJob(api.deps, { caller: 'alice', request: seedExample(2) });
    expect(job.request.LoginSettings?.Password).toBe(SEED_PASSWORD);
  });

  it('checks the control fields it is given', async () => {
    const api = mockedApi();
    const { job } = await acceptJob(api.deps, {
      caller: 'alice',
      request: seedExample(1),
      control: { webhookUrl: 'https://hooks.example.com/x', metadata: { team: 'web' } },
    });
    expect(job).toMatchObject({ webhookUrl: 'https://hooks.example.com/x', metadata: { team: 'web' } });
  });

  it('refuses an unknown control field as an unknown parameter', async () => {
    const api = mockedApi();
    const error = await acceptJob(api.deps, {
      caller: 'alice',
      request: seedExample(1),
      control: { hook: 'x' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toMatchObject({
      kind: 'invalid',
      violations: [{ param: 'hook', code: 'UnknownParameter' }],
    });
  });

  it('refuses an invalid request with every violation, storing and sending nothing', async () => {
    const api = mockedApi();
    const error = await acceptJob(api.deps, {
      caller: 'alice',
      request: { ...seedBusinessRequest(1), ImageId: 'bad', InstanceCoutn: 2 },
      control: { metadata: { team: 7 } },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).violations.map((v) => v.param).sort()).toEqual(
      ['ImageId', 'InstanceCoutn', 'metadata.team'].sort(),
    );
    expect(api.ddb.calls()).toHaveLength(0);
    expect(api.sqs.calls()).toHaveLength(0);
  });

  it('refuses a request a guardrail denies, as a denial', async () => {
    const api = mockedApi({ policy: { maxInstancesPerJob: 1 } });
    const error = await acceptJob(api.deps, {
      caller: 'alice',
      request: validRequest({ InstanceCount: 2 }),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect(error).toMatchObject({ kind: 'denied', code: 'UnauthorizedOperation.TooManyInstances' });
    expect(api.ddb.calls()).toHaveLength(0);
  });

  it('answers the job the idempotency key already names, replayed, creating nothing', async () => {
    const api = mockedApi();
    const earlier = jobIn('SUBMITTED', { jobId: jobIdOf(9) });
    api.ddb.on(PutCommand).rejects(conditionFailed());
    api.ddb.on(GetCommand).callsFake((input: { Key: { pk: string } }) =>
      input.Key.pk.startsWith('idem#')
        ? {
            Item: { status: 'COMPLETED', fingerprint: fingerprintOf(seedExample(1)), jobId: earlier.jobId },
          }
        : { Item: { pk: input.Key.pk, kind: 'job', ...earlier } },
    );
    const { job, replayed } = await acceptJob(api.deps, {
      caller: 'alice',
      request: seedExample(1),
      idempotencyKey: 'trigger-1',
    });
    expect(replayed).toBe(true);
    expect(job).toEqual(earlier);
    expect(api.sqs.calls()).toHaveLength(0);
  });

  it('refuses a key used with another payload, and one still in flight', async () => {
    for (const [record, type] of [
      [{ status: 'COMPLETED', fingerprint: 'other', jobId: 'x' }, IdempotencyMismatchError],
      [
        {
          status: 'IN_PROGRESS',
          fingerprint: fingerprintOf(seedExample(1)),
          jobId: 'x',
          leaseExpiresAt: 9e9,
        },
        IdempotencyInProgressError,
      ],
    ] as const) {
      const api = mockedApi();
      api.ddb.on(PutCommand).rejects(conditionFailed());
      api.ddb.on(GetCommand).resolves({ Item: record });
      await expect(
        acceptJob(api.deps, { caller: 'alice', request: seedExample(1), idempotencyKey: 'k' }),
      ).rejects.toBeInstanceOf(type);
      expect(api.sqs.calls()).toHaveLength(0);
    }
  });

  it.each(['cvmp-00000000-0000-4000-8000-000000000009', 'CVMP-anything'])(
    "refuses the caller ClientToken %s: it lies in the derived tokens' namespace",
    async (ClientToken) => {
      const api = mockedApi();
      const error = await acceptJob(api.deps, {
        caller: 'alice',
        request: validRequest({ ClientToken }),
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        kind: 'invalid',
        violations: [{ param: 'ClientToken', code: 'InvalidClientToken.Reserved' }],
      });
      expect(api.ddb.calls()).toHaveLength(0);
    },
  );

  it('refuses a ClientToken another job holds', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).callsFake((input: { Item: { kind: string } }) => {
      if (input.Item.kind === 'client-token') throw conditionFailed();
      return {};
    });
    api.ddb
      .on(GetCommand)
      .callsFake((input: { Key: { pk: string } }) =>
        input.Key.pk.startsWith('ctok#')
          ? { Item: { jobId: jobIdOf(9), createdAt: 'x' } }
          : { Item: { pk: input.Key.pk, kind: 'job', ...jobIn('QUEUED', { jobId: jobIdOf(9) }) } },
      );
    await expect(acceptJob(api.deps, { caller: 'alice', request: validRequest() })).rejects.toBeInstanceOf(
      ClientTokenInUseError,
    );
    expect(api.sqs.calls()).toHaveLength(0);
  });

  it('refuses as unavailable, saying nothing was accepted, when the job certainly was not stored', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).callsFake((input: { Item: { kind: string } }) => {
      if (input.Item.kind === 'job') throw awsErrors.outage();
      return {}; // the tombstone lands: the job can never appear
    });
    const error = await acceptJob(api.deps, { caller: 'alice', request: seedExample(1) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({
      kind: 'unavailable',
      retryable: true,
      message: expect.stringContaining('nothing was accepted'),
    });
  });

  it('fails as an internal error, not "come back later", when retrying cannot help (a missing table)', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(awsErrors.missingTable());
    const error = await acceptJob(api.deps, { caller: 'alice', request: seedExample(1) }).catch(
      (e: unknown) => e,
    );
    expect(error).not.toBeInstanceOf(RequestError);
    expect(error).toMatchObject({
      code: 'JobStoreFailed',
      retryable: false,
      cause: { name: 'ResourceNotFoundException' },
    });
  });

  it('names the job, and still sends its message, when the store cannot confirm the write', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(awsErrors.timeout());
    const error = await acceptJob(api.deps, { caller: 'alice', request: seedExample(1) }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      kind: 'unavailable',
      message: expect.stringContaining(`job ${jobIdOf(1)}`),
      retryAfterSeconds: STORE_DOWN_RETRY_AFTER_SECONDS,
    });
    expect((error as Error).message).toContain('look it up before sending the request again');
    expect(api.sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
  });

  it('asks for a retry with the same key after the key lease, when a key was given and the write is unconfirmed', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).callsFake((input: { Item: { kind: string } }) => {
      if (input.Item.kind !== 'idempotency') throw awsErrors.timeout();
      return {};
    });
    const error = await acceptJob(api.deps, {
      caller: 'alice',
      request: seedExample(1),
      idempotencyKey: 'k',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      message: expect.stringContaining('with the same Idempotency-Key'),
      retryAfterSeconds: IN_PROGRESS_LEASE_SECONDS,
    });
  });

  it('logs why it could not settle a write whose outcome is unknown', async () => {
    const api = mockedApi();
    api.ddb.on(PutCommand).rejects(awsErrors.timeout('socket hang up'));
    await expect(acceptJob(api.deps, { caller: 'alice', request: seedExample(1) })).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
    expect(api.logs.records()).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringContaining('could not settle') }),
    );
  });
});
