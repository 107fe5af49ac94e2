import type { Queryable } from '../client.js';
import type { Actor } from './audit-log.js';
import type { OrderStatus, Provider } from './orders.js';
import { FIRST_SEND_GRACE_SECONDS } from './outbox-messages.js';
import type { PaymentStatus } from './payments.js';
import type { StorableEvent, StoredEventRef, StoreOutcome, WebhookEventStatus } from './webhook-events.js';
import { namedStatement } from '../statement.js';

/**
 * A webhook delivery stored in the inbox AND, in its common case, applied, in ONE statement (issue 17,
 * flash-sale speed): an order paid in time, the amount and currency as charged. One data-modifying CTE
 * chain, run on its own (autocommit: one statement is one transaction), so every write below commits
 * together or not at all, in one database round trip:
 *
 *   target   locks the order (a status the caller allows to move to completed, amount + currency equal,
 *            nothing flagged) and its payment (the one carrying the provider's payment id, else the
 *            latest attempt; a status allowed to move to completed). Both or neither.
 *   stored   the inbox row, inserted unless this provider event is already there (then nothing is
 *            written at all: a duplicate): `processed` when `target` found the pair, else `received`,
 *            for the usual path (lib/webhooks/inbox.ts) to apply in a transaction. What may follow an
 *            applied row after the response needs no lease (lib/webhooks/types.ts, needsLease).
 *   go       `target`, only when the row was stored as applied. Every write below reads `go`, so an
 *            empty target or a duplicate writes nothing more.
 *   ord/pay  order and payment completed (provider ids, card details, PayPal's fee when reported).
 *   capture  the ledger's capture row (+ fee row), as lib/ledger/record-movement.ts writes them.
 *   audit    the completion's audit entry.   outbox   the buyer's confirmation email (queued).
 *
 * Nothing here touches ticket_types: the hold is already counted in `taken` (migration 0099).
 * The WHERE clauses take the allowed "from" statuses as parameters: the caller builds them from the
 * one transition table (lib/payments/state-machine.ts, statusesMovingTo), so the rules stay there.
 * Row locks are taken by `FOR UPDATE` in READ COMMITTED: a concurrent writer (the PayPal return, the
 * sweeper, a duplicate delivery of the same event) makes this wait, then the rows are checked again in
 * their new version; a row that no longer qualifies empties `target`. A duplicate racing the first
 * delivery waits on the order's lock, finds it completed, and its insert meets the first one's row.
 * The statement answers one row: the stored row (new) with the completion when it applied it, or the
 * row already there (a duplicate; none when that row was committed after this statement began).
 */

export interface OneStatementCompletion {
  inbox: StorableEvent;
  orderId: string;
  provider: Provider;
  providerSessionId: string | null;
  providerPaymentId: string;
  amountCents: number;
  /** Upper case, as the order stores it. */
  currency: string;
  methodType: string | null;
  methodBrand: string | null;
  methodLast4: string | null;
  /** The provider's fee when the report carries it (PayPal); booked only in the payment's currency. */
  fee: { cents: number; currency: string; netCents: number | null; providerRef: string } | null;
  actor: Actor;
  /** Order statuses allowed to move to completed with a live hold (from the state machine). */
  orderFrom: readonly OrderStatus[];
  /** Payment statuses allowed to move to completed (from the state machine). */
  paymentFrom: readonly PaymentStatus[];
  ledgerWrites: boolean;
  at: Date;
}

export interface OneStatementCompleted {
  orderId: string;
  orderNumber: string;
  previousStatus: OrderStatus;
  paymentId: string;
  /** The confirmation email queued (null when it already was). */
  outboxMessageId: string | null;
}

export type StoreAndComplete =
  /** Stored (processed) and applied: the order completed. */
  | { completed: OneStatementCompleted; event: StoredEventRef }
  /** Not applied: stored as `received` (not the common case), or a duplicate (nothing written). */
  | { completed?: undefined; stored: StoreOutcome };

const STORE_AND_COMPLETE_HELD_ORDER = namedStatement(
  'store_and_complete_held_order',
  `WITH target AS (
     SELECT o.id AS t_order, o.order_number AS t_number, o.status AS t_old_status, o.event_id AS t_event,
            p.id AS t_payment, p.currency AS t_currency
     FROM orders o
     JOIN payments p ON p.id = (
       SELECT x.id FROM payments x WHERE x.order_id = o.id
       ORDER BY (x.provider = $3 AND x.provider_payment_id = $5) DESC, x.created_at DESC, x.id DESC LIMIT 1)
     WHERE o.id = $2
       AND o.status = ANY($11::text[])
       AND o.total_cents = $6 AND o.currency = $7
       AND o.attention_reason IS NULL
       AND p.status = ANY($12::text[])
     FOR UPDATE OF o, p
   ), stored AS (
     INSERT INTO webhook_events (provider, provider_event_id, event_type, payload, payload_raw,
                                 status, attempts, next_attempt_at, processed_at)
     SELECT $3, $1, $24, $25::jsonb, $26,
            CASE WHEN t.t_order IS NULL THEN 'received' ELSE 'processed' END,
            CASE WHEN t.t_order IS NULL THEN 0 ELSE 1 END,
            NULL,
            CASE WHEN t.t_order IS NOT NULL THEN now() END
     FROM (VALUES (1)) AS one (n) LEFT JOIN target t ON true
     ON CONFLICT (provider, provider_event_id) DO NOTHING
     RETURNING id, status
   ), go AS (
     SELECT t.* FROM target t JOIN stored s ON s.status <> 'received'
   ), ord AS (
     UPDATE orders o SET status = 'completed', hold_expires_at = NULL, completed_at = $14
     FROM go t WHERE o.id = t.t_order
     RETURNING o.id
   ), pay AS (
     UPDATE payments p
     SET status = 'completed', provider_session_id = coalesce($4, p.provider_session_id), provider_payment_id = $5,
         completed_at = $14, method_type = $8, method_brand = $9, method_last4 = $10,
         fee_cents = CASE WHEN $15::int IS NOT NULL AND upper($16) = p.currency AND p.fee_cents IS NULL THEN $15::int
                          ELSE p.fee_cents END
     FROM go t WHERE p.id = t.t_payment
     RETURNING p.id
   ), capture AS (
     INSERT INTO money_ledger (kind, event_id, order_id, payment_id, refund_id, provider, provider_ref, source_key,
       amount_cents, currency, details, occurred_at)
     SELECT 'capture', t.t_event, t.t_order, t.t_payment, NULL::uuid, $3, $5, 'capture:' || t.t_payment, $6, $7::text, NULL::jsonb, $14
     FROM go t WHERE $13::boolean
     UNION ALL
     SELECT 'fee', t.t_event, t.t_order, t.t_payment, NULL::uuid, $3, $17, 'fee:' || t.t_payment, -$15::int, t.t_currency,
            CASE WHEN $18::int IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('netCents', $18::int) END, $14
     FROM go t WHERE $13::boolean AND $15::int IS NOT NULL AND upper($16) = t.t_currency
     ON CONFLICT (source_key) DO NOTHING
     RETURNING id
   ), audit AS (
     INSERT INTO payment_audit_log
       (entity_type, entity_id, action, actor_type, actor_id, ip, user_agent, request_id, reason, old_values, new_values)
     SELECT 'order', t.t_order, 'payment_completed', $19, $20, $21, $22, $23, NULL,
            jsonb_build_object('status', t.t_old_status),
            jsonb_build_object('status', 'completed', 'paymentId', t.t_payment, 'provider', $3,
                               'providerPaymentId', $5, 'amountCents', $6, 'currency', $7)
     FROM go t
     RETURNING id
   ), outbox AS (
     INSERT INTO outbox_messages (order_id, kind, cause, recipient, payload, resend_of, requested_by, next_attempt_at)
     SELECT t.t_order, 'order_confirmation', 'payment:' || t.t_payment, coalesce(o.buyer_email, c.email), '{}'::jsonb,
            NULL, NULL, now() + make_interval(secs => ${FIRST_SEND_GRACE_SECONDS})
     FROM go t JOIN orders o ON o.id = t.t_order JOIN customers c ON c.id = o.customer_id
     ON CONFLICT (order_id, kind, cause) DO NOTHING
     RETURNING id
   )
   SELECT true AS "isNew", s.id AS "eventId", s.status AS "eventStatus",
          g.t_order AS "orderId", g.t_number AS "orderNumber", g.t_old_status AS "previousStatus",
          g.t_payment AS "paymentId", (SELECT id FROM outbox) AS "outboxMessageId"
   FROM stored s LEFT JOIN go g ON true
   UNION ALL
   SELECT false, w.id, w.status, NULL, NULL, NULL, NULL, NULL
   FROM webhook_events w
   WHERE w.provider = $3 AND w.provider_event_id = $1 AND NOT EXISTS (SELECT 1 FROM stored)`,
);

/** Stores the delivery and, in the simple case, completes the order, in one statement. */
export async function storeAndCompleteHeldOrder(q: Queryable, c: OneStatementCompletion): Promise<StoreAndComplete> {
  const row = await q.queryOne<StoreAndCompleteRow>(STORE_AND_COMPLETE_HELD_ORDER, [
    c.inbox.providerEventId,
    c.orderId,
    c.provider,
    c.providerSessionId,
    c.providerPaymentId,
    c.amountCents,
    c.currency,
    c.methodType,
    c.methodBrand,
    c.methodLast4,
    c.orderFrom,
    c.paymentFrom,
    c.ledgerWrites,
    c.at,
    c.fee?.cents ?? null,
    c.fee?.currency ?? null,
    c.fee?.providerRef ?? null,
    c.fee?.netCents ?? null,
    c.actor.type,
    c.actor.id ?? null,
    c.actor.ip ?? null,
    c.actor.userAgent ?? null,
    c.actor.requestId ?? null,
    c.inbox.eventType,
    c.inbox.payloadJson,
    c.inbox.payloadRaw,
  ]);
  if (!row) return { stored: { isNew: false, existing: undefined } };
  const event: StoredEventRef = { id: row.eventId, status: row.eventStatus };
  if (!row.isNew) return { stored: { isNew: false, existing: event } };
  if (row.orderId === null) return { stored: { isNew: true, event } };
  const { orderId, orderNumber, previousStatus, paymentId, outboxMessageId } = row;
  return { completed: { orderId, orderNumber, previousStatus, paymentId, outboxMessageId }, event };
}

type StoreAndCompleteRow = { isNew: boolean; eventId: string; eventStatus: WebhookEventStatus } & (
  | OneStatementCompleted
  | { orderId: null; orderNumber: null; previousStatus: null; paymentId: null; outboxMessageId: null }
);
