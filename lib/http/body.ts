import { InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.ts';
import { submissionSchemaFor } from '../jobs/control-fields.ts';
import { decodeFlattened, jsonSyntaxViolation, type ProfileName } from '../run-instances/index.ts';
import { type HttpEvent, header } from './types.ts';

/** A RunInstances request is a few KB; 64 KiB leaves room for UserData (16 KB) and tags, and no more. */
export const MAX_BODY_BYTES = 64 * 1024;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The raw body bytes, decoded from base64 when API Gateway encoded them; refuses oversize bodies early. */
export function bodyBytes(
  event: Pick<HttpEvent, 'body' | 'isBase64Encoded'>,
  maxBytes = MAX_BODY_BYTES,
): Buffer {
  const body = event.body ?? '';
  // Base64 is 4/3 the size of what it encodes; refuse before allocating what is plainly too big.
  const estimate = event.isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body);
  if (estimate > maxBytes + 3) throw new PayloadTooLargeError(maxBytes);
  const bytes = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.length > maxBytes) throw new PayloadTooLargeError(maxBytes);
  return bytes;
}

function bodyViolation(message: string): InvalidRequestError {
  return new InvalidRequestError(
    [{ param: '(body)', code: 'InvalidParameter', message }],
    `The request body ${message}`,
  );
}

/** Whether a body looks like JSON (a client that forgot, or mislabelled, its content type). */
const looksLikeJson = (text: string) => /^\s*[{[]/.test(text);

/**
 * The body's text: strict UTF-8, for every content type, before any parsing. A base64 body is decoded and
 * checked byte by byte. A text body reaches us already decoded by API Gateway, which turns bytes that are not
 * UTF-8 into U+FFFD: such a body is refused too rather than accepted with replacement characters.
 */
function bodyText(event: Pick<HttpEvent, 'body' | 'isBase64Encoded'>): string {
  const bytes = bodyBytes(event);
  if (bytes.length === 0) throw bodyViolation('is empty');
  if (!event.isBase64Encoded) {
    const text = event.body ?? '';
    if (text.includes('\uFFFD') || !text.isWellFormed())
      throw bodyViolation('is not UTF-8 (it holds U+FFFD, which stands for bytes that were not UTF-8)');
    return text;
  }
  try {
    return UTF8.decode(bytes);
  } catch {
    throw bodyViolation('is not UTF-8');
  }
}

/** The media type and charset of a Content-Type header; only UTF-8 text is accepted (415 otherwise). */
function mediaTypeOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const [type = '', ...parameters] = contentType.split(';');
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    const charset = value
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (name.trim().toLowerCase() === 'charset' && charset !== 'utf-8' && charset !== 'utf8') {
      throw new UnsupportedMediaTypeError(
        contentType,
        `Send the body as UTF-8 (charset=utf-8 or none); ${charset || 'an empty charset'} is not accepted`,
      );
    }
  }
  return type.trim().toLowerCase();
}

/**
 * Parses a RunInstances body: JSON, or the flattened form of Tencent's examples. The result is the nested
 * API 3.0 shape (control fields included), not yet validated.
 */
export function parseRequestBody(
  event: Pick<HttpEvent, 'headers' | 'body' | 'isBase64Encoded'>,
  profile: ProfileName,
): Record<string, unknown> {
  const contentType = header(event, 'content-type');
  const mediaType = mediaTypeOf(contentType);
  if (mediaType !== 'application/json' && mediaType !== 'application/x-www-form-urlencoded') {
    // A body without a content type reaches a Lambda base64-encoded: look at its first bytes, not at the text.
    const start = event.isBase64Encoded
      ? Buffer.from((event.body ?? '').slice(0, 64), 'base64').toString('latin1')
      : (event.body ?? '').slice(0, 64);
    const hint = looksLikeJson(start)
      ? 'The body looks like JSON: send it with Content-Type: application/json'
      : undefined;
    throw new UnsupportedMediaTypeError(contentType, hint);
  }
  const text = bodyText(event);
  if (mediaType === 'application/x-www-form-urlencoded') {
    if (looksLikeJson(text)) {
      throw bodyViolation(
        'looks like JSON but was sent as a form (curl --data sends application/x-www-form-urlencoded): send Content-Type: application/json',
      );
    }
    const decoded = decodeFlattened(text, submissionSchemaFor(profile));
    if (!decoded.ok) throw new InvalidRequestError(decoded.errors);
    return decoded.value;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError([jsonSyntaxViolation(error)], 'The request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw bodyViolation('must be a JSON object of RunInstances parameters');
  }
  return parsed as Record<string, unknown>;
}
