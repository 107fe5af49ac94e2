import type { Queryable } from '../client.js';
import type { Actor } from './audit-log.js';
import type { OrderStatus, Provider } from './orders.js';
import { FIRST_SEND_GRACE_SECONDS } from './outbox-messages.js';
import type { PaymentStatus } from './payments.js';
import { namedStatement } from '../statement.js';

/**
 * The common completion in ONE statement (issue 17, flash-sale speed): an order paid in time, the
 * amount and currency as charged, reported by a webhook event just stored in the inbox. One
 * data-modifying CTE chain, run on its own (autocommit: one statement is one transaction), so every
 * write below commits together or not at all, in one database round trip:
 *
 *   target   locks the inbox row (still `received`), the order (a status the caller allows to move to
 *            completed, amount + currency equal, nothing flagged) and its payment (the one carrying the
 *            provider's payment id, else the latest attempt; a status allowed to move to completed).
 *            All three or none: every write below reads `target`, so an empty target writes nothing.
 *   ev       the inbox row: processed, or `processing` under a lease when provider calls follow.
 *   ord/pay  order and payment completed (provider ids, card details, PayPal's fee when reported).
 *   capture  the ledger's capture row (+ fee row), as lib/ledger/record-movement.ts writes them.
 *   audit    the completion's audit entry.   outbox   the buyer's confirmation email (queued).
 *
 * Nothing here touches ticket_types: the hold is already counted in `taken` (migration 0099).
 * The WHERE clauses take the allowed "from" statuses as parameters: the caller builds them from the
 * one transition table (lib/payments/state-machine.ts, statusesMovingTo), so the rules stay there.
 * Row locks are taken by `FOR UPDATE` in READ COMMITTED: a concurrent writer (the PayPal return, the
 * sweeper, a duplicate delivery applying the same event) makes this wait, then the rows are checked
 * again in their new version; a row that no longer qualifies empties `target` (nothing written).
 */

export interface OneStatementCompletion {
  inboxEventId: string;
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
  /** Null: the event is processed; else it stays `processing` until then (provider calls follow). */
  leaseUntil: Date | null;
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

const COMPLETE_HELD_ORDER = namedStatement(
  'complete_held_order',
  `WITH target AS (
     SELECT o.id AS t_order, o.order_number AS t_number, o.status AS t_old_status, o.event_id AS t_event,
            p.id AS t_payment, p.currency AS t_currency, w.id AS t_inbox
     FROM orders o
     JOIN payments p ON p.id = (
       SELECT x.id FROM payments x WHERE x.order_id = o.id
       ORDER BY (x.provider = $3 AND x.provider_payment_id = $5) DESC, x.created_at DESC, x.id DESC LIMIT 1)
     JOIN webhook_events w ON w.id = $1 AND w.status = 'received'
     WHERE o.id = $2
       AND o.status = ANY($11::text[])
       AND o.total_cents = $6 AND o.currency = $7
       AND o.attention_reason IS NULL
       AND p.status = ANY($12::text[])
     FOR UPDATE OF o, p, w
   ), ev AS (
     UPDATE webhook_events w
     SET status = CASE WHEN $13::timestamptz IS NULL THEN 'processed' ELSE 'processing' END,
         last_error = NULL, next_attempt_at = $13::timestamptz,
         processed_at = CASE WHEN $13::timestamptz IS NULL THEN now() END, attempts = w.attempts + 1
     FROM target t WHERE w.id = t.t_inbox
     RETURNING w.id
   ), ord AS (
     UPDATE orders o SET status = 'completed', hold_expires_at = NULL, completed_at = $15
     FROM target t WHERE o.id = t.t_order
     RETURNING o.id
   ), pay AS (
     UPDATE payments p
     SET status = 'completed', provider_session_id = coalesce($4, p.provider_session_id), provider_payment_id = $5,
         completed_at = $15, method_type = $8, method_brand = $9, method_last4 = $10,
         fee_cents = CASE WHEN $16::int IS NOT NULL AND upper($17) = p.currency AND p.fee_cents IS NULL THEN $16::int
                          ELSE p.fee_cents END
     FROM target t WHERE p.id = t.t_payment
     RETURNING p.id
   ), capture AS (
     INSERT INTO money_ledger (kind, event_id, order_id, payment_id, refund_id, provider, provider_ref, source_key,
       amount_cents, currency, details, occurred_at)
     SELECT 'capture', t.t_event, t.t_order, t.t_payment, NULL::uuid, $3, $5, 'capture:' || t.t_payment, $6, $7::text, NULL::jsonb, $15
     FROM target t WHERE $14::boolean
     UNION ALL
     SELECT 'fee', t.t_event, t.t_order, t.t_payment, NULL::uuid, $3, $18, 'fee:' || t.t_payment, -$16::int, t.t_currency,
            CASE WHEN $19::int IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('netCents', $19::int) END, $15
     FROM target t WHERE $14::boolean AND $16::int IS NOT NULL AND upper($17) = t.t_currency
     ON CONFLICT (source_key) DO NOTHING
     RETURNING id
   ), audit AS (
     INSERT INTO payment_audit_log
       (entity_type, entity_id, action, actor_type, actor_id, ip, user_agent, request_id, reason, old_values, new_values)
     SELECT 'order', t.t_order, 'payment_completed', $20, $21, $22, $23, $24, NULL,
            jsonb_build_object('status', t.t_old_status),
            jsonb_build_object('status', 'completed', 'paymentId', t.t_payment, 'provider', $3,
                               'providerPaymentId', $5, 'amountCents', $6, 'currency', $7)
     FROM target t
     RETURNING id
   ), outbox AS (
     INSERT INTO outbox_messages (order_id, kind, cause, recipient, payload, resend_of, requested_by, next_attempt_at)
     SELECT t.t_order, 'order_confirmation', 'payment:' || t.t_payment, coalesce(o.buyer_email, c.email), '{}'::jsonb,
            NULL, NULL, now() + make_interval(secs => ${FIRST_SEND_GRACE_SECONDS})
     FROM target t JOIN orders o ON o.id = t.t_order JOIN customers c ON c.id = o.customer_id
     ON CONFLICT (order_id, kind, cause) DO NOTHING
     RETURNING id
   )
   SELECT t.t_order AS "orderId", t.t_number AS "orderNumber", t.t_old_status AS "previousStatus",
          t.t_payment AS "paymentId", (SELECT id FROM outbox) AS "outboxMessageId"
   FROM target t`,
);

/** Completes the order in one statement; undefined when it is not that simple case (nothing was written). */
export async function completeHeldOrderInOneStatement(
  q: Queryable,
  c: OneStatementCompletion,
): Promise<OneStatementCompleted | undefined> {
  return await q.queryOne<OneStatementCompleted>(COMPLETE_HELD_ORDER, [
    c.inboxEventId,
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
    c.leaseUntil,
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
  ]);
}
