import { createHash } from 'node:crypto';
import { cancelJobForCaller } from '../api/jobs.ts';
import { isoTime } from '../clock.ts';
import {
  IdempotencyInProgressError,
  IdempotencyMismatchError,
  InvalidRequestError,
  JobNotCancellableError,
  NotFoundError,
  type ParamError,
  PolicyDeniedError,
  RequestError,
  ServiceUnavailableError,
} from '../errors.ts';
import { MAX_BODY_BYTES } from '../http/body.ts';
import type { HttpResponse } from '../http/types.ts';
import { type AcceptDeps, acceptJob, rejectionCode } from '../jobs/accept.ts';
import { splitControlFields, submissionSchemaFor } from '../jobs/control-fields.ts';
import type { ChatOrigin } from '../jobs/model.ts';
import { toJobView } from '../jobs/model.ts';
import type { OutboxDeps } from '../jobs/outbox.ts';
import { getJob, listJobsForCaller } from '../jobs/store.ts';
import { checkSubmission, submissionRules } from '../jobs/submission.ts';
import { decodeFlattened, redactRequest } from '../run-instances/index.ts';
import { ALIASES, type ChatCommand, parseCommand } from './grammar.ts';
import {
  acceptedReply,
  type ChatMessage,
  type ChatPlatform,
  checkedReply,
  helpReply,
  type JobListing,
  listReply,
  notAllowedReply,
  notFoundReply,
  refusedReply,
  statusReply,
} from './messages.ts';
import { verifyMattermostToken, verifySlackSignature } from './verify.ts';

/**
 * The chat endpoint (docs/chatops.md): a Slack or Mattermost slash command, authenticated by the platform's
 * signature or token, answered within Slack's three seconds with an ephemeral reply. `run` goes through
 * acceptJob like the HTTP API, with the command's trigger_id as its idempotency key, so a platform's retry or
 * a replayed request never makes a second job. No Tencent call is made here.
 */

export interface ChatSettings {
  /** SLACK_SIGNING_SECRET; unset, Slack requests are refused. */
  slackSigningSecret?: string;
  /** MATTERMOST_TOKEN; unset, Mattermost requests are refused. */
  mattermostToken?: string;
  /** SLACK_ALLOWED_USERS (`*`, user ids, or `<team>/<user>`); unset or empty, nobody may act. */
  allowedUsers: readonly string[];
  allowedTeams?: readonly string[];
  allowedChannels?: readonly string[];
  /** WEBHOOK_ALLOW_PRIVATE: response_urls other than Slack's own are kept (local development). */
  allowPrivate: boolean;
}

export interface ChatDeps extends AcceptDeps, OutboxDeps {
  chat: ChatSettings;
}

interface CommandContext {
  form: URLSearchParams;
  who: { teamId: string; userId: string; channelId: string };
  caller: string;
  rawBody: Buffer;
}

export interface SlashRequest {
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The body's raw bytes (API Gateway's base64 decoded): the signature covers exactly these. */
  rawBody: Buffer;
}

const SLACK_RESPONSE_URL = /^https:\/\/hooks\.slack\.com\//;

/** The aliases as help shows them: a list alias takes comma-separated values. */
const HELP_ALIASES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(ALIASES).map(([alias, target]) => [
    alias,
    typeof target === 'string' ? target : `${target.list} (a comma-separated list)`,
  ]),
);

function json(statusCode: number, body: unknown, extra: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...extra },
    body: JSON.stringify(body),
  };
}

/** A refusal of the request itself (not of the command): 401 problem+json, nothing read beyond the headers. */
function unauthenticated(code: string, detail: string): HttpResponse {
  return {
    statusCode: 401,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
    body: JSON.stringify({
      type: 'urn:cvm-provisioner:problem:unauthenticated',
      title: 'Unauthenticated',
      status: 401,
      detail,
      instance: '/v1/chatops/slack',
      code,
      errors: [],
    }),
  };
}

const reply = (message: ChatMessage) => json(200, message);

/** Which platform sent the request, and whether it is really from there. */
function authenticate(
  deps: ChatDeps,
  request: SlashRequest,
  form: URLSearchParams,
): { ok: true; platform: ChatPlatform } | { ok: false; response: HttpResponse } {
  const { headers } = request;
  if (headers['x-slack-signature'] !== undefined || headers['x-slack-request-timestamp'] !== undefined) {
    if (!deps.chat.slackSigningSecret)
      return { ok: false, response: unauthenticated('AuthFailure', 'Slack requests are not accepted here') };
    const verdict = verifySlackSignature({
      signingSecret: deps.chat.slackSigningSecret,
      timestamp: headers['x-slack-request-timestamp'],
      signature: headers['x-slack-signature'],
      rawBody: request.rawBody,
      nowSeconds: Math.floor(deps.now() / 1000),
    });
    if (verdict.ok) return { ok: true, platform: 'slack' };
    const stale = verdict.reason === 'stale';
    return {
      ok: false,
      response: unauthenticated(
        stale ? 'AuthFailure.SignatureExpire' : 'AuthFailure.SignatureFailure',
        stale
          ? 'The request timestamp is more than five minutes from now'
          : 'The X-Slack-Signature does not match the request',
      ),
    };
  }
  if (
    deps.chat.mattermostToken &&
    verifyMattermostToken({
      expected: deps.chat.mattermostToken,
      authorization: headers.authorization,
      formToken: form.get('token') ?? undefined,
    })
  )
    return { ok: true, platform: 'mattermost' };
  return {
    ok: false,
    response: unauthenticated(
      'AuthFailure',
      'The request carries no valid Slack signature or Mattermost token',
    ),
  };
}

/** Whether the allowlists let this user, in this team and channel, act. */
export function mayAct(
  settings: ChatSettings,
  platform: ChatPlatform,
  who: { teamId: string; userId: string; channelId: string },
) {
  // An entry may name its platform (`slack:U123`, `mattermost:T1/U2`); a bare one matches on either.
  const forms = (value: string) => [value, `${platform}:${value}`];
  const listed = (list: readonly string[] | undefined, ...values: string[]) =>
    list === undefined || list.includes('*') || values.flatMap(forms).some((value) => list.includes(value));
  return (
    settings.allowedUsers.length > 0 &&
    listed(settings.allowedUsers, who.userId, `${who.teamId}/${who.userId}`) &&
    listed(settings.allowedTeams, who.teamId) &&
    listed(settings.allowedChannels, who.channelId)
  );
}

/** The response_url to keep for follow-ups: Slack's own, or (for local development) any http(s) one. */
function usableResponseUrl(deps: ChatDeps, platform: ChatPlatform, url: string | null): string | null {
  if (!url) return null;
  if (platform === 'slack' && SLACK_RESPONSE_URL.test(url)) return url;
  if (platform === 'mattermost' && url.startsWith('https://')) return url;
  return deps.chat.allowPrivate && /^https?:\/\//.test(url) ? url : null;
}

/** The RunInstances request and control fields of `run`/`check` pairs, as the HTTP form path decodes them. */
function decodePairs(deps: ChatDeps, pairs: ReadonlyArray<readonly [string, string]>) {
  const decoded = decodeFlattened(
    new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, v])),
    submissionSchemaFor(deps.profile),
  );
  if (!decoded.ok) throw new InvalidRequestError(decoded.errors);
  return splitControlFields(decoded.value);
}

/** What the request of the pairs that did parse breaks (validation and policy), so every mistake is listed. */
function requestViolations(deps: ChatDeps, pairs: ReadonlyArray<readonly [string, string]>): ParamError[] {
  try {
    const { request, control } = decodePairs(deps, pairs);
    checkSubmission(submissionRules(deps), { request, control });
    return [];
  } catch (error) {
    return error instanceof RequestError ? [...error.violations] : [];
  }
}

/** A refused command, in the platform's words: every violation listed. */
function refusal(platform: ChatPlatform, title: string, errors: readonly ParamError[]): HttpResponse {
  return reply(refusedReply(platform, title, errors));
}

/** Handles one slash command: authenticate, check who asks, run the command, answer at once. */
export async function handleSlashCommand(deps: ChatDeps, request: SlashRequest): Promise<HttpResponse> {
  // A slash command is a few hundred bytes; nothing larger is read, let alone parsed.
  if (request.rawBody.length > MAX_BODY_BYTES)
    return { statusCode: 413, headers: { 'content-type': 'text/plain' }, body: 'Request body too large' };
  const form = new URLSearchParams(request.rawBody.toString('utf8'));
  const auth = authenticate(deps, request, form);
  if (!auth.ok) {
    deps.logger.warn('chat request refused: not authenticated', {
      status: auth.response.statusCode,
      retry: request.headers['x-slack-retry-num'],
    });
    return auth.response;
  }
  const { platform } = auth;
  // Slack checks the Request URL's certificate with ssl_check=1: it wants a 200 and nothing else.
  if (platform === 'slack' && form.get('ssl_check') === '1')
    return { statusCode: 200, headers: {}, body: '' };
  const who = {
    teamId: form.get('team_id') ?? '',
    userId: form.get('user_id') ?? '',
    channelId: form.get('channel_id') ?? '',
  };
  const caller = `${platform}:${who.teamId}/${who.userId}`;
  if (!mayAct(deps.chat, platform, who)) {
    deps.logger.warn('chat command refused: the user is not allowed', { caller, channelId: who.channelId });
    return reply(notAllowedReply(platform));
  }
  const text = form.get('text') ?? '';
  const command = parseCommand(platform === 'slack' ? unescapeSlack(text) : text);
  const slash = form.get('command') || '/cvm';
  try {
    return await answer(deps, platform, command, slash, { form, who, caller, rawBody: request.rawBody });
  } catch (error) {
    deps.logger.error('chat command failed', { caller, error });
    return refusal(platform, 'Something went wrong', [
      { param: '(command)', code: 'InternalError', message: 'try again in a moment' },
    ]);
  }
}

/** The answer to an authenticated, allowed command. */
async function answer(
  deps: ChatDeps,
  platform: ChatPlatform,
  command: ReturnType<typeof parseCommand>,
  slash: string,
  context: CommandContext,
): Promise<HttpResponse> {
  const { caller } = context;
  switch (command.kind) {
    case 'invalid':
      return refusal(platform, 'The command could not be read', [
        ...command.errors,
        ...(command.pairs ? requestViolations(deps, command.pairs) : []),
      ]);
    case 'help':
      return reply(helpReply(platform, slash, HELP_ALIASES));
    case 'cancel':
      try {
        const view = await cancelJobForCaller(deps, caller, command.jobId);
        return reply(statusReply(platform, view));
      } catch (error) {
        if (error instanceof NotFoundError) return reply(notFoundReply(platform, command.jobId));
        if (error instanceof JobNotCancellableError)
          return refusal(platform, 'The job can no longer be cancelled', [
            { param: 'jobId', code: error.code, message: error.message },
          ]);
        throw error;
      }
    case 'status': {
      const job = await getJob(deps, command.jobId);
      // Another caller's job is not found, as over HTTP.
      if (!job || job.requestedBy !== caller) return reply(notFoundReply(platform, command.jobId));
      return reply(statusReply(platform, toJobView(job)));
    }
    case 'list':
      return reply(listReply(platform, slash, await listOwnJobs(deps, caller, command)));
    default:
      return runOrCheck(deps, platform, command.kind, command.pairs, context);
  }
}

/** How many jobs `list` shows. */
const LIST_PAGE = 10;
/**
 * How many of the caller's newest jobs a `list` with statuses reads to find them. The statuses are picked out
 * here rather than by the store's filter, which reads on, Query after Query, until its page is full: `list`
 * keeps to one Query (docs/chatops.md, "The 3-second answer").
 */
const LIST_WINDOW = 50;

/**
 * The caller's own jobs for `list`, newest first, from one Query of the caller index: at most LIST_PAGE of them,
 * and where the next ones start when there are more.
 */
async function listOwnJobs(
  deps: ChatDeps,
  caller: string,
  command: Extract<ChatCommand, { kind: 'list' }>,
): Promise<JobListing> {
  const { statuses, before } = command;
  const filtered = statuses.length > 0;
  const page = await listJobsForCaller(deps, caller, {
    // One more than a page tells whether there are more without a second Query.
    limit: filtered ? LIST_WINDOW : LIST_PAGE + 1,
    // Strictly before: the store's bound is inclusive, and times are ISO with milliseconds.
    ...(before === undefined ? {} : { to: new Date(Date.parse(before) - 1).toISOString() }),
  });
  const matching = filtered ? page.jobs.filter((job) => statuses.includes(job.status)) : page.jobs;
  const shown = matching.slice(0, LIST_PAGE);
  // The next page starts after the last job shown when more matched, else after the last one read, when the
  // listing stopped before the caller's oldest job.
  const unread = page.next !== undefined;
  const last =
    matching.length > LIST_PAGE ? shown.at(-1) : unread && page.jobs.length ? page.jobs.at(-1) : undefined;
  return {
    jobs: shown.map((job) => toJobView(job)),
    statuses,
    ...(before === undefined ? {} : { before }),
    ...(filtered && unread ? { read: page.jobs.length } : {}),
    ...(last === undefined ? {} : { next: last.createdAt }),
  };
}

async function runOrCheck(
  deps: ChatDeps,
  platform: ChatPlatform,
  kind: 'run' | 'check',
  pairs: ReadonlyArray<readonly [string, string]>,
  context: CommandContext,
): Promise<HttpResponse> {
  try {
    const { request, control } = decodePairs(deps, pairs);
    if (kind === 'check') {
      const checked = checkSubmission(submissionRules(deps), { request, control });
      return reply(
        checkedReply(platform, { region: checked.region, request: redactRequest(checked.request) }),
      );
    }
    const chat: ChatOrigin = {
      platform,
      ...context.who,
      responseUrl: usableResponseUrl(deps, platform, context.form.get('response_url')),
      receivedAt: isoTime(deps.now),
    };
    const key = triggerKey(platform, context.form.get('trigger_id'), context.rawBody);
    const { view, replayed } = await acceptJob(deps, {
      caller: context.caller,
      request,
      control,
      chat,
      idempotencyKey: key,
    });
    if (replayed)
      deps.logger.info('chat command replayed: the job it made is answered again', {
        jobId: view.jobId,
        caller: context.caller,
      });
    return reply(acceptedReply(platform, view));
  } catch (error) {
    if (kind === 'run') deps.metrics?.count('JobsRejected', { code: rejectionCode(error) });
    if (error instanceof InvalidRequestError)
      return refusal(
        platform,
        kind === 'check' ? 'The request is not valid' : 'Nothing was launched',
        error.violations,
      );
    if (error instanceof PolicyDeniedError)
      return refusal(platform, 'Not allowed by policy', error.violations);
    if (error instanceof IdempotencyInProgressError)
      return refusal(platform, 'This command is being handled already', []);
    if (error instanceof IdempotencyMismatchError)
      return refusal(platform, 'This command was already used for another request', []);
    if (error instanceof ServiceUnavailableError && /did not confirm/.test(error.message)) {
      // The job may exist: a new command would make a second one. Say how to find out instead.
      const jobId = /job ([0-9a-f-]{36})/.exec(error.message)?.[1] ?? 'the job';
      return refusal(platform, 'The job may or may not have been stored', [
        {
          param: '(command)',
          code: error.code,
          message: `look for it with status ${jobId} in a minute before you run the command again`,
        },
      ]);
    }
    if (error instanceof RequestError && error.expose)
      return refusal(platform, 'Nothing was launched', [
        { param: '(command)', code: error.code, message: error.message },
      ]);
    deps.logger.error('chat command failed', { caller: context.caller, error });
    return refusal(platform, 'Something went wrong; nothing was launched', [
      { param: '(command)', code: 'InternalError', message: 'try again in a moment' },
    ]);
  }
}

/**
 * The command's text as typed: Slack escapes `&`, `<` and `>` in it and wraps what it took for links as
 * `<https://…>` or `<https://…|label>` (Slack, "Formatting text for app surfaces", escaping).
 */
export function unescapeSlack(text: string): string {
  return (
    text
      // With a label, the label is what was typed (`example.com/x` became `<http://example.com/x|example.com/x>`).
      .replace(/<(?:https?|mailto):[^<>|]*\|([^<>]*)>/g, '$1')
      .replace(/<((?:https?|mailto):[^<>|]*)>/g, '$1')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
  );
}

/**
 * The idempotency key of a command: a digest of its trigger_id, which Slack and Mattermost make unique per
 * invocation (a digest: trigger_ids can be long, and a key holds 255 visible characters at most). Without one,
 * a digest of the body, which a platform's retry repeats byte for byte.
 */
function triggerKey(platform: ChatPlatform, triggerId: string | null, rawBody: Buffer): string {
  const digest = createHash('sha256')
    .update(triggerId ? `trigger:${triggerId}` : 'body:')
    .update(triggerId ? '' : rawBody)
    .digest('hex');
  return `${platform}-command:${digest}`;
}
