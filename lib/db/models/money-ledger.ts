import type { Queryable } from '../client.js';
import type { Provider } from './orders.js';

/**
 * money_ledger: append-only (the database refuses UPDATE, DELETE and TRUNCATE). Rows are written
 * only through lib/ledger/record-movement.ts; this file holds the SQL.
 */

export const LEDGER_KINDS = [
  'capture',
  'refund',
  'refund_reversal',
  'dispute_opened',
  'dispute_won',
  'dispute_lost',
  'fee',
] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

export interface LedgerEntry {
  id: number;
  kind: LedgerKind;
  eventId: string;
  orderId: string;
  paymentId: string;
  refundId: string | null;
  provider: Provider;
  providerRef: string | null;
  sourceKey: string;
  /** Signed: positive is money the festival keeps. */
  amountCents: number;
  currency: string;
  details: Record<string, unknown> | null;
  occurredAt: Date;
  recordedAt: Date;
}

const COLUMNS = `id::float8 AS id, kind, event_id AS "eventId", order_id AS "orderId", payment_id AS "paymentId",
  refund_id AS "refundId", provider, provider_ref AS "providerRef", source_key AS "sourceKey",
  amount_cents::float8 AS "amountCents", currency, details, occurred_at AS "occurredAt", recorded_at AS "recordedAt"`;

/** A row to insert: the event comes from the order, id and recorded_at from the database. */
export interface NewLedgerEntry extends Omit<LedgerEntry, 'id' | 'eventId' | 'occurredAt' | 'recordedAt'> {
  /** null: now. */
  occurredAt: Date | null;
}

/** Inserts one row (the event comes from the order); undefined when its source_key is already there. */
export async function insertLedgerEntry(q: Queryable, entry: NewLedgerEntry): Promise<LedgerEntry | undefined> {
  return await q.queryOne<LedgerEntry>(
    `INSERT INTO money_ledger (kind, event_id, order_id, payment_id, refund_id, provider, provider_ref, source_key,
       amount_cents, currency, details, occurred_at)
     SELECT $1, o.event_id, o.id, $3, $4, $5, $6, $7, $8, $9, $10, coalesce($11, now())
     FROM orders o WHERE o.id = $2
     ON CONFLICT (source_key) DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      entry.kind,
      entry.orderId,
      entry.paymentId,
      entry.refundId,
      entry.provider,
      entry.providerRef,
      entry.sourceKey,
      entry.amountCents,
      entry.currency,
      entry.details === null ? null : JSON.stringify(entry.details),
      entry.occurredAt,
    ],
  );
}

export async function listLedgerForOrder(q: Queryable, orderId: string): Promise<LedgerEntry[]> {
  return await q.queryMany<LedgerEntry>(`SELECT ${COLUMNS} FROM money_ledger WHERE order_id = $1 ORDER BY id`, [orderId]);
}

export interface LedgerMismatch {
  orderId: string;
  paymentId: string;
  expectedCents: number;
  ledgerCents: number;
  expectedFeeCents: number;
  ledgerFeeCents: number;
}

/**
 * Payments whose ledger differs from their books (money_ledger_mismatches in SQL); empty when
 * balanced. `since`: only payments changed since then.
 */
export async function findLedgerMismatches(q: Queryable, orderId?: string, limit = 100, since?: Date): Promise<LedgerMismatch[]> {
  return await q.queryMany<LedgerMismatch>(
    `SELECT order_id AS "orderId", payment_id AS "paymentId", expected_cents::float8 AS "expectedCents",
       ledger_cents::float8 AS "ledgerCents", expected_fee_cents::float8 AS "expectedFeeCents",
       ledger_fee_cents::float8 AS "ledgerFeeCents"
     FROM money_ledger_mismatches($1::uuid, $3::timestamptz) LIMIT $2`,
    [orderId ?? null, limit, since ?? null],
  );
}
