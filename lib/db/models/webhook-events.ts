import type { Queryable } from '../client.js';
import type { Provider } from './orders.js';

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

/** Stores a verified delivery; undefined when this provider event was already stored (a duplicate). */
export async function insertWebhookEventIfNew(
  q: Queryable,
  event: { provider: Provider; providerEventId: string; eventType: string; payload: unknown },
): Promise<WebhookEvent | undefined> {
  return await q.queryOne<WebhookEvent>(
    `INSERT INTO webhook_events (provider, provider_event_id, event_type, payload)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (provider, provider_event_id) DO NOTHING
     RETURNING ${WEBHOOK_EVENT_COLUMNS}`,
    [event.provider, event.providerEventId, event.eventType, JSON.stringify(event.payload)],
  );
}

export async function findWebhookEventById(q: Queryable, id: string): Promise<WebhookEvent | undefined> {
  return await q.queryOne<WebhookEvent>(`SELECT ${WEBHOOK_EVENT_COLUMNS} FROM webhook_events WHERE id = $1`, [id]);
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
