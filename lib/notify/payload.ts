import { Webhook } from 'standardwebhooks';
import type { Job, JobEvent } from '../jobs/model.ts';
import { toJobView } from '../jobs/model.ts';

/**
 * What a webhook carries (docs/webhooks.md): `{ type, timestamp, data }` with the job view as of the event —
 * the password redacted, as in every view. Built from the stored event for each attempt, and each attempt signs
 * exactly the bytes it sends; the content is the same every time (an event's snapshot never changes), the key
 * order of nested objects may not be.
 */
export function webhookBody(job: Job, event: JobEvent): Buffer {
  return Buffer.from(
    JSON.stringify({ type: event.type, timestamp: event.createdAt, data: toJobView(job, event.snapshot) }),
    'utf8',
  );
}

/** Signers for a list of `whsec_` secrets: each secret signs, so a receiver with either one verifies. */
export function createSigners(secrets: readonly string[]): Webhook[] {
  return secrets.map((secret) => new Webhook(secret));
}

/**
 * The Standard Webhooks headers of one attempt: `webhook-id` (the event's, stable across attempts),
 * `webhook-timestamp` (this attempt's, Unix seconds) and `webhook-signature` (one `v1,<base64>` per secret,
 * space-separated), signed over `id.timestamp.body` with the body's exact bytes.
 */
export function webhookHeaders(
  signers: readonly Webhook[],
  eventId: string,
  attemptAt: number,
  body: Buffer,
): Record<string, string> {
  const at = new Date(attemptAt);
  return {
    'content-type': 'application/json',
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(attemptAt / 1000)),
    'webhook-signature': signers.map((signer) => signer.sign(eventId, at, body)).join(' '),
  };
}
