import type { ParamError } from '../errors.ts';
import type { EventType, JobError, JobInstance, JobStatus, JobView } from '../jobs/model.ts';

/**
 * The chat replies of the slash commands: Slack Block Kit, Mattermost markdown. Pure functions of what they are
 * given (no clock, no I/O), so a reply can be rebuilt byte for byte.
 *
 * Every piece of text that is not ours (instance ids and states, addresses, reasons and error messages from
 * Tencent, job parameters, metadata, the requester, the job id a user typed) goes through the platform's
 * escaping and is cut to a length of its own *after* escaping, so an escape is never cut in half; our own
 * formatting (bold, code) wraps the escaped text. Lists are capped in count and in characters, and a
 * final guard cuts at line boundaries, so no message can break a platform limit whatever the job holds.
 *
 * The request's LoginSettings are never read: only the parameters listed in REQUEST_FIELDS are shown.
 */

/** The chat platforms a command can come from. */
export type ChatPlatform = 'slack' | 'mattermost';

/** A reply body as the platform takes it: JSON-serialisable. */
export interface ChatMessage {
  response_type: 'ephemeral' | 'in_channel';
  text: string;
  blocks?: unknown[];
  replace_original?: boolean;
}

/** Slack's Block Kit limits (https://api.slack.com/reference/block-kit/blocks), and our cap on the fallback. */
export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 3000,
  /** Slack truncates a longer top-level `text`; ours is a short notification fallback anyway. */
  text: 4000,
} as const;

/** Mattermost's post limit (MaxPostSize, in characters). */
export const MATTERMOST_MAX_TEXT = 16_383;

/** How many items a list shows before "…and N more", and how many characters the shown ones may take. */
const MAX_LISTED = 20;
const LIST_BUDGET = 6000;

/** Lengths each kind of foreign text is cut to, escaped. */
const CUT = {
  id: 80,
  state: 40,
  address: 64,
  reason: 400,
  errorCode: 120,
  errorMessage: 1500,
  param: 200,
  message: 500,
  value: 200,
  time: 40,
  title: 200,
  metadata: 120,
} as const;

/** At most this many addresses of each kind are shown per instance, and this many metadata entries. */
const MAX_ADDRESSES = 4;
const MAX_METADATA = 10;
/** Help lists this many aliases (the grammar has about twenty). */
const MAX_ALIASES = 50;

// ---------------------------------------------------------------------------------------------------------
// Escaping

const ZWJ = '\u200D';
/**
 * Characters that would break a line or disguise text: C0/C1 controls (line feed and tab included), the Unicode
 * line and paragraph separators, and the bidirectional embeddings, overrides and isolates. Each becomes a space,
 * so user text stays on the line we put it on and reads in the order it is written.
 */
const FLATTENED = /^[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]$/u;

const SLACK_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '@': `@${ZWJ}`,
};

/** Characters Mattermost's markdown gives a meaning: each is backslash-escaped (CommonMark escapes any ASCII punctuation). */
const MATTERMOST_SPECIAL = new Set(['\\', '*', '_', '`', '~', '[', ']', '(', ')', '#', '>', '<', '|']);

function slackChar(ch: string): string {
  return FLATTENED.test(ch) ? ' ' : (SLACK_ESCAPES[ch] ?? ch);
}

function mattermostChar(ch: string): string {
  if (FLATTENED.test(ch)) return ' ';
  if (ch === '@') return `@${ZWJ}`;
  return MATTERMOST_SPECIAL.has(ch) ? `\\${ch}` : ch;
}

/**
 * Slack mrkdwn escaping: `&`, `<` and `>` become entities, the only escaping Slack defines
 * (https://api.slack.com/reference/surfaces/formatting#escaping), which also disarms every control sequence
 * (`<!channel>`, `<@U123>`, `<#C1>`, `<url|label>`), since each starts with `<`. A bare `@channel` pings only
 * when a message is sent with `link_names`/`parse`, which we never do, and our blocks are `verbatim`; a
 * zero-width joiner after each `@` is kept anyway for clients that link them. Line breaks and controls become
 * spaces. Slack has no escape for `*`, `_`, `~` and `` ` ``: they can restyle user text, never ping or link.
 */
export function escapeSlack(text: string): string {
  return Array.from(text.toWellFormed(), slackChar).join('');
}

/**
 * Mattermost markdown escaping: each of \ * _ ` ~ [ ] ( ) # > < | is backslash-escaped, so user text can open no
 * emphasis, code, link, heading, quote, table or autolink. Mentions are found by the server in the raw text,
 * where a backslash does nothing, so each `@` is followed by a zero-width joiner instead: invisible, and not a
 * character a mention may continue with, so `@all`, `@channel`, `@here` and `@user` no longer ping. Line breaks
 * and controls become spaces (no list, quote or heading can start on a line of its own).
 */
export function escapeMattermost(text: string): string {
  return Array.from(text.toWellFormed(), mattermostChar).join('');
}

/**
 * `text` escaped character by character and cut so the result is at most `max` long, "…" included: cutting
 * between escaped characters never splits an entity or a backslash from what it escapes. Stops reading as
 * soon as the cut is known, so a 10,000-character message costs what is shown.
 */
function cutEscaped(text: string, max: number, escapeChar: (ch: string) => string): string {
  let out = '';
  let fitsWithEllipsis = 0;
  for (const ch of text.toWellFormed()) {
    const next = out + escapeChar(ch);
    if (next.length > max) return `${out.slice(0, fitsWithEllipsis)}…`;
    if (next.length <= max - 1) fitsWithEllipsis = next.length;
    out = next;
  }
  return out;
}

/** Already formatted lines, cut at a line boundary to at most `max` characters (an overlong line becomes "…"). */
function fitLines(text: string, max: number): string {
  if (text.length <= max) return text;
  const kept: string[] = [];
  let used = 0;
  for (const line of text.split('\n')) {
    const cost = line.length + (kept.length ? 1 : 0);
    if (used + cost + 2 > max) break;
    kept.push(line);
    used += cost;
  }
  return kept.length ? `${kept.join('\n')}\n…` : '…';
}

// ---------------------------------------------------------------------------------------------------------
// Formatting, per platform

/** How a platform writes text: user text is escaped and cut, our own formatting wraps it. */
interface Formatter {
  /** User text, escaped, at most `max` characters. */
  text(raw: string, max: number): string;
  /** User text as inline code when it can be shown so verbatim, else as escaped text. */
  code(raw: string, max: number): string;
  /** Our own text (or already escaped text) in bold. */
  bold(own: string): string;
  bullet: string;
}

function formatter(
  escapeChar: (ch: string) => string,
  boldMark: string,
  bullet: string,
  /** Whether escaped text can sit in a code span unchanged (in Mattermost, escapes show literally there). */
  codeable: (escaped: string) => boolean,
): Formatter {
  const text = (raw: string, max: number) => (raw === '' ? '(empty)' : cutEscaped(raw, max, escapeChar));
  return {
    text,
    code(raw, max) {
      const escaped = text(raw, max - 2);
      return raw !== '' && codeable(escaped) ? `\`${escaped}\`` : escaped;
    },
    bold: (own) => `${boldMark}${own}${boldMark}`,
    bullet,
  };
}

const FORMATTERS: Readonly<Record<ChatPlatform, Formatter>> = {
  slack: formatter(slackChar, '*', '•', (escaped) => !escaped.includes('`')),
  // Every Mattermost escape adds a backslash or a zero-width joiner: without either, nothing was escaped.
  mattermost: formatter(mattermostChar, '**', '-', (escaped) => !/[\\\u200D]/.test(escaped)),
};

// ---------------------------------------------------------------------------------------------------------
// A reply before it is rendered: parts both platforms show, each in its own way

type Field = readonly [label: string, value: string];

type Part =
  | { kind: 'lines'; lines: readonly string[] }
  | { kind: 'fields'; fields: readonly Field[] }
  | { kind: 'context'; items: readonly string[] };

interface Draft {
  response_type: ChatMessage['response_type'];
  /** Follow-ups add to the conversation rather than replace the command's reply. */
  followUp?: true;
  /** One line for Slack's notification fallback (escaped, no formatting of ours beyond emoji). */
  summary: string;
  parts: readonly Part[];
}

const lines = (...list: string[]): Part => ({ kind: 'lines', lines: list });

interface SectionBlock {
  type: 'section';
  text?: { type: 'mrkdwn'; text: string; verbatim: true };
  fields?: { type: 'mrkdwn'; text: string; verbatim: true }[];
}
interface ContextBlock {
  type: 'context';
  elements: { type: 'mrkdwn'; text: string; verbatim: true }[];
}
type SlackBlock = SectionBlock | ContextBlock;

const mrkdwn = (text: string, max: number) => ({
  type: 'mrkdwn' as const,
  text: fitLines(text, max),
  verbatim: true as const,
});

/** Lines packed into as few section texts as fit Slack's limit, in order. */
function packSections(list: readonly string[]): SlackBlock[] {
  const texts: string[] = [];
  let current = '';
  for (const line of list) {
    const joined = current ? `${current}\n${line}` : line;
    if (joined.length <= SLACK_LIMITS.sectionText || !current) current = joined;
    else {
      texts.push(current);
      current = line;
    }
  }
  if (current) texts.push(current);
  return texts.map((text) => ({ type: 'section', text: mrkdwn(text, SLACK_LIMITS.sectionText) }));
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(list.length / size) }, (_, i) =>
    list.slice(i * size, (i + 1) * size),
  );
}

function slackBlocks(part: Part): SlackBlock[] {
  switch (part.kind) {
    case 'lines':
      return packSections(part.lines);
    case 'fields':
      return chunks(part.fields, SLACK_LIMITS.fields).map((chunk) => ({
        type: 'section',
        fields: chunk.map(([label, value]) => mrkdwn(`*${label}*\n${value}`, SLACK_LIMITS.fieldText)),
      }));
    case 'context':
      return part.items.length
        ? [
            {
              type: 'context',
              elements: part.items
                .slice(0, SLACK_LIMITS.contextElements)
                .map((item) => mrkdwn(item, SLACK_LIMITS.contextText)),
            },
          ]
        : [];
  }
}

function mattermostText(part: Part): string {
  switch (part.kind) {
    case 'lines':
      return part.lines.join('\n');
    case 'fields':
      return part.fields.map(([label, value]) => `**${label}:** ${value}`).join('\n');
    case 'context':
      return part.items.join(' · ');
  }
}

const envelope = (draft: Draft) => ({
  response_type: draft.response_type,
  ...(draft.followUp ? { replace_original: false } : {}),
});

const RENDER: Readonly<Record<ChatPlatform, (draft: Draft) => ChatMessage>> = {
  slack(draft) {
    const all = draft.parts.flatMap(slackBlocks);
    const blocks =
      all.length > SLACK_LIMITS.blocks
        ? [...all.slice(0, SLACK_LIMITS.blocks - 1), ...packSections(['…'])]
        : all;
    return { ...envelope(draft), text: fitLines(draft.summary, SLACK_LIMITS.text), blocks };
  },
  mattermost(draft) {
    const text = draft.parts.map(mattermostText).filter(Boolean).join('\n\n');
    return { ...envelope(draft), text: fitLines(text, MATTERMOST_MAX_TEXT) };
  },
};

function reply(platform: ChatPlatform, build: (f: Formatter) => Draft): ChatMessage {
  return RENDER[platform](build(FORMATTERS[platform]));
}

// ---------------------------------------------------------------------------------------------------------
// Pieces

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** Items as bullet lines, at most `cap` and LIST_BUDGET characters of them, then "…and N more". */
function listed<T>(f: Formatter, items: readonly T[], line: (item: T) => string, cap = MAX_LISTED): string[] {
  const out: string[] = [];
  let used = 0;
  for (const item of items) {
    if (out.length === cap) break;
    const text = `${f.bullet} ${line(item)}`;
    if (used + text.length + 1 > LIST_BUDGET) break;
    out.push(text);
    used += text.length + 1;
  }
  const rest = items.length - out.length;
  return rest > 0 ? [...out, `${f.bullet} …and ${rest} more`] : out;
}

function addresses(f: Formatter, kind: string, list: readonly string[]): string[] {
  if (!list.length) return [];
  const shown = list.slice(0, MAX_ADDRESSES).map((address) => f.code(address, CUT.address));
  const more = list.length > MAX_ADDRESSES ? ` (+${list.length - MAX_ADDRESSES} more)` : '';
  return [`${kind} ${shown.join(', ')}${more}`];
}

function instanceLine(f: Formatter, instance: JobInstance): string {
  return [
    f.code(instance.instanceId, CUT.id),
    f.text(instance.state, CUT.state),
    ...addresses(f, 'private', instance.privateIpAddresses),
    ...addresses(f, 'public', instance.publicIpAddresses),
    ...(instance.reason === undefined ? [] : [`reason: ${f.text(instance.reason, CUT.reason)}`]),
  ].join(' · ');
}

/** The failed instances (those with a reason) first, then the others, each group listed and capped. */
function instanceParts(f: Formatter, instances: readonly JobInstance[]): Part[] {
  const groups: ReadonlyArray<readonly [string, JobInstance[]]> = [
    ['Failed instances', instances.filter((instance) => instance.reason !== undefined)],
    [
      instances.some((i) => i.reason !== undefined) ? 'Other instances' : 'Instances',
      instances.filter((i) => i.reason === undefined),
    ],
  ];
  return groups
    .filter(([, group]) => group.length)
    .map(([title, group]) =>
      lines(f.bold(`${title} (${group.length})`), ...listed(f, group, (i) => instanceLine(f, i))),
    );
}

function errorPart(f: Formatter, error: JobError | null): Part[] {
  if (!error) return [];
  const request = error.requestId === null ? '' : ` (request ${f.code(error.requestId, CUT.id)})`;
  return [
    lines(
      `${f.bold('Error')} ${f.code(error.code, CUT.errorCode)}: ${f.text(error.message, CUT.errorMessage)}${request}`,
    ),
  ];
}

/** A scalar parameter at `path` of a request, as text; undefined when absent or not a scalar. */
function parameter(request: unknown, path: readonly string[]): string | undefined {
  let value = request;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key))
      return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;
}

/**
 * The request parameters a reply summarises, with Tencent's default where it has one; `always`: shown as "—"
 * when absent (left to a launch template). Nothing else of the request is read: LoginSettings never.
 */
const REQUEST_FIELDS: ReadonlyArray<{
  label: string;
  path: readonly string[];
  fallback?: string;
  always?: true;
}> = [
  { label: 'Zone', path: ['Placement', 'Zone'], always: true },
  { label: 'Instance type', path: ['InstanceType'], always: true },
  { label: 'Instances', path: ['InstanceCount'], fallback: '1' },
  { label: 'Image', path: ['ImageId'], always: true },
  { label: 'Charge', path: ['InstanceChargeType'], fallback: '`POSTPAID_BY_HOUR` (default)' },
  { label: 'Prepaid months', path: ['InstanceChargePrepaid', 'Period'] },
  { label: 'Name', path: ['InstanceName'] },
];

function requestFields(f: Formatter, request: unknown): Field[] {
  return REQUEST_FIELDS.flatMap(({ label, path, fallback, always }): Field[] => {
    const value = parameter(request, path);
    if (value !== undefined) return [[label, f.code(value, CUT.value)]];
    if (fallback !== undefined) return [[label, fallback]];
    return always ? [[label, '—']] : [];
  });
}

function metadataPart(f: Formatter, metadata: Readonly<Record<string, string>>): Part[] {
  const entries = Object.entries(metadata);
  if (!entries.length) return [];
  const shown = entries
    .slice(0, MAX_METADATA)
    .map(([key, value]) => `${f.text(key, CUT.metadata)}=${f.text(value, CUT.metadata)}`);
  const more = entries.length > MAX_METADATA ? ` …and ${entries.length - MAX_METADATA} more` : '';
  return [lines(`${f.bold('Metadata')} ${shown.join(' · ')}${more}`)];
}

const TIMES: ReadonlyArray<readonly [string, (job: JobView) => string | null]> = [
  ['created', (job) => job.createdAt],
  ['submitted', (job) => job.submittedAt],
  ['completed', (job) => job.completedAt],
  ['updated', (job) => job.updatedAt],
];

function timesPart(f: Formatter, job: JobView): Part {
  const items = TIMES.flatMap(([label, time]) => {
    const value = time(job);
    return value === null ? [] : [`${label} ${f.code(value, CUT.time)}`];
  });
  return { kind: 'context', items: [`requested by ${f.text(job.requestedBy, CUT.value)}`, ...items] };
}

const jobRef = (f: Formatter, job: Pick<JobView, 'jobId'>) => `${f.bold('Job')} ${f.code(job.jobId, CUT.id)}`;

// ---------------------------------------------------------------------------------------------------------
// Replies

/** The ephemeral acknowledgement of `run`: the job, where and what it launches, and that follow-ups come here. */
export function acceptedReply(platform: ChatPlatform, job: JobView): ChatMessage {
  return reply(platform, (f) => {
    const count = parameter(job.request, ['InstanceCount']) ?? '1';
    const type = parameter(job.request, ['InstanceType']) ?? 'instances';
    const zone = parameter(job.request, ['Placement', 'Zone']) ?? job.region;
    const promise = "I'll post here when it is submitted and when it ends.";
    return {
      response_type: 'ephemeral',
      summary: `:inbox_tray: Job ${f.text(job.jobId, CUT.id)} accepted: ${f.text(count, CUT.state)} × ${f.text(type, CUT.state)} in ${f.text(zone, CUT.state)}. ${promise}`,
      parts: [
        lines(`:inbox_tray: ${jobRef(f, job)} accepted.`, promise),
        {
          kind: 'fields',
          fields: [['Region', f.code(job.region, CUT.value)], ...requestFields(f, job.request)],
        },
        ...metadataPart(f, job.metadata),
        timesPart(f, job),
      ],
    };
  });
}

/** The ephemeral refusal of a command: the title and every violation (param, code, message), capped. */
export function refusedReply(
  platform: ChatPlatform,
  title: string,
  errors: readonly ParamError[],
): ChatMessage {
  return reply(platform, (f) => {
    const heading = `:no_entry: ${f.bold(f.text(title, CUT.title))}`;
    const count = errors.length ? `: ${plural(errors.length, 'problem')}` : '';
    return {
      response_type: 'ephemeral',
      summary: `:no_entry: ${f.text(title, CUT.title)}${count}`,
      parts: [
        lines(
          `${heading}${count}`,
          ...listed(
            f,
            errors,
            (e) =>
              `${f.code(e.param, CUT.param)} ${f.code(e.code, CUT.errorCode)}: ${f.text(e.message, CUT.message)}`,
          ),
        ),
      ],
    };
  });
}

/** The ephemeral answer of `check`: the request is valid, for which region, and what it would launch. */
export function checkedReply(
  platform: ChatPlatform,
  result: { region: string; request: Record<string, unknown> },
): ChatMessage {
  return reply(platform, (f) => ({
    response_type: 'ephemeral',
    summary: `:white_check_mark: The request is valid for ${f.text(result.region, CUT.value)}. Nothing was launched.`,
    parts: [
      lines(
        `:white_check_mark: The request is ${f.bold('valid')} for region ${f.code(result.region, CUT.value)}.`,
        'Nothing was launched: `run` with the same parameters launches it.',
      ),
      { kind: 'fields', fields: requestFields(f, result.request) },
    ],
  }));
}

/** How each status reads, and its emoji. */
const STATUS: Readonly<Record<JobStatus, readonly [emoji: string, words: string]>> = {
  QUEUED: [':hourglass_flowing_sand:', 'queued, not submitted yet'],
  SUBMITTING: [':arrows_counterclockwise:', 'being submitted'],
  SUBMITTED: [':rocket:', 'submitted, waiting for the instances to run'],
  SUCCEEDED: [':white_check_mark:', 'succeeded'],
  PARTIALLY_FAILED: [':warning:', 'partially failed'],
  FAILED: [':x:', 'failed'],
  TIMED_OUT: [':alarm_clock:', 'timed out'],
  CANCELLED: [':no_entry_sign:', 'cancelled'],
};

/** The ephemeral answer of `status`: the status, each instance with its state and addresses, the error, the times. */
export function statusReply(platform: ChatPlatform, job: JobView): ChatMessage {
  return reply(platform, (f) => {
    const [emoji, words] = STATUS[job.status];
    const instances = instanceParts(f, job.instances);
    return {
      response_type: 'ephemeral',
      summary: `${emoji} Job ${f.text(job.jobId, CUT.id)}: ${words}, ${plural(job.instances.length, 'instance')}`,
      parts: [
        lines(`${emoji} ${jobRef(f, job)}: ${f.bold(words)}`),
        {
          kind: 'fields',
          fields: [
            ['Status', `\`${job.status}\``],
            ['Region', f.code(job.region, CUT.value)],
            ...requestFields(f, job.request),
            ['Attempts', String(job.attempts)],
          ],
        },
        ...metadataPart(f, job.metadata),
        ...(instances.length ? instances : [lines('No instances yet.')]),
        ...errorPart(f, job.error),
        timesPart(f, job),
      ],
    };
  });
}

/** The ephemeral answer of `status` for a job the caller cannot see (absent, or not theirs). */
export function notFoundReply(platform: ChatPlatform, jobId: string): ChatMessage {
  return reply(platform, (f) => ({
    response_type: 'ephemeral',
    summary: `:grey_question: No job ${f.text(jobId, CUT.id)} that you may see.`,
    parts: [
      lines(
        `:grey_question: I found no job ${f.code(jobId, CUT.id)} that you may see.`,
        'Check the job id in the reply to your `run`.',
      ),
    ],
  }));
}

/** A page of the caller's own jobs, as `list` found it. */
export interface JobListing {
  /** The jobs shown, newest first. */
  jobs: readonly JobView[];
  /** The statuses asked for; empty: every status. */
  statuses: readonly JobStatus[];
  /** The `before=` time asked for. */
  before?: string;
  /** How many of the caller's newest jobs a filtered listing read, when it left older ones unread. */
  read?: number;
  /** When there are more to see: the `before=` time that lists them. */
  next?: string;
}

/** At most this many instance ids are shown on a job's line of a listing. */
const MAX_LINE_IDS = 3;

/** One job of a listing on one line: id, status, region, its instances (or what it asked for), error, created. */
function listLine(f: Formatter, job: JobView): string {
  const [emoji] = STATUS[job.status];
  const ids = job.instances.slice(0, MAX_LINE_IDS).map((instance) => f.code(instance.instanceId, CUT.id));
  const more = job.instances.length > MAX_LINE_IDS ? ` (+${job.instances.length - MAX_LINE_IDS} more)` : '';
  const count = parameter(job.request, ['InstanceCount']) ?? '1';
  const instances = job.instances.length
    ? `${plural(job.instances.length, 'instance')}: ${ids.join(', ')}${more}`
    : `${f.text(count, CUT.state)} asked for, no instances yet`;
  return [
    `${emoji} ${f.code(job.jobId, CUT.id)} \`${job.status}\``,
    f.code(job.region, CUT.state),
    instances,
    ...(job.error ? [`error ${f.code(job.error.code, CUT.errorCode)}`] : []),
    `created ${f.code(job.createdAt, CUT.time)}`,
  ].join(' · ');
}

/**
 * The ephemeral answer of `list`: the caller's jobs one line each, newest first, how many are shown, and the
 * `list … before=<time>` that shows the next ones when there are more; a friendly line when there are none.
 */
export function listReply(platform: ChatPlatform, command: string, listing: JobListing): ChatMessage {
  return reply(platform, (f) => {
    const { jobs, statuses, before, read, next } = listing;
    const slash = (words: string) => f.code(`${command} ${words}`, CUT.message);
    /** What was asked for: formatted for the message, or plain for Slack's one-line fallback. */
    const asked = (formatted: boolean) => ({
      which: statuses.map((status) => (formatted ? `\`${status}\`` : status)).join(' or '),
      since:
        before === undefined
          ? ''
          : ` created before ${formatted ? f.code(before, CUT.time) : f.text(before, CUT.time)}`,
    });
    // The statuses as list takes them, in lower case with hyphens: a Mattermost code span holds no `_`.
    const typed = statuses.map((status) => status.toLowerCase().replace(/_/g, '-')).join(',');
    const again =
      next === undefined ? undefined : slash(['list', typed, `before=${next}`].filter(Boolean).join(' '));
    if (!jobs.length) {
      const recent = read === undefined ? '' : `${read} most recent `;
      const none = (formatted: boolean) => {
        const { which, since } = asked(formatted);
        if (statuses.length) return `None of your ${recent}jobs${since} is ${which}.`;
        return before === undefined ? 'You have no jobs yet.' : `You have no jobs${since}.`;
      };
      const start =
        statuses.length || before !== undefined
          ? []
          : [`${slash('run …')} launches some, ${slash('help')} says how.`];
      return {
        response_type: 'ephemeral',
        summary: `:open_file_folder: ${none(false)}`,
        parts: [
          lines(`:open_file_folder: ${none(true)}`, ...start, ...(again ? [`Older ones: ${again}`] : [])),
        ],
      };
    }
    const title = (formatted: boolean) => {
      const { which, since } = asked(formatted);
      return `Your ${statuses.length ? `${which} ` : ''}jobs${since}`;
    };
    const shown = `newest first: ${plural(jobs.length, 'job')} shown`;
    const looked = read === undefined ? '' : ` (this looked at your ${read} most recent jobs)`;
    return {
      response_type: 'ephemeral',
      summary: `:clipboard: ${title(false)}, ${shown}`,
      parts: [
        lines(`:clipboard: ${f.bold(title(true))}, ${shown}`, ...listed(f, jobs, (job) => listLine(f, job))),
        lines(
          ...(again ? [`More: ${again}${looked}`] : []),
          `${slash('status')} with a job id shows that job in full.`,
        ),
      ],
    };
  });
}

/** The commands `help` shows: the verb, an example's arguments, what it does. */
const COMMANDS: ReadonlyArray<readonly [verb: string, example: string, what: string]> = [
  [
    'run',
    'zone=ap-guangzhou-3 type=S5.MEDIUM4 image=img-pmqg1cw7 count=2',
    'launch instances: I answer with a job id, and post here when it is submitted and when it ends',
  ],
  [
    'check',
    'zone=ap-guangzhou-3 type=S5.MEDIUM4 image=img-pmqg1cw7 SystemDisk.DiskSize=50',
    'validate the same parameters without launching anything',
  ],
  ['status', '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b', "a job's status, its instances and their addresses"],
  ['cancel', '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b', 'cancel a job nothing was sent to Tencent for yet'],
  [
    'list',
    '',
    'your own jobs, newest first, one line each; `list failed,timed_out` shows only those, `list before=2026-12-01` older ones',
  ],
  ['help', '', 'this message'],
];

/** The ephemeral usage of `command`: every verb with an example, and the aliases when given. */
export function helpReply(
  platform: ChatPlatform,
  command: string,
  aliases: Readonly<Record<string, string>> = {},
): ChatMessage {
  return reply(platform, (f) => {
    const usage = COMMANDS.map(
      ([verb, example, what]) =>
        `${f.bullet} ${f.code([command, verb, example].filter(Boolean).join(' '), CUT.message)} — ${what}`,
    );
    const entries = Object.entries(aliases);
    return {
      response_type: 'ephemeral',
      summary: `Usage: ${f.text(command, CUT.value)} run | check | status | cancel | list | help`,
      parts: [
        lines(`${f.bold('cvm-provisioner')}: launch Tencent Cloud CVM instances from chat.`, ...usage),
        lines(
          'Parameters are name=value pairs: an alias, or any RunInstances parameter by its dotted name ' +
            '(SystemDisk.DiskSize=50). Quote a value that holds spaces.',
        ),
        ...(entries.length
          ? [
              lines(
                f.bold('Aliases'),
                ...listed(
                  f,
                  entries,
                  ([alias, name]) => `${f.code(alias, CUT.param)} = ${f.code(name, CUT.param)}`,
                  MAX_ALIASES,
                ),
              ),
            ]
          : []),
      ],
    };
  });
}

/** The polite ephemeral refusal of someone not allowed to use the command (nothing on who is). */
export function notAllowedReply(platform: ChatPlatform): ChatMessage {
  const sorry =
    'Sorry, you are not on the list of people who may use this command; ask the team that runs cvm-provisioner.';
  return reply(platform, () => ({
    response_type: 'ephemeral',
    summary: `:lock: ${sorry}`,
    parts: [lines(`:lock: ${sorry}`)],
  }));
}

/** How each event's follow-up opens: its emoji and what happened, from the job as the event saw it. */
const FOLLOW_UPS: Readonly<
  Record<EventType, readonly [emoji: string, phrase: (total: number, failed: number) => string]>
> = {
  'job.submitted': [
    ':rocket:',
    (total) => `submitted: ${plural(total, 'instance')}; I'll post again when it ends`,
  ],
  'job.succeeded': [':white_check_mark:', (total) => `succeeded: ${plural(total, 'instance')} running`],
  'job.partially_failed': [
    ':warning:',
    (total, failed) => `partially failed: ${failed} of ${plural(total, 'instance')} failed`,
  ],
  'job.failed': [
    ':x:',
    (total, failed) => (total ? `failed: ${failed} of ${plural(total, 'instance')} failed` : 'failed'),
  ],
  'job.timed_out': [':alarm_clock:', (total) => `timed out waiting for ${plural(total, 'instance')}`],
  'job.cancelled': [':no_entry_sign:', () => 'cancelled before anything was sent to Tencent'],
};

/**
 * The follow-up of an event, posted `in_channel` where the command ran (the outcome of launching shared
 * infrastructure is the team's business, and the ack promised "here") with `replace_original: false`, so the
 * command's own reply stays: submitted with the instance ids, or the end with addresses, reasons and the error.
 */
export function followUpMessage(platform: ChatPlatform, type: EventType, job: JobView): ChatMessage {
  return reply(platform, (f) => {
    const [emoji, phrase] = FOLLOW_UPS[type];
    const failed = job.instances.filter((instance) => instance.reason !== undefined).length;
    const what = phrase(job.instances.length, failed);
    const where = [
      job.region,
      parameter(job.request, ['Placement', 'Zone']),
      parameter(job.request, ['InstanceType']),
    ]
      .filter((value) => value !== undefined)
      .map((value) => f.code(value, CUT.value));
    return {
      response_type: 'in_channel',
      followUp: true,
      summary: `${emoji} Job ${f.text(job.jobId, CUT.id)} ${what}`,
      parts: [
        lines(`${emoji} ${jobRef(f, job)} ${what}`),
        { kind: 'context', items: [where.join(' · ')] },
        ...instanceParts(f, job.instances),
        ...errorPart(f, job.error),
        timesPart(f, job),
      ],
    };
  });
}
