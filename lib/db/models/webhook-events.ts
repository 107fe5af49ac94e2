import type { Queryable } from '../client.js';
import { namedStatement } from '../statement.js';
import type { Provider } from './orders.js';
import { storablePayload, storableText } from './storable-json.js';

/** webhook_events: the inbox. The unique (provider, provider_event_id) is the dedup. */

export type WebhookEventStatus = 'received' | 'processing' | 'processed' | 'ignored' | 'failed' | 'dead';

export interface WebhookEvent {
  id: string;
  provider: Provider;
  providerEventId: string;
  eventType: string;
  payload: Record<string, unknown>;
  status: WebhookEventStatus;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date | null;
  receivedAt: Date;
  processedAt: Date | null;
  updatedAt: Date;
}

export const WEBHOOK_EVENT_COLUMNS = `id, provider, provider_event_id AS "providerEventId", event_type AS "eventType", payload,
  status, attempts, last_error AS "lastError", next_attempt_at AS "nextAttemptAt", received_at AS "receivedAt",
  processed_at AS "processedAt", updated_at AS "updatedAt"`;

const INSERT_WEBHOOK_EVENT_IF_NEW = namedStatement(
  'insert_webhook_event_if_new',
  `INSERT INTO webhook_events (provider, provider_event_id, event_type, payload, payload_raw)
   VALUES ($1, $2, $3, $4, $5)
   ON CONFLICT (provider, provider_event_id) DO NOTHING
   RETURNING ${WEBHOOK_EVENT_COLUMNS}`,
);

// The stored row when the delivery is new; else the row already there, read in the same statement (as of the
// statement's start: a first delivery committed while this one waited on the unique index is not seen).
const STORE_WEBHOOK_EVENT = namedStatement(
  'store_webhook_event',
  `WITH inserted AS (
     INSERT INTO webhook_events (provider, provider_event_id, event_type, payload, payload_raw)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (provider, provider_event_id) DO NOTHING
     RETURNING id, status
   )
   SELECT true AS "isNew", inserted.* FROM inserted
   UNION ALL
   SELECT false AS "isNew", id, status FROM webhook_events
   WHERE provider = $1 AND provider_event_id = $2 AND NOT EXISTS (SELECT 1 FROM inserted)`,
);

const FIND_WEBHOOK_EVENT_BY_ID = namedStatement(
  'find_webhook_event_by_id',
  `SELECT ${WEBHOOK_EVENT_COLUMNS} FROM webhook_events WHERE id = $1`,
);

const FINISH_WEBHOOK_EVENT_IN_FLIGHT = namedStatement(
  'finish_webhook_event_in_flight',
  `UPDATE webhook_events SET status = 'processed', last_error = NULL, next_attempt_at = NULL, processed_at = now()
   WHERE id = $1 AND status = 'processing'`,
);

type IncomingWebhookEvent = { provider: Provider; providerEventId: string; eventType: string; payload: unknown };

/** An inbox row's columns for a delivery, as PostgreSQL can hold them (storable-json.ts). */
export interface StorableEvent {
  providerEventId: string;
  eventType: string;
  payloadJson: string;
  payloadRaw: string | null;
}

export function storableEvent(event: Omit<IncomingWebhookEvent, 'provider'>): StorableEvent {
  const stored = storablePayload(event.payload);
  return {
    providerEventId: storableText(event.providerEventId),
    eventType: storableText(event.eventType),
    payloadJson: stored.jsonb,
    payloadRaw: stored.raw,
  };
}

function insertParams(event: IncomingWebhookEvent): unknown[] {
  const stored = storableEvent(event);
  return [event.provider, stored.providerEventId, stored.eventType, stored.payloadJson, stored.payloadRaw];
}

/** Stores a verified delivery; undefined when this provider event was already stored (a duplicate). */
export async function insertWebhookEventIfNew(q: Queryable, event: IncomingWebhookEvent): Promise<WebhookEvent | undefined> {
  return await q.queryOne<WebhookEvent>(INSERT_WEBHOOK_EVENT_IF_NEW, insertParams(event));
}

/** The inbox row as the delivery path needs it (its id and status; never the payload back). */
export interface StoredEventRef {
  id: string;
  status: WebhookEventStatus;
}

export type StoreOutcome =
  | { isNew: true; event: StoredEventRef }
  /** A duplicate delivery: the row already stored (undefined when its first delivery committed meanwhile). */
  | { isNew: false; existing: StoredEventRef | undefined };

/**
 * The delivery path's store: insertWebhookEventIfNew, and for a duplicate the row already stored, in the same
 * statement (one round trip for a duplicate instead of two).
 */
export async function storeWebhookEvent(q: Queryable, event: IncomingWebhookEvent): Promise<StoreOutcome> {
  const row = await q.queryOne<StoredEventRef & { isNew: boolean }>(STORE_WEBHOOK_EVENT, insertParams(event));
  if (!row) return { isNew: false, existing: undefined };
  const found = { id: row.id, status: row.status };
  return row.isNew ? { isNew: true, event: found } : { isNew: false, existing: found };
}

export async function findWebhookEventById(q: Queryable, id: string): Promise<WebhookEvent | undefined> {
  return await q.queryOne<WebhookEvent>(FIND_WEBHOOK_EVENT_BY_ID, [id]);
}

export async function findWebhookEventByProviderId(
  q: Queryable,
  provider: Provider,
  providerEventId: string,
): Promise<WebhookEvent | undefined> {
  return await q.queryOne<WebhookEvent>(
    `SELECT ${WEBHOOK_EVENT_COLUMNS} FROM webhook_events WHERE provider = $1 AND provider_event_id = $2`,
    [provider, providerEventId],
  );
}

export async function lockWebhookEventById(q: Queryable, id: string): Promise<WebhookEvent | undefined> {
  return await q.queryOne<WebhookEvent>(`SELECT ${WEBHOOK_EVENT_COLUMNS} FROM webhook_events WHERE id = $1 FOR UPDATE`, [id]);
}

// ----- inbox processing (lib/webhooks/inbox.ts) -----

/** Successful attempt: processed or ignored (with an optional note on why it was ignored); counts the attempt. */
export async function markWebhookEventDone(
  q: Queryable,
  id: string,
  status: 'processed' | 'ignored',
  note: string | null,
): Promise<void> {
  await q.query(
    `UPDATE webhook_events SET status = $2, last_error = $3, next_attempt_at = NULL, processed_at = now(),
       attempts = attempts + 1
     WHERE id = $1`,
    [id, status, note],
  );
}

/**
 * Applied, provider calls still to do: held under a lease (counts the attempt); the retry cron takes
 * it back after `leaseUntil` if the function died before finishing.
 */
export async function markWebhookEventInFlight(q: Queryable, id: string, leaseUntil: Date): Promise<void> {
  await q.query(`UPDATE webhook_events SET status = 'processing', next_attempt_at = $2, attempts = attempts + 1 WHERE id = $1`, [
    id,
    leaseUntil,
  ]);
}

/** Follow-ups done: processed. The attempt was already counted when the lease was taken. */
export async function finishWebhookEventInFlight(q: Queryable, id: string): Promise<void> {
  await q.query(FINISH_WEBHOOK_EVENT_IN_FLIGHT, [id]);
}

/**
 * Corrects the outcome written by an optimistic markWebhookEventDone within the same transaction
 * (ignored with a note, or `processing` under a lease when provider calls follow); the attempt was
 * already counted.
 */
export async function correctWebhookEventOutcome(
  q: Queryable,
  id: string,
  outcome: { status: 'processed' | 'ignored' | 'processing'; note: string | null; leaseUntil: Date | null },
): Promise<void> {
  await q.query(
    `UPDATE webhook_events SET status = $2, last_error = $3, next_attempt_at = $4,
       processed_at = CASE WHEN $2 = 'processing' THEN NULL ELSE processed_at END
     WHERE id = $1`,
    [id, outcome.status, outcome.note, outcome.leaseUntil],
  );
}

/** A failed attempt: `failed` with the next try time, or `dead` (nextAttemptAt null) when out of attempts. */
export async function markWebhookEventFailed(
  q: Queryable,
  id: string,
  failure: { status: 'failed' | 'dead'; attempts: number; error: string; nextAttemptAt: Date | null },
): Promise<void> {
  await q.query('UPDATE webhook_events SET status = $2, attempts = $3, last_error = $4, next_attempt_at = $5 WHERE id = $1', [
    id,
    failure.status,
    failure.attempts,
    failure.error.slice(0, 1000),
    failure.nextAttemptAt,
  ]);
}

/**
 * What the retry cron should pick up at `now`: failed events whose backoff is over, applied events
 * whose provider follow-ups were abandoned (lease over), and received events never processed
 * (the function died between storing and applying) older than `receivedBefore`.
 */
export async function listDueWebhookEvents(
  q: Queryable,
  options: { now: Date; receivedBefore: Date; limit: number },
): Promise<WebhookEvent[]> {
  return await q.queryMany<WebhookEvent>(
    `SELECT ${WEBHOOK_EVENT_COLUMNS} FROM webhook_events
     WHERE (status IN ('failed', 'processing') AND next_attempt_at <= $1)
        OR (status = 'received' AND received_at <= $2)
     ORDER BY COALESCE(next_attempt_at, received_at), id
     LIMIT $3`,
    [options.now, options.receivedBefore, options.limit],
  );
}

/** Admin listing: newest first, optionally by status/provider, keyset-paginated on (received_at, id). */
export async function listWebhookEvents(
  q: Queryable,
  options: {
    status?: WebhookEventStatus | undefined;
    provider?: Provider | undefined;
    limit: number;
    before?: { receivedAt: Date; id: string } | undefined;
  },
): Promise<WebhookEvent[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  if (options.status) {
    values.push(options.status);
    where.push(`status = $${values.length}`);
  }
  if (options.provider) {
    values.push(options.provider);
    where.push(`provider = $${values.length}`);
  }
  if (options.before) {
    values.push(options.before.receivedAt, options.before.id);
    where.push(`(received_at, id) < ($${values.length - 1}, $${values.length})`);
  }
  values.push(options.limit);
  return await q.queryMany<WebhookEvent>(
    `SELECT ${WEBHOOK_EVENT_COLUMNS} FROM webhook_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY received_at DESC, id DESC LIMIT $${values.length}`,
    values,
  );
}
