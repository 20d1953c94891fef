import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../lib/errors.ts';
import { JOB_TAG_KEY } from '../../../lib/jobs/model.ts';
import { checkSubmission, MAX_INSTANCE_TAGS } from '../../../lib/jobs/submission.ts';
import { validRequest } from '../../helpers/requests.ts';

const RULES = { profile: 'current', policy: {}, now: Date.parse('2026-12-02T00:00:00Z') } as const;

function violationsOf(request: Record<string, unknown>) {
  try {
    checkSubmission(RULES, { request });
    return [];
  } catch (error) {
    if (!(error instanceof InvalidRequestError)) throw error;
    return error.violations.map(({ param, code }) => ({ param, code }));
  }
}

const tags = (n: number, key = (i: number) => `k${i}`) =>
  Array.from({ length: n }, (_, i) => ({ Key: key(i), Value: 'v' }));

describe("the job tag is the submitter's", () => {
  it("refuses a caller's instance tag named like the job tag, in any case or spacing", () => {
    for (const key of [JOB_TAG_KEY, JOB_TAG_KEY.toUpperCase(), ` ${JOB_TAG_KEY} `]) {
      expect(
        violationsOf({
          ...validRequest(),
          TagSpecification: [
            {
              ResourceType: 'instance',
              Tags: [
                { Key: 'team', Value: 'a' },
                { Key: key, Value: 'job-x' },
              ],
            },
          ],
        }),
      ).toEqual([{ param: 'TagSpecification.0.Tags.1.Key', code: 'FailedOperation.TagKeyReserved' }]);
    }
  });

  it('lets other resources carry that key: only instances are found by it', () => {
    expect(
      violationsOf({
        ...validRequest(),
        TagSpecification: [{ ResourceType: 'keypair', Tags: [{ Key: JOB_TAG_KEY, Value: 'x' }] }],
      }),
    ).toEqual([]);
  });

  it(`leaves room for the job tag: at most ${MAX_INSTANCE_TAGS - 1} instance tags, counted over every instance spec`, () => {
    const split = (a: number, b: number) => ({
      ...validRequest(),
      TagSpecification: [
        { ResourceType: 'instance', Tags: tags(a) },
        { ResourceType: 'instance', Tags: tags(b, (i) => `m${i}`) },
      ],
    });
    expect(violationsOf(split(30, 19))).toEqual([]);
    expect(violationsOf(split(30, 20))).toEqual([
      { param: 'TagSpecification', code: 'InvalidParameterValue.LimitExceeded' },
    ]);
  });
});

describe('minCount is held to the request', () => {
  const check = (request: Record<string, unknown>, minCount: unknown) => {
    try {
      return checkSubmission(RULES, { request, control: { minCount } }).control.minCount;
    } catch (error) {
      if (!(error instanceof InvalidRequestError)) throw error;
      return error.violations.map(({ param, code }) => ({ param, code }));
    }
  };

  it('takes 1 to InstanceCount (which defaults to 1)', () => {
    expect(check(validRequest({ InstanceCount: 3 }), 3)).toBe(3);
    expect(check(validRequest({ InstanceCount: 3 }), 1)).toBe(1);
    expect(check(validRequest(), 1)).toBe(1);
  });

  it('refuses more than InstanceCount', () => {
    expect(check(validRequest({ InstanceCount: 2 }), 3)).toEqual([
      { param: 'minCount', code: 'InvalidParameterValue.Range' },
    ]);
    expect(check(validRequest(), 2)).toEqual([{ param: 'minCount', code: 'InvalidParameterValue.Range' }]);
  });

  it('refuses instances it could not terminate (DisableApiTermination)', () => {
    expect(check(validRequest({ InstanceCount: 2, DisableApiTermination: true }), 2)).toEqual([
      { param: 'minCount', code: 'InvalidParameterCombination' },
    ]);
    expect(check(validRequest({ InstanceCount: 2, DisableApiTermination: false }), 2)).toBe(2);
  });
});
