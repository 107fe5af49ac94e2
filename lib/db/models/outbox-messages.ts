import type { Queryable } from '../client.js';

/**
 * outbox_messages: buyer emails waiting to go out, written in the transaction of the change they report.
 * pending → sending (claimed by one sender in one statement, with a lease) → sent | pending again (backoff) | dead;
 * sending whose lease ran out (the sender died mid-send) → uncertain, never resent by itself: staff resend it
 * (uncertain → pending, same row, same Message-ID). See lib/messages/deliver-messages.ts.
 */

export const MESSAGE_KINDS = [
  'order_confirmation',
  'refund_notification',
  'late_payment_refund',
  'order_expired',
  'order_cancelled',
  'payment_failed',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];
export const MESSAGE_STATUSES = ['pending', 'sending', 'sent', 'dead', 'uncertain'] as const;
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
  /** When the current (or last) claim was taken. */
  claimedAt: Date | null;
  lockedUntil: Date | null;
  lastAttemptAt: Date | null;
  lastError: string | null;
  providerMessageId: string | null;
  resendOf: string | null;
  requestedBy: string | null;
  sentAt: Date | null;
  deadAt: Date | null;
  /** When a lapsed claim made it uncertain (kept when staff resend it or its slow sender reports back). */
  uncertainAt: Date | null;
  /** Queue order (a sequence taken at the INSERT): the order gate sends a message after every earlier one of its order. */
  seq: string;
  createdAt: Date;
  updatedAt: Date;
}

export const OUTBOX_COLUMNS = `id, order_id AS "orderId", kind, cause, recipient, payload, status, attempts,
  next_attempt_at AS "nextAttemptAt", claimed_at AS "claimedAt", locked_until AS "lockedUntil", last_attempt_at AS "lastAttemptAt",
  last_error AS "lastError", provider_message_id AS "providerMessageId", resend_of AS "resendOf",
  requested_by AS "requestedBy", sent_at AS "sentAt", dead_at AS "deadAt", uncertain_at AS "uncertainAt",
  seq::text AS seq, created_at AS "createdAt",
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
 * Claims up to `limit` due messages for this sender, in ONE statement (committed before any SMTP call):
 * status `sending`, claimed_at, attempt + 1, a lease (locked_until). Due: pending whose time has come; with
 * `ids` (the after-commit send, a staff resend) only those, and a never-tried one even inside its grace period;
 * with `orderIds` (follow-ups: messages an earlier one of their order was holding back) likewise, of those orders.
 * SKIP LOCKED plus the re-check of the status on the locked row: concurrent senders (after-commit, crons) never
 * both claim a row, and a claimed row is not due again. A `sending` row whose lease ran out is NOT claimed
 * again (see markLapsedClaimsUncertain).
 *
 * The order gate: a message is claimable only when no earlier message of its order (lower `seq`) is still
 * pending (queued, or failed and waiting for its retry) or sending. Dead and uncertain ones do not block.
 */
export async function claimDueMessages(
  q: Queryable,
  options: {
    limit: number;
    leaseSeconds: number;
    ids?: readonly string[] | undefined;
    orderIds?: readonly string[] | undefined;
  },
): Promise<OutboxMessage[]> {
  return await q.queryMany<OutboxMessage>(
    `UPDATE outbox_messages m
     SET status = 'sending', attempts = m.attempts + 1, claimed_at = now(),
       locked_until = now() + make_interval(secs => $2), last_attempt_at = now()
     WHERE m.id IN (
       SELECT d.id FROM outbox_messages d
       WHERE d.status = 'pending'
         AND (d.next_attempt_at <= now() OR (($3::uuid[] IS NOT NULL OR $4::uuid[] IS NOT NULL) AND d.attempts = 0))
         AND ($3::uuid[] IS NULL OR d.id = ANY($3::uuid[]))
         AND ($4::uuid[] IS NULL OR d.order_id = ANY($4::uuid[]))
         AND NOT EXISTS (
           SELECT 1 FROM outbox_messages e
           WHERE e.order_id = d.order_id AND e.seq < d.seq AND e.status IN ('pending', 'sending'))
       ORDER BY d.next_attempt_at, d.seq
       LIMIT $1
       FOR UPDATE OF d SKIP LOCKED)
     RETURNING ${OUTBOX_COLUMNS}`,
    [options.limit, options.leaseSeconds, options.ids ? [...options.ids] : null, options.orderIds ? [...options.orderIds] : null],
  );
}

/**
 * Claims whose lease ran out: their sender died (or froze) between claiming and recording the outcome, so the
 * SMTP server may or may not have accepted the message. They become `uncertain`, with the reason, and are never
 * sent again by themselves (never twice). Returns the rows moved.
 */
export async function markLapsedClaimsUncertain(q: Queryable): Promise<OutboxMessage[]> {
  return await q.queryMany<OutboxMessage>(
    `UPDATE outbox_messages
     SET status = 'uncertain', uncertain_at = now(), locked_until = NULL,
       last_error = left('attempt ' || attempts || ' claimed at ' || to_char(claimed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
         || ' never reported back (the sender died mid-send): the SMTP server may or may not have accepted it.'
         || ' Not resent automatically; check the mail provider''s log, then resend it on purpose.', 1000)
     WHERE status = 'sending' AND locked_until < now()
     RETURNING ${OUTBOX_COLUMNS}`,
  );
}

/**
 * Only the sender holding the claim (same attempt) records the outcome: while `sending`, or after its claim
 * was declared uncertain (a slow sender that did finish: now it is known).
 */
export async function markMessageSent(
  q: Queryable,
  message: Pick<OutboxMessage, 'id' | 'attempts'>,
  providerMessageId: string | null,
): Promise<boolean> {
  const result = await q.query(
    `UPDATE outbox_messages SET status = 'sent', sent_at = now(), locked_until = NULL,
       provider_message_id = $3
     WHERE id = $1 AND status IN ('sending', 'uncertain') AND attempts = $2`,
    [message.id, message.attempts, providerMessageId],
  );
  return (result.rowCount ?? 0) > 0;
}

/** A failed attempt (certainly not accepted): back to pending at `retryAt`, or dead when `dead`. */
export async function markMessageFailed(
  q: Queryable,
  message: Pick<OutboxMessage, 'id' | 'attempts'>,
  outcome: { error: string; dead: boolean; retryAt: Date },
): Promise<boolean> {
  const result = await q.query(
    `UPDATE outbox_messages
     SET status = CASE WHEN $3 THEN 'dead' ELSE 'pending' END, dead_at = CASE WHEN $3 THEN now() END,
       next_attempt_at = $4, locked_until = NULL, last_error = $5
     WHERE id = $1 AND status IN ('sending', 'uncertain') AND attempts = $2`,
    [message.id, message.attempts, outcome.dead, outcome.retryAt, outcome.error.slice(0, 1000)],
  );
  return (result.rowCount ?? 0) > 0;
}

/**
 * Staff resend of an uncertain message: the same row goes back to pending, due now (same Message-ID, so a mail
 * provider that already has it may drop the copy), `requested_by` the staff member. Undefined unless it was uncertain.
 */
export async function releaseUncertainMessage(q: Queryable, id: string, requestedBy: string): Promise<OutboxMessage | undefined> {
  return await q.queryOne<OutboxMessage>(
    `UPDATE outbox_messages SET status = 'pending', next_attempt_at = now(), requested_by = $2
     WHERE id = $1 AND status = 'uncertain'
     RETURNING ${OUTBOX_COLUMNS}`,
    [id, requestedBy],
  );
}

export async function findOutboxMessage(q: Queryable, id: string): Promise<OutboxMessage | undefined> {
  return await q.queryOne<OutboxMessage>(`SELECT ${OUTBOX_COLUMNS} FROM outbox_messages WHERE id = $1`, [id]);
}

export async function listMessagesForOrder(q: Queryable, orderId: string): Promise<OutboxMessage[]> {
  return await q.queryMany<OutboxMessage>(`SELECT ${OUTBOX_COLUMNS} FROM outbox_messages WHERE order_id = $1 ORDER BY seq`, [
    orderId,
  ]);
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
