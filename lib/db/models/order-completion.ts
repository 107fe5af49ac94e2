import type { Queryable } from '../client.js';
import type { Actor } from './audit-log.js';
import type { OrderStatus, Provider } from './orders.js';
import { FIRST_SEND_GRACE_SECONDS } from './outbox-messages.js';
import type { PaymentStatus } from './payments.js';
import type { StorableEvent, StoredEventRef, StoreOutcome, WebhookEventStatus } from './webhook-events.js';
import { namedStatement } from '../statement.js';

/**
 * Webhook deliveries stored in the inbox AND, in their common case, applied, in ONE statement (issue 17,
 * flash-sale speed): an order paid in time, the amount and currency as charged. One data-modifying CTE
 * chain, run on its own (autocommit: one statement is one transaction), so every write below commits
 * together or not at all, in one database round trip. It takes a GROUP of deliveries (one or more, as
 * arrays: `i`, numbered n = 1..N); lib/db/statement-groups.ts forms the groups (group commit: concurrent
 * deliveries share a statement) and never puts the same provider event or the same order in one twice.
 *
 *   i        the deliveries, one row each.
 *   target   locks each delivery's order (a status the caller allows to move to completed, amount +
 *            currency equal, nothing flagged) and its payment (the one carrying the provider's payment
 *            id, else the latest attempt; a status allowed to move to completed). Both or neither. In
 *            order id order, so two groups never wait on each other in a cycle.
 *   stored   each inbox row, inserted unless that provider event is already there (then nothing is
 *            written for that delivery at all: a duplicate), in event id order (two groups holding the same
 *            events as duplicates wait on each other's inserts in one order, never in a cycle; the order
 *            locks are all taken before, as the sort needs the whole join): `processed` when `target` found its pair,
 *            else `received`, for the usual path (lib/webhooks/inbox.ts) to apply in a transaction. What
 *            may follow an applied row after the response needs no lease (lib/webhooks/types.ts, needsLease).
 *   go       `target`, only for the rows stored as applied. Every write below reads `go`, so an empty
 *            target or a duplicate writes nothing more.
 *   ord/pay  orders and payments completed (provider ids, card details, PayPal's fee when reported).
 *   capture  the ledger's capture rows (+ fee rows), as lib/ledger/record-movement.ts writes them.
 *   audit    each completion's audit entry.   outbox   each buyer's confirmation email (queued).
 *
 * Nothing here touches ticket_types: the hold is already counted in `taken` (migration 0099).
 * The WHERE clauses take the allowed "from" statuses as parameters: the caller builds them from the
 * one transition table (lib/payments/state-machine.ts, statusesMovingTo), so the rules stay there.
 * Row locks are taken by `FOR UPDATE` in READ COMMITTED: a concurrent writer (the PayPal return, the
 * sweeper, a duplicate delivery of the same event) makes this wait, then the rows are checked again in
 * their new version; a row that no longer qualifies drops out of `target`. A duplicate racing the first
 * delivery waits on the order's lock, finds it completed, and its insert meets the first one's row.
 * The statement answers one row per delivery, in order: the stored row (new) with the completion when it
 * applied it, or the row already there (a duplicate; none when that row was committed after this
 * statement began).
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

const STORE_AND_COMPLETE_HELD_ORDERS = namedStatement(
  'store_and_complete_held_orders',
  `WITH i AS (
     SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[],
                          $9::text[], $10::text[], $11::timestamptz[], $12::int[], $13::text[], $14::text[], $15::int[],
                          $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[],
                          $23::text[])
       WITH ORDINALITY AS i (event_id, order_id, provider, session_id, payment_ref, amount, currency, method_type,
                             method_brand, method_last4, at, fee_cents, fee_currency, fee_ref, fee_net, actor_type,
                             actor_id, ip, user_agent, request_id, event_type, payload, payload_raw, n)
   ), target AS (
     SELECT i.n AS t_n, o.id AS t_order, o.order_number AS t_number, o.status AS t_old_status, o.event_id AS t_event,
            p.id AS t_payment, p.currency AS t_currency
     FROM i
     JOIN orders o ON o.id = i.order_id
     JOIN payments p ON p.id = (
       SELECT x.id FROM payments x WHERE x.order_id = o.id
       ORDER BY (x.provider = i.provider AND x.provider_payment_id = i.payment_ref) DESC, x.created_at DESC, x.id DESC LIMIT 1)
     WHERE o.status = ANY($24::text[])
       AND o.total_cents = i.amount AND o.currency = i.currency
       AND o.attention_reason IS NULL
       AND p.status = ANY($25::text[])
     ORDER BY o.id
     FOR UPDATE OF o, p
   ), stored AS (
     INSERT INTO webhook_events (provider, provider_event_id, event_type, payload, payload_raw,
                                 status, attempts, next_attempt_at, processed_at)
     SELECT i.provider, i.event_id, i.event_type, i.payload::jsonb, i.payload_raw,
            CASE WHEN t.t_order IS NULL THEN 'received' ELSE 'processed' END,
            CASE WHEN t.t_order IS NULL THEN 0 ELSE 1 END,
            NULL,
            CASE WHEN t.t_order IS NOT NULL THEN now() END
     FROM i LEFT JOIN target t ON t.t_n = i.n
     ORDER BY i.provider, i.event_id
     ON CONFLICT (provider, provider_event_id) DO NOTHING
     RETURNING id, status, provider, provider_event_id
   ), go AS (
     SELECT t.*, i.*
     FROM target t
     JOIN i ON i.n = t.t_n
     JOIN stored s ON s.provider = i.provider AND s.provider_event_id = i.event_id AND s.status <> 'received'
   ), ord AS (
     UPDATE orders o SET status = 'completed', hold_expires_at = NULL, completed_at = g.at
     FROM go g WHERE o.id = g.t_order
     RETURNING o.id
   ), pay AS (
     UPDATE payments p
     SET status = 'completed', provider_session_id = coalesce(g.session_id, p.provider_session_id),
         provider_payment_id = g.payment_ref, completed_at = g.at, method_type = g.method_type,
         method_brand = g.method_brand, method_last4 = g.method_last4,
         fee_cents = CASE WHEN g.fee_cents IS NOT NULL AND upper(g.fee_currency) = p.currency AND p.fee_cents IS NULL
                          THEN g.fee_cents ELSE p.fee_cents END
     FROM go g WHERE p.id = g.t_payment
     RETURNING p.id
   ), capture AS (
     INSERT INTO money_ledger (kind, event_id, order_id, payment_id, refund_id, provider, provider_ref, source_key,
       amount_cents, currency, details, occurred_at)
     SELECT 'capture', g.t_event, g.t_order, g.t_payment, NULL::uuid, g.provider, g.payment_ref, 'capture:' || g.t_payment,
            g.amount, g.currency, NULL::jsonb, g.at
     FROM go g WHERE $26::boolean
     UNION ALL
     SELECT 'fee', g.t_event, g.t_order, g.t_payment, NULL::uuid, g.provider, g.fee_ref, 'fee:' || g.t_payment,
            -g.fee_cents, g.t_currency,
            CASE WHEN g.fee_net IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('netCents', g.fee_net) END, g.at
     FROM go g WHERE $26::boolean AND g.fee_cents IS NOT NULL AND upper(g.fee_currency) = g.t_currency
     ON CONFLICT (source_key) DO NOTHING
     RETURNING id
   ), audit AS (
     INSERT INTO payment_audit_log
       (entity_type, entity_id, action, actor_type, actor_id, ip, user_agent, request_id, reason, old_values, new_values)
     SELECT 'order', g.t_order, 'payment_completed', g.actor_type, g.actor_id, g.ip, g.user_agent, g.request_id, NULL,
            jsonb_build_object('status', g.t_old_status),
            jsonb_build_object('status', 'completed', 'paymentId', g.t_payment, 'provider', g.provider,
                               'providerPaymentId', g.payment_ref, 'amountCents', g.amount, 'currency', g.currency)
     FROM go g
     RETURNING id
   ), outbox AS (
     INSERT INTO outbox_messages (order_id, kind, cause, recipient, payload, resend_of, requested_by, next_attempt_at)
     SELECT g.t_order, 'order_confirmation', 'payment:' || g.t_payment, coalesce(o.buyer_email, c.email), '{}'::jsonb,
            NULL, NULL, now() + make_interval(secs => ${FIRST_SEND_GRACE_SECONDS})
     FROM go g JOIN orders o ON o.id = g.t_order JOIN customers c ON c.id = o.customer_id
     ON CONFLICT (order_id, kind, cause) DO NOTHING
     RETURNING id, order_id
   )
   SELECT i.n::int AS n, s.id IS NOT NULL AS "isNew", coalesce(s.id, w.id) AS "eventId",
          coalesce(s.status, w.status) AS "eventStatus",
          g.t_order AS "orderId", g.t_number AS "orderNumber", g.t_old_status AS "previousStatus",
          g.t_payment AS "paymentId", m.id AS "outboxMessageId"
   FROM i
   LEFT JOIN stored s ON s.provider = i.provider AND s.provider_event_id = i.event_id
   LEFT JOIN go g ON g.n = i.n
   LEFT JOIN outbox m ON m.order_id = g.t_order
   LEFT JOIN webhook_events w ON s.id IS NULL AND w.provider = i.provider AND w.provider_event_id = i.event_id
   ORDER BY i.n`,
);

/** What must be equal for completions to share one statement (the statement takes them once). */
export function completionGroupKey(c: OneStatementCompletion): string {
  return `${c.orderFrom.join(',')}|${c.paymentFrom.join(',')}|${c.ledgerWrites}`;
}

/**
 * Stores the deliveries and, in the simple case, completes their orders, in ONE statement; answers one
 * outcome per completion, in the order given. The completions must share `completionGroupKey` and may not
 * repeat a provider event or an order (lib/db/statement-groups.ts, as lib/payments/finalize-order.ts uses it).
 */
export async function storeAndCompleteHeldOrders(
  q: Queryable,
  list: readonly OneStatementCompletion[],
): Promise<StoreAndComplete[]> {
  const first = list[0];
  if (!first) return [];
  const key = completionGroupKey(first);
  if (list.some((c) => completionGroupKey(c) !== key)) throw new Error('completions of one statement must share their rules');
  const column = <T>(pick: (c: OneStatementCompletion) => T): T[] => list.map(pick);
  const rows = await q.queryMany<StoreAndCompleteRow>(STORE_AND_COMPLETE_HELD_ORDERS, [
    column((c) => c.inbox.providerEventId),
    column((c) => c.orderId),
    column((c) => c.provider),
    column((c) => c.providerSessionId),
    column((c) => c.providerPaymentId),
    column((c) => c.amountCents),
    column((c) => c.currency),
    column((c) => c.methodType),
    column((c) => c.methodBrand),
    column((c) => c.methodLast4),
    column((c) => c.at),
    column((c) => c.fee?.cents ?? null),
    column((c) => c.fee?.currency ?? null),
    column((c) => c.fee?.providerRef ?? null),
    column((c) => c.fee?.netCents ?? null),
    column((c) => c.actor.type),
    column((c) => c.actor.id ?? null),
    column((c) => c.actor.ip ?? null),
    column((c) => c.actor.userAgent ?? null),
    column((c) => c.actor.requestId ?? null),
    column((c) => c.inbox.eventType),
    column((c) => c.inbox.payloadJson),
    column((c) => c.inbox.payloadRaw),
    first.orderFrom,
    first.paymentFrom,
    first.ledgerWrites,
  ]);
  return list.map((_, index): StoreAndComplete => {
    const row = rows[index];
    if (!row || row.n !== index + 1) throw new Error('store_and_complete_held_orders answered out of order');
    if (row.eventId === null) return { stored: { isNew: false, existing: undefined } };
    const event: StoredEventRef = { id: row.eventId, status: row.eventStatus };
    if (!row.isNew) return { stored: { isNew: false, existing: event } };
    if (row.orderId === null) return { stored: { isNew: true, event } };
    const { orderId, orderNumber, previousStatus, paymentId, outboxMessageId } = row;
    return { completed: { orderId, orderNumber, previousStatus, paymentId, outboxMessageId }, event };
  });
}

type StoreAndCompleteRow = {
  n: number;
  isNew: boolean;
} & ({ eventId: string; eventStatus: WebhookEventStatus } | { eventId: null; eventStatus: null }) &
  (OneStatementCompleted | { orderId: null; orderNumber: null; previousStatus: null; paymentId: null; outboxMessageId: null });
