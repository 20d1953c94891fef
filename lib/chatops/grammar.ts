import type { ParamError } from '../errors.ts';
import { CONTROL_FIELDS } from '../jobs/control-fields.ts';
import { JOB_STATUSES, type JobStatus } from '../jobs/model.ts';
import { CODES, RESERVED_NAMES } from '../run-instances/index.ts';
import { suggestName } from '../run-instances/suggest.ts';

/**
 * The grammar of the chat slash command (`/cvm run zone=ap-guangzhou-2 image=img-pmqg1cw7 …`): the `text`
 * field Slack or Mattermost posts, turned into a command or into every mistake it holds. Pure: it names
 * RunInstances parameters in their flattened form and leaves their names, types and values to the form
 * decoder and the validator downstream, so the chat and the HTTP API refuse the same request the same way.
 */

/** What the text asks for. `run`/`check` carry flattened RunInstances pairs in the order given. */
export type ChatCommand =
  | { kind: 'run' | 'check'; pairs: Array<[string, string]> }
  | { kind: 'status' | 'cancel'; jobId: string }
  /** The caller's own jobs: in one of `statuses` (none: any), created before `before` (an ISO time) if given. */
  | { kind: 'list'; statuses: JobStatus[]; before?: string }
  | { kind: 'help'; topic?: string }
  /**
   * The text's mistakes, every one; for `run` and `check`, also the pairs that did parse, so the caller can
   * validate those too and list the request's own mistakes beside the text's.
   */
  | { kind: 'invalid'; errors: ParamError[]; verb?: 'run' | 'check'; pairs?: Array<[string, string]> };

/** What an alias stands for: one flattened name, or a list whose comma-separated items become `<list>.<i>`. */
export type AliasTarget = string | { readonly list: string };

/** The short names a chat user may type, lower case (matched case-insensitively), and what each expands to. */
export const ALIASES: Readonly<Record<string, AliasTarget>> = Object.freeze({
  zone: 'Placement.Zone',
  project: 'Placement.ProjectId',
  image: 'ImageId',
  type: 'InstanceType',
  count: 'InstanceCount',
  name: 'InstanceName',
  hostname: 'HostName',
  charge: 'InstanceChargeType',
  period: 'InstanceChargePrepaid.Period',
  vpc: 'VirtualPrivateCloud.VpcId',
  subnet: 'VirtualPrivateCloud.SubnetId',
  ip: { list: 'VirtualPrivateCloud.PrivateIpAddresses' },
  sg: { list: 'SecurityGroupIds' },
  key: { list: 'LoginSettings.KeyIds' },
  disk: 'SystemDisk.DiskSize',
  disktype: 'SystemDisk.DiskType',
  bandwidth: 'InternetAccessible.InternetMaxBandwidthOut',
  publicip: 'InternetAccessible.PublicIpAssigned',
  token: 'ClientToken',
  dryrun: 'DryRun',
  webhook: 'webhookUrl',
});

/** The verbs, in the order help lists them. */
export const VERBS = ['run', 'check', 'status', 'cancel', 'list', 'help'] as const;

/** Slack caps a slash command's text at 4,000 characters; anything longer did not come from a chat client. */
export const MAX_TEXT_LENGTH = 4000;

/** The most characters of the user's own text any message repeats: enough to recognise, too little to flood. */
const ECHO_LENGTH = 64;

/**
 * Quotes by opener: what closes each, and whether a backslash escapes the closer and itself inside (as a
 * shell's double quotes do). Slack and Mattermost clients (macOS, iOS smart punctuation) turn a typed `"`
 * into “…” and `'` into ‘…’, so those pairs count as quotes too. `’` is not an opener: it is the apostrophe
 * those same clients type inside words (`O’Brien`).
 */
const QUOTES: ReadonlyMap<string, { readonly closer: string; readonly escapes: boolean }> = new Map([
  ['"', { closer: '"', escapes: true }],
  ['\u201c', { closer: '\u201d', escapes: true }],
  ["'", { closer: "'", escapes: false }],
  ['\u2018', { closer: '\u2019', escapes: false }],
]);

/** JavaScript's `\s` is Unicode's White_Space (NBSP, the U+2000 spaces, U+3000, line breaks) plus U+FEFF. */
const SPACE = /^\s$/u;
/** Job ids are `crypto.randomUUID()`; any case is accepted, since a chat client may change it. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Control and format characters (bidi overrides, zero-width joiners): escaped when a message repeats them. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

const ALIAS_TABLE: ReadonlyMap<string, AliasTarget> = new Map(Object.entries(ALIASES));
const ALIAS_NAMES: readonly string[] = [...ALIAS_TABLE.keys()];
const CONTROL_NAMES: ReadonlySet<string> = new Set(CONTROL_FIELDS);

/** At most ECHO_LENGTH code points of user text, its invisible characters written out, `…` when cut. */
function clip(text: string): string {
  let out = '';
  let count = 0;
  for (const ch of text) {
    if (count++ === ECHO_LENGTH) {
      out += '…';
      break;
    }
    out += ch;
  }
  return out.replace(INVISIBLE, (ch) => `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`);
}

/** User text as a message repeats it: clipped and quoted. */
const echo = (text: string) => `"${clip(text)}"`;

/** Whether the text has more than `max` code points, reading no further than it must (hostile input). */
function longerThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let count = 0;
  for (const _ of text) if (++count > max) return true;
  return false;
}

const error = (param: string, code: string, message: string): ParamError => ({ param, code, message });

/**
 * Splits the text into words the way a shell would: whitespace separates, quotes (ASCII or typographic) may
 * cover all or part of a word and keep its spaces, and `\"` and `\\` escape inside double quotes. An
 * unterminated quote is an error naming where it opened; its word runs to the end of the text.
 */
export function tokenize(text: string): { tokens: string[]; errors: ParamError[] } {
  if (longerThan(text, MAX_TEXT_LENGTH)) {
    return {
      tokens: [],
      errors: [error('text', CODES.tooLarge, `is longer than ${MAX_TEXT_LENGTH} characters`)],
    };
  }
  const tokens: string[] = [];
  const errors: ParamError[] = [];
  let word: string | undefined;
  let quote: { opener: string; closer: string; escapes: boolean; at: number } | undefined;
  let escaped = false;
  let position = 0;
  for (const ch of text) {
    position++;
    if (quote) {
      if (escaped) {
        escaped = false;
        // Like a shell: only the closer and the backslash itself are escaped; `\n` stays two characters.
        word += ch === quote.closer || ch === '\\' ? ch : `\\${ch}`;
      } else if (quote.escapes && ch === '\\') escaped = true;
      else if (ch === quote.closer) quote = undefined;
      else word += ch;
      continue;
    }
    if (SPACE.test(ch)) {
      if (word !== undefined) tokens.push(word);
      word = undefined;
      continue;
    }
    const opens = QUOTES.get(ch);
    if (opens) {
      quote = { opener: ch, ...opens, at: position };
      word ??= '';
    } else word = (word ?? '') + ch;
  }
  if (quote) {
    if (escaped) word += '\\';
    const hint = quote.opener === "'" ? ' (for an apostrophe, quote the whole value with "…")' : '';
    errors.push(
      error(
        'text',
        CODES.invalidParameter,
        `the ${quote.opener} opened at character ${quote.at} is never closed${hint}`,
      ),
    );
  }
  if (word !== undefined) tokens.push(word);
  return { tokens, errors };
}

/** Where one `key=value` word has gone so far, to tell a second mention of the same parameter. */
interface Seen {
  /** Lower-cased flattened name → the key as typed that named it. */
  names: Map<string, string>;
  /** Lower-cased list name → the list alias that gave the whole list. */
  lists: Map<string, string>;
}

/** The refusal of a second mention of a parameter, or undefined for the first. */
function duplicateOf(seen: Seen, key: string, name: string, list: boolean): ParamError | undefined {
  const lower = name.toLowerCase();
  let earlier = seen.names.get(lower);
  if (earlier === undefined) {
    // A list alias gives the whole list: any item or member of it named otherwise is given twice.
    const segments = lower.split('.');
    for (let end = 1; end <= segments.length && earlier === undefined; end++)
      earlier = seen.lists.get(segments.slice(0, end).join('.'));
  }
  if (earlier === undefined && list) {
    for (const [other, typed] of seen.names)
      if (other.startsWith(`${lower}.`)) {
        earlier = typed;
        break;
      }
  }
  if (earlier === undefined) return undefined;
  const also = earlier === key ? '' : ` (also as ${echo(earlier)})`;
  return error(clip(key), CODES.duplicate, `is given more than once${also}`);
}

/** What is wrong with a key that is no alias, as typed; undefined when it may pass on to the decoder. */
function keyError(key: string): ParamError | undefined {
  const param = clip(key);
  const segments = key.split('.');
  const reserved = segments.find((segment) => RESERVED_NAMES.has(segment));
  // Defence in depth: the form decoder refuses these too, but no such name should travel further than here.
  if (reserved !== undefined)
    return error(param, CODES.invalidParameter, `uses the reserved name "${reserved}"`);
  // A password typed in chat stays in the channel's history for everyone in it, whatever we do with it.
  if (segments.some((segment) => segment.toLowerCase() === 'password'))
    return error(
      param,
      CODES.invalidParameter,
      'a password typed in chat stays in the channel history: use key=<key pair id> (LoginSettings.KeyIds) instead',
    );
  // Tencent's names are PascalCase and ours (webhookUrl, metadata.…) are listed: a lower-case word that is
  // neither and has no dot can only be a mistyped alias, so it is caught here with a suggestion.
  if (segments.length === 1 && /^[a-z]/.test(key) && !CONTROL_NAMES.has(key)) {
    const guess = suggestName(key, ALIAS_NAMES);
    const hint = guess === undefined ? ' (help aliases lists them)' : `; did you mean ${guess}?`;
    return error(param, CODES.unknownParameter, `is not an alias or a RunInstances parameter${hint}`);
  }
  return undefined;
}

/** The `key=value` words of run and check, as flattened pairs; their mistakes go to `errors`. */
function parsePairs(words: readonly string[], errors: ParamError[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const seen: Seen = { names: new Map(), lists: new Map() };
  for (const word of words) {
    const equals = word.indexOf('=');
    if (equals === -1) {
      const alias = ALIAS_TABLE.has(word.toLowerCase()) ? ` (write ${clip(word)}=…)` : '';
      errors.push(error(clip(word), CODES.invalidParameter, `is not key=value${alias}`));
      continue;
    }
    const key = word.slice(0, equals);
    const value = word.slice(equals + 1);
    if (key === '') {
      errors.push(error('(command)', CODES.missing, `${echo(word)} has no key before =`));
      continue;
    }
    const target = ALIAS_TABLE.get(key.toLowerCase());
    const refused = target === undefined ? keyError(key) : undefined;
    if (refused) {
      errors.push(refused);
      continue;
    }
    const name = target === undefined ? key : typeof target === 'string' ? target : target.list;
    const isList = target !== undefined && typeof target !== 'string';
    const duplicate = duplicateOf(seen, key, name, isList);
    if (duplicate) {
      errors.push(duplicate);
      continue;
    }
    if (isList) {
      seen.lists.set(name.toLowerCase(), key);
      const items = value.split(',').map((item) => item.trim());
      const empty = items.indexOf('');
      if (empty !== -1) {
        errors.push(
          error(clip(key), CODES.invalidValue, `has an empty item (number ${empty + 1}): write a,b,c`),
        );
        continue;
      }
      items.forEach((item, index) => {
        pairs.push([`${name}.${index}`, item]);
      });
    } else {
      seen.names.set(name.toLowerCase(), key);
      pairs.push([name, value]);
    }
  }
  return pairs;
}

/**
 * `status <job id>` and `cancel <job id>`: exactly one argument, a UUID (normalised to lower case, as the job
 * store keeps it).
 */
const parseJobVerb =
  (verb: 'status' | 'cancel') =>
  (args: readonly string[], errors: ParamError[]): ChatCommand | undefined => {
    const [jobId, ...extra] = args;
    if (jobId === undefined) {
      errors.push(error('jobId', CODES.missing, `${verb} needs a job id: ${verb} <job id>`));
      return undefined;
    }
    if (extra.length > 0)
      errors.push(
        error('(command)', CODES.invalidParameter, `${verb} takes one job id, got ${args.length} words`),
      );
    if (!UUID.test(jobId))
      errors.push(
        error('jobId', CODES.invalidValue, `${echo(jobId)} is not a job id (a UUID, as run answers)`),
      );
    return { kind: verb, jobId: jobId.toLowerCase() };
  };

/**
 * A time `before=` takes: an ISO 8601 date, or a date and time with its zone (`Z` or `+08:00`), since a time
 * without one would be read in the Lambda's own zone. The listing prints its times in the same form.
 */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/i;

/** The time `before=` names in milliseconds, or NaN: Date.parse alone takes February 30th as March 2nd. */
function isoTimeOf(value: string): number {
  if (!ISO_TIME.test(value)) return Number.NaN;
  const [year = 0, month = 0, day = 0] = value.slice(0, 10).split('-').map(Number);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const real = date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return real ? Date.parse(value) : Number.NaN;
}

/** A status as a chat user may type it (`failed`, `timed-out`), or undefined when it names none. */
function statusNamed(word: string): JobStatus | undefined {
  const name = word.toUpperCase().replace(/-/g, '_');
  return JOB_STATUSES.find((status) => status === name);
}

/**
 * `list [status[,status…] …] [before=<time>]`: statuses in any case, separated by commas or spaces; every word
 * that is neither a status nor one `before=` with an ISO time is a mistake, the valid statuses listed.
 */
function parseList(args: readonly string[], errors: ParamError[]): ChatCommand {
  const statuses = new Set<JobStatus>();
  let before: string | undefined;
  for (const word of args) {
    const equals = word.indexOf('=');
    if (equals !== -1) {
      const key = word.slice(0, equals);
      const value = word.slice(equals + 1);
      if (key.toLowerCase() !== 'before') {
        errors.push(
          error(clip(key), CODES.unknownParameter, 'list takes statuses and before=<time>, nothing else'),
        );
        continue;
      }
      if (before !== undefined) {
        errors.push(error('before', CODES.duplicate, 'is given more than once'));
        continue;
      }
      const at = isoTimeOf(value);
      if (Number.isNaN(at)) {
        errors.push(
          error(
            'before',
            CODES.invalidValue,
            `${echo(value)} is not an ISO 8601 time, e.g. 2026-12-01T00:00:00Z`,
          ),
        );
        continue;
      }
      before = new Date(at).toISOString();
      continue;
    }
    for (const item of word.split(',')) {
      if (item === '') continue;
      const status = statusNamed(item);
      if (status !== undefined) {
        statuses.add(status);
        continue;
      }
      const guess = suggestName(item.toUpperCase(), JOB_STATUSES);
      const hint = guess === undefined ? '' : ` (did you mean ${guess}?)`;
      errors.push(
        error(
          'status',
          CODES.invalidValue,
          `${echo(item)} is not a status: use ${JOB_STATUSES.join(', ')}${hint}`,
        ),
      );
    }
  }
  return { kind: 'list', statuses: [...statuses], ...(before === undefined ? {} : { before }) };
}

/** `help [topic]`: at most one topic, lower-cased and clipped (the renderer may repeat an unknown one). */
function parseHelp(args: readonly string[], errors: ParamError[]): ChatCommand {
  const [topic, ...extra] = args;
  if (extra.length > 0)
    errors.push(error('(command)', CODES.invalidParameter, `help takes one topic, got ${args.length} words`));
  return topic === undefined ? { kind: 'help' } : { kind: 'help', topic: clip(topic.toLowerCase()) };
}

/** One verb's parser: the command, with its mistakes pushed to `errors` (undefined when there is none). */
type VerbParser = (args: readonly string[], errors: ParamError[]) => ChatCommand | undefined;
const PARSERS: ReadonlyMap<string, VerbParser> = new Map<(typeof VERBS)[number], VerbParser>([
  ['run', (args, errors) => ({ kind: 'run', pairs: parsePairs(args, errors) })],
  ['check', (args, errors) => ({ kind: 'check', pairs: parsePairs(args, errors) })],
  ['status', parseJobVerb('status')],
  ['cancel', parseJobVerb('cancel')],
  ['list', parseList],
  ['help', parseHelp],
]);

/** The command a slash command's text asks for, or every mistake in it at once (never throws). */
export function parseCommand(text: string): ChatCommand {
  const { tokens, errors } = tokenize(text);
  const [first, ...args] = tokens;
  if (first === undefined) return errors.length > 0 ? { kind: 'invalid', errors } : { kind: 'help' };
  const parser = PARSERS.get(first.toLowerCase());
  if (parser === undefined) {
    const guess = suggestName(first.toLowerCase(), VERBS);
    const hint = guess === undefined ? '' : ` (did you mean ${guess}?)`;
    errors.push(
      error(
        '(command)',
        CODES.invalidAction,
        `${echo(first)} is not a command: use ${VERBS.join(', ')}${hint}`,
      ),
    );
    return { kind: 'invalid', errors };
  }
  const command = parser(args, errors);
  if (errors.length === 0 && command !== undefined) return command;
  if (command && (command.kind === 'run' || command.kind === 'check'))
    return { kind: 'invalid', errors, verb: command.kind, pairs: command.pairs };
  return { kind: 'invalid', errors };
}
