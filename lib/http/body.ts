import { InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.ts';
import { decodeFlattened, jsonSyntaxViolation, type ProfileName, schemaFor } from '../run-instances/index.ts';
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

/**
 * Parses a RunInstances body: JSON, or the flattened form of Tencent's examples. The result is the nested
 * API 3.0 shape (control fields included), not yet validated.
 */
export function parseRequestBody(event: HttpEvent, profile: ProfileName): Record<string, unknown> {
  const contentType = header(event, 'content-type');
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json' && mediaType !== 'application/x-www-form-urlencoded') {
    throw new UnsupportedMediaTypeError(contentType);
  }
  const bytes = bodyBytes(event);
  if (bytes.length === 0) throw bodyViolation('is empty');
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw bodyViolation('is not UTF-8');
  }
  if (mediaType === 'application/x-www-form-urlencoded') {
    const decoded = decodeFlattened(text, schemaFor(profile));
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
