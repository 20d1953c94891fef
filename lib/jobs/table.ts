/**
 * The jobs table (serverless.yml describes it; the local stack creates it from there). One table, keyed by
 * `pk`: jobs (`job#<id>`, or a `void` tombstone where a job was settled as not stored), idempotency records
 * (`idem#<hash>`), ClientToken reservations (`ctok#<hash>`) and the poller's lease (`lease#poll`). Sparse GSIs find pending work without a Scan
 * (docs/job-lifecycle.md): only a non-terminal job carries `pendingStatus` (its status) and `pendingSince`
 * (when it entered it); only a job with an event delivery due carries `notifyPending` and `notifyAt` (the
 * earliest next attempt among its events).
 */
export const PARTITION_KEY = 'pk';
export const PENDING_INDEX = 'pending-by-status';
export const NOTIFY_INDEX = 'pending-notifications';
/** Every job by its caller (`byCaller`, the job's requestedBy) and `createdAt`: the listing's index. */
export const CALLER_INDEX = 'jobs-by-caller';
/** The one `notifyPending` value: the index is sparse, so presence is what matters. */
export const NOTIFY_PENDING = 'due';

export const jobKey = (jobId: string) => ({ [PARTITION_KEY]: `job#${jobId}` });
export const idempotencyKey = (hash: string) => ({ [PARTITION_KEY]: `idem#${hash}` });
export const clientTokenKey = (hash: string) => ({ [PARTITION_KEY]: `ctok#${hash}` });
export const leaseKey = (name: string) => ({ [PARTITION_KEY]: `lease#${name}` });
