import type { Queryable } from '../client.js';

/**
 * outbox_messages: buyer emails waiting to go out, written in the transaction of the change they report.
 * pending → sending (claimed by one sender, with a lease) → sent | pending again (backoff) | dead.
 */

export const MESSAGE_KINDS = [
  'order_confirmation',
  'refund_notification',
  'late_payment_refund',
  'order_expired',
  'order_cancelled',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];
export const MESSAGE_STATUSES = ['pending', 'sending', 'sent', 'dead'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface OutboxMessage {
  id: string;
  orderId: string;
  kind: MessageKind;
  cause: string;
  recipient: string;
  payload: Record<string, unknown>;
  status: MessageStatus;
  attempts: number;
  nextAttemptAt: Date;
  lockedUntil: Date | null;
  lastAttemptAt: Date | null;
  lastError: string | null;
  providerMessageId: string | null;
  resendOf: string | null;
  requestedBy: string | null;
  sentAt: Date | null;
  deadAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const OUTBOX_COLUMNS = `id, order_id AS "orderId", kind, cause, recipient, payload, status, attempts,
  next_attempt_at AS "nextAttemptAt", locked_until AS "lockedUntil", last_attempt_at AS "lastAttemptAt",
  last_error AS "lastError", provider_message_id AS "providerMessageId", resend_of AS "resendOf",
  requested_by AS "requestedBy", sent_at AS "sentAt", dead_at AS "deadAt", created_at AS "createdAt",
  updated_at AS "updatedAt"`;

export interface NewOutboxMessage {
  orderId: string;
  kind: MessageKind;
  cause: string;
  payload?: Record<string, unknown>;
  resendOf?: string | null;
  requestedBy?: string | null;
}

/**
 * A new message is sent right after its transaction commits, by id (lib/messages/schedule-delivery.ts);
 * the cron only takes it once this grace period has passed, so the two do not race for fresh messages.
 */
export const FIRST_SEND_GRACE_SECONDS = 30;

/**
 * Queues a message to the order's buyer (the email the order was placed with) unless one with the same (order, kind, cause) exists.
 * Returns the new row, or undefined when it was already queued (a replay).
 */
export async function insertOutboxMessageIfNew(q: Queryable, message: NewOutboxMessage): Promise<OutboxMessage | undefined> {
  return await q.queryOne<OutboxMessage>(
    `INSERT INTO outbox_messages (order_id, kind, cause, recipient, payload, resend_of, requested_by, next_attempt_at)
     SELECT o.id, $2, $3, coalesce(o.buyer_email, c.email), $4, $5, $6, now() + make_interval(secs => ${FIRST_SEND_GRACE_SECONDS})
     FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1
     ON CONFLICT (order_id, kind, cause) DO NOTHING
     RETURNING ${OUTBOX_COLUMNS}`,
    [
      message.orderId,
      message.kind,
      message.cause,
      JSON.stringify(message.payload ?? {}),
      message.resendOf ?? null,
      message.requestedBy ?? null,
    ],
  );
}

/**
 * Claims up to `limit` due messages for this sender: pending ones whose time has come and `sending`
 * ones whose sender's lease ran out (it crashed). With `ids` (the after-commit send, a staff resend):
 * only those, and a never-tried one even inside its grace period. SKIP LOCKED: concurrent senders never get the same
 * row. Each claim counts as an attempt.
 */
export async function claimDueMessages(
  q: Queryable,
  options: { limit: number; leaseSeconds: number; ids?: readonly string[] | undefined },
): Promise<OutboxMessage[]> {
  return await q.queryMany<OutboxMessage>(
    `UPDATE outbox_messages m
     SET status = 'sending', attempts = m.attempts + 1, locked_until = now() + make_interval(secs => $2),
       last_attempt_at = now()
     WHERE m.id IN (
       SELECT id FROM outbox_messages
       WHERE ((status = 'pending' AND (next_attempt_at <= now() OR ($3::uuid[] IS NOT NULL AND attempts = 0)))
              OR (status = 'sending' AND locked_until < now()))
         AND ($3::uuid[] IS NULL OR id = ANY($3::uuid[]))
       ORDER BY next_attempt_at, id
       LIMIT $1
       FOR UPDATE SKIP LOCKED)
     RETURNING ${OUTBOX_COLUMNS}`,
    [options.limit, options.leaseSeconds, options.ids ? [...options.ids] : null],
  );
}

/** Only the sender holding the claim (status sending, same attempt) records the outcome. */
export async function markMessageSent(
  q: Queryable,
  message: Pick<OutboxMessage, 'id' | 'attempts'>,
  providerMessageId: string | null,
): Promise<boolean> {
  const result = await q.query(
    `UPDATE outbox_messages SET status = 'sent', sent_at = now(), locked_until = NULL, provider_message_id = $3
     WHERE id = $1 AND status = 'sending' AND attempts = $2`,
    [message.id, message.attempts, providerMessageId],
  );
  return (result.rowCount ?? 0) > 0;
}

/** A failed attempt: back to pending at `retryAt`, or dead when `dead`. */
export async function markMessageFailed(
  q: Queryable,
  message: Pick<OutboxMessage, 'id' | 'attempts'>,
  outcome: { error: string; dead: boolean; retryAt: Date },
): Promise<boolean> {
  const result = await q.query(
    `UPDATE outbox_messages
     SET status = CASE WHEN $3 THEN 'dead' ELSE 'pending' END, dead_at = CASE WHEN $3 THEN now() END,
       next_attempt_at = $4, locked_until = NULL, last_error = $5
     WHERE id = $1 AND status = 'sending' AND attempts = $2`,
    [message.id, message.attempts, outcome.dead, outcome.retryAt, outcome.error.slice(0, 1000)],
  );
  return (result.rowCount ?? 0) > 0;
}

export async function findOutboxMessage(q: Queryable, id: string): Promise<OutboxMessage | undefined> {
  return await q.queryOne<OutboxMessage>(`SELECT ${OUTBOX_COLUMNS} FROM outbox_messages WHERE id = $1`, [id]);
}

export async function listMessagesForOrder(q: Queryable, orderId: string): Promise<OutboxMessage[]> {
  return await q.queryMany<OutboxMessage>(
    `SELECT ${OUTBOX_COLUMNS} FROM outbox_messages WHERE order_id = $1 ORDER BY created_at, id`,
    [orderId],
  );
}

export interface MessageListFilter {
  status?: MessageStatus | undefined;
  kind?: MessageKind | undefined;
  orderId?: string | undefined;
  limit: number;
  /** Keyset cursor: the (created_at, id) of the last row of the previous page. */
  after?: { createdAt: Date; id: string } | undefined;
}

export async function listOutboxMessages(q: Queryable, filter: MessageListFilter): Promise<OutboxMessage[]> {
  return await q.queryMany<OutboxMessage>(
    `SELECT ${OUTBOX_COLUMNS} FROM outbox_messages
     WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR kind = $2) AND ($3::uuid IS NULL OR order_id = $3)
       AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $6`,
    [
      filter.status ?? null,
      filter.kind ?? null,
      filter.orderId ?? null,
      filter.after?.createdAt ?? null,
      filter.after?.id ?? null,
      filter.limit,
    ],
  );
}
