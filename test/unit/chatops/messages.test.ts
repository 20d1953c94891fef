import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  acceptedReply,
  type ChatMessage,
  type ChatPlatform,
  checkedReply,
  escapeMattermost,
  escapeSlack,
  followUpMessage,
  helpReply,
  listReply,
  MATTERMOST_MAX_TEXT,
  notAllowedReply,
  notFoundReply,
  refusedReply,
  SLACK_LIMITS,
  statusReply,
} from '../../../lib/chatops/messages.ts';
import type { ParamError } from '../../../lib/errors.ts';
import {
  EVENT_TYPES,
  type JobInstance,
  type JobStatus,
  type JobView,
  toJobView,
} from '../../../lib/jobs/model.ts';
import { REDACTED } from '../../../lib/run-instances/index.ts';
import { jobIn } from '../../helpers/jobs.ts';
import { SEED_PASSWORD } from '../../helpers/requests.ts';

const PLATFORMS: readonly ChatPlatform[] = ['slack', 'mattermost'];
const ZWJ = '\u200D';

/** A job view as the API shows it (password redacted), in `status`. */
const view = (status: JobStatus, overrides: Partial<JobView> = {}): JobView => ({
  ...toJobView(jobIn(status)),
  ...overrides,
});

interface TextObject {
  type: string;
  text: string;
  verbatim?: boolean;
}
/** What the tests read of a Block Kit block (the module builds sections and contexts only). */
interface Block {
  type: string;
  text?: TextObject;
  fields?: TextObject[];
  elements?: TextObject[];
}

const blocksOf = (message: ChatMessage): Block[] => (message.blocks ?? []) as Block[];
const textObjects = (message: ChatMessage): TextObject[] =>
  blocksOf(message).flatMap((block) => [
    ...(block.text ? [block.text] : []),
    ...(block.fields ?? []),
    ...(block.elements ?? []),
  ]);
/** Every text a platform shows of a message: the fallback and each block's mrkdwn. */
const textsOf = (message: ChatMessage): string[] => [
  message.text,
  ...textObjects(message).map((t) => t.text),
];
const shown = (message: ChatMessage) => textsOf(message).join('\n');

/** Every limit the platform sets, checked on one message; returns the broken ones (none, we expect). */
function brokenLimits(platform: ChatPlatform, message: ChatMessage): string[] {
  const broken: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) broken.push(what);
  };
  check(JSON.stringify(JSON.parse(JSON.stringify(message))) === JSON.stringify(message), 'JSON round trip');
  check(message.text.length > 0, 'empty text');
  if (platform === 'mattermost') {
    check(message.blocks === undefined, 'Mattermost blocks');
    check(message.text.length <= MATTERMOST_MAX_TEXT, `text ${message.text.length}`);
    return broken;
  }
  const blocks = blocksOf(message);
  check(message.text.length <= SLACK_LIMITS.text, `text ${message.text.length}`);
  check(blocks.length > 0 && blocks.length <= SLACK_LIMITS.blocks, `${blocks.length} blocks`);
  for (const block of blocks) {
    check(block.type === 'section' || block.type === 'context', `block type ${block.type}`);
    if (block.text)
      check(block.text.text.length <= SLACK_LIMITS.sectionText, `section ${block.text.text.length}`);
    if (block.fields) {
      check(block.fields.length <= SLACK_LIMITS.fields, `${block.fields.length} fields`);
      for (const field of block.fields)
        check(field.text.length <= SLACK_LIMITS.fieldText, `field ${field.text.length}`);
    }
    if (block.type === 'section')
      check(block.text !== undefined || block.fields !== undefined, 'empty section');
    if (block.elements) check(block.elements.length <= SLACK_LIMITS.contextElements, 'context elements');
  }
  for (const object of textObjects(message)) {
    check(object.type === 'mrkdwn' && object.verbatim === true, 'not verbatim mrkdwn');
    check(object.text.length > 0 && object.text.length <= SLACK_LIMITS.contextText, 'text object length');
  }
  return broken;
}

const VIOLATIONS: ParamError[] = Array.from({ length: 25 }, (_, i) => ({
  param: `DataDisks.${i}.DiskSize`,
  code: 'InvalidParameterValue.Range',
  message: `must be at least ${i + 10}`,
}));

/** Every reply the module makes, about one job. */
function everyReply(platform: ChatPlatform, job: JobView, errors: readonly ParamError[] = VIOLATIONS) {
  return [
    acceptedReply(platform, job),
    statusReply(platform, job),
    ...EVENT_TYPES.map((type) => followUpMessage(platform, type, job)),
    refusedReply(platform, 'The request is invalid', errors),
    checkedReply(platform, { region: job.region, request: job.request }),
    notFoundReply(platform, job.jobId),
    helpReply(platform, '/cvm', { zone: 'Placement.Zone', type: 'InstanceType' }),
    notAllowedReply(platform),
    listReply(platform, '/cvm', {
      jobs: Array.from({ length: 10 }, () => job),
      statuses: ['PARTIALLY_FAILED', 'TIMED_OUT'],
      before: '2026-12-02T12:00:00.000Z',
      read: 50,
      next: '2026-12-01T12:00:00.000Z',
    }),
    listReply(platform, '/cvm', { jobs: [job], statuses: [] }),
  ];
}

describe('escapeSlack', () => {
  it('escapes &, < and > as Slack documents, which disarms every control sequence', () => {
    expect(escapeSlack('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
    expect(escapeSlack('<!channel> <!here|here> <@U123> <#C1|general> <https://evil.example|click>')).toBe(
      '&lt;!channel&gt; &lt;!here|here&gt; &lt;@\u200DU123&gt; &lt;#C1|general&gt; &lt;https://evil.example|click&gt;',
    );
  });

  it('breaks bare mentions, flattens line breaks and controls, and leaves formatting marks (Slack has no escape)', () => {
    expect(escapeSlack('@channel @all')).toBe(`@${ZWJ}channel @${ZWJ}all`);
    expect(escapeSlack('a\nb\r\tc\u202Ed\u2028e')).toBe('a b  c d e');
    expect(escapeSlack('*bold* _it_ ~s~ `c`')).toBe('*bold* _it_ ~s~ `c`');
    expect(escapeSlack('&amp;')).toBe('&amp;amp;');
  });
});

describe('escapeMattermost', () => {
  it('backslash-escapes every markdown character, so no link, emphasis, code, heading or table is made', () => {
    expect(escapeMattermost('*bold* _it_ ~~s~~ `c`')).toBe('\\*bold\\* \\_it\\_ \\~\\~s\\~\\~ \\`c\\`');
    expect(escapeMattermost('[click](https://evil.example)')).toBe('\\[click\\]\\(https://evil.example\\)');
    expect(escapeMattermost('# h > q | t <https://x> \\')).toBe('\\# h \\> q \\| t \\<https://x\\> \\\\');
  });

  it('breaks every @mention with a zero-width joiner and flattens line breaks', () => {
    expect(escapeMattermost('@all @channel @here @alice')).toBe(
      `@${ZWJ}all @${ZWJ}channel @${ZWJ}here @${ZWJ}alice`,
    );
    expect(escapeMattermost('x\n# heading\n> quote')).toBe('x \\# heading \\> quote');
  });

  it('keeps what is not special, emoji and CJK included, and mends lone surrogates', () => {
    expect(escapeMattermost('web-01 云服务器 😀')).toBe('web-01 云服务器 😀');
    expect(escapeMattermost('a\uD800b')).toBe('a\uFFFDb');
  });
});

describe.each(PLATFORMS)('replies on %s', (platform) => {
  const isSlack = platform === 'slack';

  it('has the shape of the platform: Slack text and verbatim mrkdwn blocks, Mattermost text only', () => {
    for (const message of everyReply(platform, view('SUCCEEDED'))) {
      expect(brokenLimits(platform, message)).toEqual([]);
      if (isSlack) expect(message.blocks?.length).toBeGreaterThan(0);
      else expect(message).not.toHaveProperty('blocks');
    }
  });

  it('acknowledges run: ephemeral, with the job, region, count, type, zone and the promise of follow-ups', () => {
    const job = view('QUEUED');
    const message = acceptedReply(platform, job);
    expect(message.response_type).toBe('ephemeral');
    expect(message).not.toHaveProperty('replace_original');
    const text = shown(message);
    for (const fact of [job.jobId, 'ap-guangzhou', 'ap-guangzhou-3', 'S5.MEDIUM4', 'img-pmqg1cw7'])
      expect(text).toContain(fact);
    expect(text).toMatch(/Instances\**:?\**\s+`2`/);
    expect(text).toContain("I'll post here when it is submitted and when it ends");
    expect(message.text).toContain("I'll post here when it is submitted and when it ends");
  });

  it('lists every violation of a refusal with param, code and message, up to 20 and "…and N more"', () => {
    const message = refusedReply(platform, 'The request is invalid', VIOLATIONS);
    expect(message.response_type).toBe('ephemeral');
    const text = shown(message);
    expect(text).toContain('25 problems');
    for (const v of VIOLATIONS.slice(0, 20))
      expect(text).toContain(`${v.param}\` \`${v.code}\`: ${v.message}`);
    expect(text).not.toContain('DataDisks.20.DiskSize');
    expect(text).toContain('…and 5 more');
    const bullets = text.split('\n').filter((line) => line.startsWith(isSlack ? '• ' : '- '));
    expect(bullets).toHaveLength(21);
  });

  it('lists a short refusal whole', () => {
    const text = shown(refusedReply(platform, 'The request is denied by policy', VIOLATIONS.slice(0, 2)));
    expect(text).toContain('2 problems');
    expect(text).not.toContain('more');
  });

  it('answers check with "valid", the region and the normalised request, never its LoginSettings', () => {
    const job = view('QUEUED');
    const request = { ...job.request, InstanceChargeType: 'PREPAID', InstanceChargePrepaid: { Period: 3 } };
    const message = checkedReply(platform, { region: 'ap-guangzhou', request });
    expect(message.response_type).toBe('ephemeral');
    const text = shown(message);
    for (const fact of ['valid', 'ap-guangzhou-3', 'img-pmqg1cw7', 'S5.MEDIUM4', 'PREPAID', '`3`', '`2`'])
      expect(text).toContain(fact);
    expect(text).not.toMatch(/skey-|Password|LoginSettings|REDACTED/);
    expect(shown(checkedReply(platform, { region: 'ap-guangzhou', request: {} }))).toContain(
      '`POSTPAID_BY_HOUR` (default)',
    );
  });

  it('answers status with the status, each instance and its addresses, and the times', () => {
    const job = view('SUCCEEDED');
    const text = shown(statusReply(platform, job));
    expect(text).toContain('succeeded');
    expect(text).toContain('SUCCEEDED');
    for (const instance of job.instances) {
      expect(text).toContain(`\`${instance.instanceId}\` · RUNNING`);
      for (const address of [...instance.privateIpAddresses, ...instance.publicIpAddresses])
        expect(text).toContain(`\`${address}\``);
    }
    for (const time of [job.createdAt, job.submittedAt, job.completedAt])
      expect(text).toContain(String(time));
  });

  it('shows the error and each failed instance with its reason in status', () => {
    const base = view('PARTIALLY_FAILED');
    const [first, second] = base.instances;
    if (!first || !second) throw new Error('jobIn makes two instances');
    const instances: JobInstance[] = [{ ...first, state: 'LAUNCH_FAILED', reason: 'sold out' }, second];
    const text = shown(statusReply(platform, { ...base, instances }));
    expect(text).toContain('Failed instances (1)');
    expect(text).toContain('reason: sold out');
    expect(text).toContain('`LaunchFailed`: see instances');
    expect(shown(statusReply(platform, view('QUEUED')))).toContain('No instances yet.');
  });

  it('lists jobs one line each: id, status, region, instance ids, error code and created time', () => {
    const failed = view('FAILED', { jobId: '00000000-0000-4000-8000-00000000000f' });
    const running = view('SUCCEEDED', {
      jobId: '00000000-0000-4000-8000-00000000000a',
      instances: Array.from({ length: 5 }, (_, i) => ({
        instanceId: `ins-${i}`,
        state: 'RUNNING',
        privateIpAddresses: ['10.0.0.9'],
        publicIpAddresses: [],
      })),
    });
    const queued = view('QUEUED', { jobId: '00000000-0000-4000-8000-00000000000b' });
    const message = listReply(platform, '/cvm', { jobs: [failed, running, queued], statuses: [] });
    expect(message.response_type).toBe('ephemeral');
    const text = shown(message);
    expect(text).toContain('Your jobs');
    expect(text).toContain('newest first: 3 jobs shown');
    const lineOf = (jobId: string) => text.split('\n').find((line) => line.includes(jobId)) ?? '';
    expect(lineOf(failed.jobId)).toMatch(
      /`FAILED`.*`ap-guangzhou`.*`ResourceInsufficient\.SpecifiedInstanceType`/,
    );
    expect(lineOf(failed.jobId)).toContain(`created \`${failed.createdAt}\``);
    expect(lineOf(running.jobId)).toContain('5 instances: `ins-0`, `ins-1`, `ins-2` (+2 more)');
    expect(lineOf(running.jobId)).not.toContain('10.0.0.9');
    expect(lineOf(queued.jobId)).toContain('2 asked for, no instances yet');
    expect(text.indexOf(failed.jobId)).toBeLessThan(text.indexOf(running.jobId));
    expect(text.indexOf(running.jobId)).toBeLessThan(text.indexOf(queued.jobId));
    expect(text).toContain('`/cvm status` with a job id shows that job in full');
    expect(text).not.toContain('More');
  });

  it('says how many a listing shows and which list command shows more', () => {
    const text = shown(
      listReply(platform, '/cvm', {
        jobs: [view('FAILED')],
        statuses: ['FAILED'],
        read: 50,
        next: '2026-11-20T00:00:00.000Z',
      }),
    );
    expect(text).toContain('1 job shown');
    expect(text).toContain('`/cvm list failed before=2026-11-20T00:00:00.000Z`');
    expect(text).toContain('looked at your 50 most recent jobs');
  });

  it('answers an empty listing with a friendly line, and how to look further back when it can', () => {
    const none = shown(listReply(platform, '/cvm', { jobs: [], statuses: [] }));
    expect(none).toContain('You have no jobs yet.');
    expect(none).toContain('`/cvm run …` launches some');
    const filtered = shown(
      listReply(platform, '/cvm', {
        jobs: [],
        statuses: ['FAILED', 'CANCELLED'],
        read: 50,
        next: '2026-11-20T00:00:00.000Z',
      }),
    );
    expect(filtered).toContain('None of your 50 most recent jobs is `FAILED` or `CANCELLED`.');
    expect(filtered).toContain('Older ones: `/cvm list failed,cancelled before=2026-11-20T00:00:00.000Z`');
    const older = shown(
      listReply(platform, '/cvm', { jobs: [], statuses: [], before: '2026-11-20T00:00:00.000Z' }),
    );
    expect(older).toContain('You have no jobs created before `2026-11-20T00:00:00.000Z`.');
  });

  it('answers an unknown job id without saying whose it is', () => {
    const message = notFoundReply(platform, 'job-1');
    expect(message.response_type).toBe('ephemeral');
    expect(shown(message)).toContain('`job-1`');
  });

  it('shows usage of every verb with the command, and the aliases when given', () => {
    const bare = shown(helpReply(platform, '/cvm'));
    for (const verb of ['run', 'check', 'status', 'cancel', 'list', 'help'])
      expect(bare).toContain(`/cvm ${verb}`);
    if (isSlack)
      expect(helpReply(platform, '/cvm').text).toContain('run | check | status | cancel | list | help');
    expect(bare).not.toContain('Aliases');
    const withAliases = shown(
      helpReply(platform, '/cvm', { zone: 'Placement.Zone', count: 'InstanceCount' }),
    );
    expect(withAliases).toContain('Aliases');
    expect(withAliases).toContain('`zone` = `Placement.Zone`');
    expect(withAliases).toContain('`count` = `InstanceCount`');
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`a${i}`, `Name${i}`]));
    const all = shown(helpReply(platform, '/cvm', many));
    expect(all).toContain('`a29` = `Name29`');
    expect(all).not.toContain('more');
  });

  it('refuses politely whoever is not on the list, naming nobody', () => {
    const message = notAllowedReply(platform);
    expect(message.response_type).toBe('ephemeral');
    expect(shown(message)).toContain(
      'you are not on the list of people who may use this command; ask the team that runs cvm-provisioner',
    );
  });

  it('follows up every event in the channel, adding to the conversation rather than replacing the reply', () => {
    for (const type of EVENT_TYPES) {
      const message = followUpMessage(platform, type, view('SUCCEEDED'));
      expect(message.response_type).toBe('in_channel');
      expect(message.replace_original).toBe(false);
    }
  });

  it('follows up job.submitted with the count and the instance ids', () => {
    const job = view('SUBMITTED');
    const message = followUpMessage(platform, 'job.submitted', job);
    expect(message.text).toContain('submitted: 2 instances');
    for (const instance of job.instances) expect(shown(message)).toContain(instance.instanceId);
  });

  it('follows up the end: addresses on success, each failure with its reason and the error otherwise', () => {
    const succeeded = shown(followUpMessage(platform, 'job.succeeded', view('SUCCEEDED')));
    expect(succeeded).toContain('succeeded: 2 instances running');
    expect(succeeded).toContain('`10.0.0.10`');
    expect(succeeded).toContain('`203.0.113.11`');

    const base = view('PARTIALLY_FAILED');
    const instances = base.instances.map((instance, i) =>
      i === 0 ? { ...instance, state: 'LAUNCH_FAILED', reason: 'ResourceInsufficient: no stock' } : instance,
    );
    const partial = shown(followUpMessage(platform, 'job.partially_failed', { ...base, instances }));
    expect(partial).toContain('partially failed: 1 of 2 instances failed');
    expect(partial).toContain(`reason: ResourceInsufficient: no stock`);
    expect(partial).toContain('`LaunchFailed`: see instances');

    const failed = shown(followUpMessage(platform, 'job.failed', view('FAILED', { instances: [] })));
    expect(failed).toContain('failed');
    expect(failed).toContain('sold out');
    expect(failed).toContain('`req-run-1`');

    expect(shown(followUpMessage(platform, 'job.timed_out', view('TIMED_OUT')))).toContain('timed out');
  });

  it('never prints the password, its redaction mark or anything else of LoginSettings', () => {
    const redacted = view('SUBMITTED');
    expect(redacted.request.LoginSettings?.Password).toBe(REDACTED);
    const unredacted = {
      ...redacted,
      request: { ...redacted.request, LoginSettings: { Password: SEED_PASSWORD } },
    };
    for (const job of [redacted, unredacted]) {
      const printed = JSON.stringify(everyReply(platform, job));
      expect(printed).not.toContain(REDACTED);
      expect(printed).not.toContain('TestApi123');
      expect(printed).not.toMatch(/Password|LoginSettings|skey-/);
    }
  });

  it('is deterministic: the same job gives the same reply whatever the clock says', () => {
    const job = view('PARTIALLY_FAILED');
    vi.useFakeTimers({ now: 0 });
    const before = JSON.stringify(everyReply(platform, job));
    vi.setSystemTime(Date.UTC(2030, 0, 1));
    expect(JSON.stringify(everyReply(platform, job))).toBe(before);
  });

  afterEach(() => {
    vi.useRealTimers();
  });
});

describe('hostile text', () => {
  const HOSTILE = '<!channel> <@U123> & *bold* @all [click](https://evil.example)';
  const hostileJob = (status: JobStatus): JobView => {
    const base = view(status);
    return {
      ...base,
      jobId: `<!here> ${base.jobId}`,
      requestedBy: '<@U999> @channel',
      metadata: { '<!everyone>': HOSTILE },
      request: { ...base.request, InstanceName: HOSTILE, InstanceType: '*S5*' },
      instances: base.instances.map((instance) => ({
        ...instance,
        instanceId: `<!channel>${instance.instanceId}`,
        state: '@all',
        privateIpAddresses: ['<https://evil.example|10.0.0.1>'],
        reason: HOSTILE,
      })),
      error: { code: '<!subteam^S1>', message: `${HOSTILE}\n# heading`, requestId: '@here' },
    };
  };
  const replies = (platform: ChatPlatform) => [
    ...everyReply(platform, hostileJob('PARTIALLY_FAILED'), [
      { param: HOSTILE, code: '@all', message: HOSTILE },
    ]),
    refusedReply(platform, HOSTILE, []),
    notFoundReply(platform, HOSTILE),
    helpReply(platform, HOSTILE, { [HOSTILE]: HOSTILE }),
    listReply(platform, HOSTILE, { jobs: [hostileJob('FAILED')], statuses: ['FAILED'], next: '1' }),
    listReply(platform, HOSTILE, { jobs: [], statuses: [] }),
    checkedReply(platform, { region: HOSTILE, request: { Placement: { Zone: HOSTILE }, ImageId: HOSTILE } }),
  ];

  it('on Slack: no control sequence, no raw & and no live @ reaches any text', () => {
    for (const message of replies('slack')) {
      expect(brokenLimits('slack', message)).toEqual([]);
      for (const text of textsOf(message)) {
        expect(text).not.toMatch(/[<>]/);
        expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
        expect(text).not.toMatch(/@(?!\u200D)/);
      }
    }
    const listing = shown(listReply('slack', '/cvm', { jobs: [hostileJob('FAILED')], statuses: [] }));
    expect(listing).toContain('`&lt;!here&gt; 00000000-0000-4000-8000-000000000001`');
    expect(listing).toContain('`&lt;!subteam^S1&gt;`');
    const reason = shown(followUpMessage('slack', 'job.partially_failed', hostileJob('PARTIALLY_FAILED')));
    expect(reason).toContain(
      `reason: &lt;!channel&gt; &lt;@${ZWJ}U123&gt; &amp; *bold* @${ZWJ}all [click](https://evil.example)`,
    );
  });

  it('on Mattermost: every markdown character escaped, no live @, no line of user text of its own', () => {
    for (const message of replies('mattermost')) {
      expect(brokenLimits('mattermost', message)).toEqual([]);
      expect(message.text).not.toMatch(/@(?!\u200D)/);
      expect(message.text).not.toContain('[click](');
      expect(message.text).not.toMatch(/^#/m);
    }
    const text = followUpMessage('mattermost', 'job.partially_failed', hostileJob('PARTIALLY_FAILED')).text;
    expect(text).toContain(
      `reason: <!channel> <@${ZWJ}U123> & \\*bold\\* @${ZWJ}all \\[click\\]\\(https://evil.example\\)`.replace(
        /[<>]/g,
        (ch) => `\\${ch}`,
      ),
    );
    expect(text).toContain('\\# heading');
  });
});

describe('limits', () => {
  const UNITS = [
    '&',
    '<',
    '>',
    '@',
    '*',
    '_',
    '`',
    '~',
    '\\',
    '[',
    ']',
    '|',
    '#',
    '\n',
    '\u202E',
    '😀',
    '\uD800',
    'a',
  ];
  /** Arbitrary text: any code points, or the characters escaping makes longest, up to `max` of them. */
  const text = (max: number) =>
    fc.oneof(
      fc.string({ unit: 'binary', maxLength: max }),
      fc.string({ unit: fc.constantFrom(...UNITS), maxLength: max }),
      fc.tuple(fc.constantFrom(...UNITS, '<!channel>'), fc.nat(max)).map(([unit, n]) => unit.repeat(n)),
    );
  const pick = (list: readonly string[], i: number) => list[i % list.length] ?? '';

  /** A job with `count` instances built from the samples, each with several addresses, most with a reason. */
  function bigJob(sample: {
    ids: string[];
    reasons: string[];
    addresses: string[];
    message: string;
    name: string;
    meta: string;
  }): JobView {
    const base = view('PARTIALLY_FAILED');
    const instances: JobInstance[] = Array.from({ length: 500 }, (_, i) => ({
      instanceId: `${pick(sample.ids, i)}${i}`,
      state: pick(sample.reasons, i + 1).slice(0, 100),
      privateIpAddresses: Array.from({ length: 6 }, (_, k) => pick(sample.addresses, i + k)),
      publicIpAddresses: Array.from({ length: 6 }, (_, k) => pick(sample.addresses, i + k + 1)),
      ...(i % 5 === 4 ? {} : { reason: pick(sample.reasons, i) }),
    }));
    return {
      ...base,
      jobId: sample.name,
      region: sample.meta,
      requestedBy: sample.name,
      request: { ...base.request, InstanceName: sample.name, InstanceType: sample.meta },
      metadata: Object.fromEntries(
        Array.from({ length: 30 }, (_, i) => [`${sample.meta}${i}`, sample.message]),
      ),
      instances,
      error: { code: sample.meta, message: sample.message, requestId: sample.name },
    };
  }
  const sample = fc.record({
    ids: fc.array(text(200), { minLength: 1, maxLength: 4 }),
    reasons: fc.array(text(3000), { minLength: 1, maxLength: 4 }),
    addresses: fc.array(text(100), { minLength: 1, maxLength: 4 }),
    message: text(10_000),
    name: text(500),
    meta: text(500),
  });
  const errorsOf = (message: string): ParamError[] =>
    Array.from({ length: 200 }, (_, i) => ({
      param: `${message.slice(0, 300)}${i}`,
      code: message,
      message,
    }));

  it.each(PLATFORMS)(
    'keeps every %s message within every limit, for 500 instances and any text',
    (platform) => {
      fc.assert(
        fc.property(sample, (s) => {
          const job = bigJob(s);
          for (const message of everyReply(platform, job, errorsOf(s.message)))
            expect(brokenLimits(platform, message)).toEqual([]);
        }),
        { numRuns: 40 },
      );
    },
  );

  it.each(PLATFORMS)('keeps %s within limits in the worst case, and summarises the rest', (platform) => {
    const worst = {
      ids: ['&'.repeat(200)],
      reasons: ['&'.repeat(10_000), '@'.repeat(10_000)],
      addresses: ['<'.repeat(100)],
      message: '&'.repeat(10_000),
      name: '\\'.repeat(500),
      meta: '😀'.repeat(500),
    };
    const job = bigJob(worst);
    const messages = everyReply(platform, job, errorsOf(worst.message));
    for (const message of messages) expect(brokenLimits(platform, message)).toEqual([]);
    const partial = shown(followUpMessage(platform, 'job.partially_failed', job));
    expect(partial).toContain('partially failed: 400 of 500 instances failed');
    // Each group shows at most 20 and says how many it leaves out: 400 failed, 100 others.
    const [failed, others] = [...partial.matchAll(/…and (\d+) more/g)].map((m) => Number(m[1]));
    expect(failed).toBeGreaterThanOrEqual(380);
    expect(others).toBeGreaterThanOrEqual(80);
    expect(shown(refusedReply(platform, 'The request is invalid', errorsOf(worst.message)))).toMatch(
      /…and 1\d\d more/,
    );
  });

  it('cuts long text with "…" after escaping, never inside an escape', () => {
    const message = followUpMessage('slack', 'job.failed', {
      ...view('FAILED'),
      error: { code: 'X', message: '&'.repeat(10_000), requestId: null },
    });
    const line = shown(message)
      .split('\n')
      .find((l) => l.startsWith('*Error*'));
    expect(line).toMatch(/^\*Error\* `X`: (&amp;)+…$/);
    const mattermost = followUpMessage('mattermost', 'job.failed', {
      ...view('FAILED'),
      error: { code: 'X', message: '*'.repeat(10_000), requestId: null },
    });
    expect(mattermost.text).toMatch(/\*\*Error\*\* `X`: (\\\*)+…/);
  });
});
