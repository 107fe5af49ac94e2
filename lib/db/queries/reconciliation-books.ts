import type { OrderHint } from '../../reconciliation/classify.js';
import type { BooksEntry, DisputeEntry } from '../../reconciliation/types.js';
import { isUuid } from '../../ids.js';
import type { Queryable } from '../client.js';
import type { Provider } from '../models/orders.js';

/**
 * Our side of reconciliation: what our books hold for a provider reference, and what they hold for
 * a day. The books are the money ledger (`money_ledger`: one row per movement, fees included) when
 * the database has it; otherwise the payments and refunds tables (no fees known: fees are then not
 * compared). `booksSource()` tells which.
 */

export type BooksSource = 'money_ledger' | 'payments_and_refunds';

export async function booksSource(q: Queryable): Promise<BooksSource> {
  const row = await q.queryOne<{ ledger: boolean }>(`SELECT to_regclass('money_ledger') IS NOT NULL AS ledger`);
  return row?.ledger ? 'money_ledger' : 'payments_and_refunds';
}

const CAPTURED = `(p.status IN ('completed', 'partially_refunded', 'refunded')
  OR (p.status = 'cancelled' AND p.failure_code = 'duplicate_payment'))`;

type BooksRow = BooksEntry & { occurredAt: Date };

/**
 * Movements as rows: reference, kind, order, signed amount, fee, when. `$1` provider; `range`: `$2`/`$3`
 * the time range; `refs`: `$2` the references.
 */
function booksRowsSql(source: BooksSource, filter: 'range' | 'refs'): string {
  if (source === 'money_ledger') {
    const where = filter === 'range' ? 'l.occurred_at >= $2 AND l.occurred_at < $3' : 'l.provider_ref = ANY($2::text[])';
    return `
      SELECT l.provider_ref AS reference, CASE WHEN l.kind = 'capture' THEN 'charge' ELSE 'refund' END AS kind,
             o.id AS "orderId", o.order_number AS "orderNumber", o.status AS "orderStatus",
             sum(l.amount_cents)::bigint AS "amountCents", l.currency,
             CASE WHEN l.kind = 'capture'
                  THEN (SELECT -sum(f.amount_cents) FROM money_ledger f WHERE f.payment_id = l.payment_id AND f.kind = 'fee')
             END::bigint AS "feeCents",
             min(l.occurred_at) AS "occurredAt"
      FROM money_ledger l JOIN orders o ON o.id = l.order_id
      WHERE l.provider = $1 AND l.kind IN ('capture', 'refund') AND l.provider_ref IS NOT NULL AND ${where}
      GROUP BY l.provider_ref, l.kind, o.id, l.currency, l.payment_id`;
  }
  const payment = filter === 'range' ? 'p.completed_at >= $2 AND p.completed_at < $3' : 'p.provider_payment_id = ANY($2::text[])';
  const refund = filter === 'range' ? 'r.completed_at >= $2 AND r.completed_at < $3' : 'r.provider_refund_id = ANY($2::text[])';
  return `
    SELECT p.provider_payment_id AS reference, 'charge' AS kind, o.id AS "orderId", o.order_number AS "orderNumber",
           o.status AS "orderStatus", p.amount_cents::bigint AS "amountCents", p.currency, NULL::bigint AS "feeCents",
           p.completed_at AS "occurredAt"
    FROM payments p JOIN orders o ON o.id = p.order_id
    WHERE p.provider = $1 AND p.provider_payment_id IS NOT NULL AND ${CAPTURED} AND ${payment}
    UNION ALL
    SELECT r.provider_refund_id, 'refund', o.id, o.order_number, o.status, -r.amount_cents::bigint, r.currency, NULL::bigint,
           r.completed_at
    FROM refunds r JOIN orders o ON o.id = r.order_id
    WHERE r.provider = $1 AND r.provider_refund_id IS NOT NULL AND r.status = 'succeeded' AND ${refund}`;
}

function toEntry(row: BooksRow): BooksRow {
  return {
    ...row,
    amountCents: Number(row.amountCents),
    feeCents: row.feeCents === null ? null : Number(row.feeCents),
  };
}

/** Our books' entries for these provider references (captures by PaymentIntent/capture id, refunds by refund id). */
export async function findBooksEntries(
  q: Queryable,
  source: BooksSource,
  provider: Provider,
  references: string[],
): Promise<Map<string, BooksEntry>> {
  const found = new Map<string, BooksEntry>();
  if (references.length === 0) return found;
  const rows = await q.queryMany<BooksRow>(booksRowsSql(source, 'refs'), [provider, references]);
  for (const row of rows) found.set(row.reference, toEntry(row));
  return found;
}

/**
 * The disputes our books hold (lib/disputes: the disputes table, whose movements are the ledger's dispute rows) for
 * these provider dispute ids. The table comes with the money ledger: none without it.
 */
export async function findDisputeEntries(
  q: Queryable,
  source: BooksSource,
  provider: Provider,
  disputeIds: string[],
): Promise<Map<string, DisputeEntry>> {
  const found = new Map<string, DisputeEntry>();
  if (source !== 'money_ledger' || disputeIds.length === 0) return found;
  const rows = await q.queryMany<DisputeEntry>(
    `SELECT d.provider_dispute_id AS "disputeId", o.id AS "orderId", o.order_number AS "orderNumber",
            o.status AS "orderStatus", d.amount_cents::int AS "amountCents", d.currency::text AS currency, d.status
     FROM disputes d JOIN orders o ON o.id = d.order_id
     WHERE d.provider = $1 AND d.provider_dispute_id = ANY($2::text[])`,
    [provider, disputeIds],
  );
  for (const row of rows) found.set(row.disputeId, row);
  return found;
}

/** Orders the provider names (our order ids it echoes, or the payments carrying its payment references). */
export async function findOrderHints(
  q: Queryable,
  provider: Provider,
  orderIds: string[],
  paymentReferences: string[],
): Promise<{ byOrderId: Map<string, OrderHint>; byPaymentReference: Map<string, OrderHint> }> {
  const byOrderId = new Map<string, OrderHint>();
  const byPaymentReference = new Map<string, OrderHint>();
  const uuids = orderIds.filter((id) => isUuid(id));
  if (uuids.length > 0) {
    const rows = await q.queryMany<OrderHint>(
      `SELECT id AS "orderId", order_number AS "orderNumber", status AS "orderStatus" FROM orders WHERE id = ANY($1::uuid[])`,
      [uuids],
    );
    for (const row of rows) byOrderId.set(row.orderId, row);
  }
  if (paymentReferences.length > 0) {
    const rows = await q.queryMany<OrderHint & { reference: string }>(
      `SELECT p.provider_payment_id AS reference, o.id AS "orderId", o.order_number AS "orderNumber", o.status AS "orderStatus"
       FROM payments p JOIN orders o ON o.id = p.order_id
       WHERE p.provider = $1 AND p.provider_payment_id = ANY($2::text[])`,
      [provider, paymentReferences],
    );
    for (const { reference, ...hint } of rows) byPaymentReference.set(reference, hint);
  }
  return { byOrderId, byPaymentReference };
}

/**
 * Books entries of the day that no line of `runId` names and that no completed run of the day
 * before or after matched (a movement a few seconds either side of midnight is reported there),
 * `limit` at a time after `after` (keyset on occurredAt, reference).
 */
export async function unmatchedBooksEntries(
  q: Queryable,
  source: BooksSource,
  input: {
    provider: Provider;
    runId: string;
    day: string;
    dayStart: Date;
    dayEnd: Date;
    after: { occurredAt: Date; reference: string } | null;
    limit: number;
  },
): Promise<BooksRow[]> {
  const rows = await q.queryMany<BooksRow>(
    `SELECT * FROM (${booksRowsSql(source, 'range')}) b
     WHERE ($6::timestamptz IS NULL OR (b."occurredAt", b.reference) > ($6::timestamptz, $7::text))
       AND NOT EXISTS (SELECT 1 FROM reconciliation_lines l WHERE l.run_id = $4 AND l.reference = b.reference)
       AND NOT EXISTS (
         SELECT 1 FROM reconciliation_runs r JOIN reconciliation_lines l ON l.run_id = r.id
         WHERE r.provider = $1 AND r.status = 'completed' AND r.day IN ($5::date - 1, $5::date + 1)
           AND l.reference = b.reference AND l.provider_record_id IS NOT NULL)
     ORDER BY b."occurredAt", b.reference
     LIMIT $8`,
    [
      input.provider,
      input.dayStart,
      input.dayEnd,
      input.runId,
      input.day,
      input.after?.occurredAt ?? null,
      input.after?.reference ?? null,
      input.limit,
    ],
  );
  return rows.map(toEntry);
}

/** Our books' totals for the day: gross captured, refunded (negative), fees (null when not recorded), count. */
export async function booksDayTotals(
  q: Queryable,
  source: BooksSource,
  provider: Provider,
  dayStart: Date,
  dayEnd: Date,
): Promise<{ grossCents: number; refundsCents: number; feesCents: number | null; records: number; currencies: string[] }> {
  const row = await q.queryOne<{ gross: string; refunds: string; fees: string | null; records: number; currencies: string[] }>(
    `SELECT coalesce(sum(b."amountCents") FILTER (WHERE b.kind = 'charge'), 0)::text AS gross,
            coalesce(sum(b."amountCents") FILTER (WHERE b.kind = 'refund'), 0)::text AS refunds,
            sum(b."feeCents")::text AS fees,
            count(*)::int AS records,
            coalesce(array_agg(DISTINCT b.currency::text) FILTER (WHERE b.currency IS NOT NULL), '{}') AS currencies
     FROM (${booksRowsSql(source, 'range')}) b`,
    [provider, dayStart, dayEnd],
  );
  return {
    grossCents: Number(row?.gross ?? 0),
    refundsCents: Number(row?.refunds ?? 0),
    feesCents: source === 'money_ledger' ? Number(row?.fees ?? 0) : null,
    records: row?.records ?? 0,
    currencies: row?.currencies ?? [],
  };
}
