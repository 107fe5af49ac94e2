import { z } from 'zod';
import { formatMinorUnits } from '../../money.js';
import { db, type Queryable } from '../client.js';
import { isCaptured, PAYMENT_STATUSES, type PaymentStatus } from '../models/payments.js';
import {
  Conditions,
  type Cursor,
  centsParam,
  cursorParam,
  cursorTimestamp,
  dateParam,
  emailParam,
  encodeCursor,
  likeEscape,
  limitParam,
  listOf,
  searchText,
} from './search-params.js';

/**
 * Transaction history for finance (scope payments:read): one row per payment attempt with its order
 * and customer, newest first in a stable order (created_at desc, id desc), keyset-paginated. The CSV
 * export walks the same query in batches, so memory stays flat however many rows match.
 */

export const TransactionQuery = z.object({
  status: listOf(PAYMENT_STATUSES).optional(),
  provider: z.enum(['stripe', 'paypal']).optional(),
  /** created_at >= from */
  from: dateParam.optional(),
  /** created_at < to */
  to: dateParam.optional(),
  email: emailParam.optional(),
  /** Order number or its prefix, e.g. ALB-20260501. */
  orderNumber: searchText(40)
    .pipe(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be an order number or its beginning'))
    .optional(),
  /** Ticket type code: payments for orders holding at least one ticket of it. */
  ticketType: searchText(40)
    .pipe(z.string().regex(/^[a-z0-9_]{1,40}$/, 'must be a ticket type code'))
    .optional(),
  minAmountCents: centsParam.optional(),
  maxAmountCents: centsParam.optional(),
  limit: limitParam(200, 50),
  cursor: cursorParam.optional(),
  format: z.enum(['json', 'csv']).optional(),
});
export type TransactionFilters = z.infer<typeof TransactionQuery>;

export interface TransactionRow {
  id: string;
  createdAt: Date;
  cursorAt: string;
  orderId: string;
  orderNumber: string;
  orderStatus: string;
  eventSlug: string;
  provider: string;
  status: PaymentStatus;
  amountCents: number;
  refundedCents: number;
  disputedCents: number;
  currency: string;
  providerSessionId: string | null;
  providerPaymentId: string | null;
  methodType: string | null;
  methodBrand: string | null;
  methodLast4: string | null;
  failureCode: string | null;
  completedAt: Date | null;
  customerEmail: string;
  customerName: string;
}

const SELECT = `SELECT p.id, p.created_at AS "createdAt", ${cursorTimestamp('p.created_at')} AS "cursorAt",
    p.order_id AS "orderId", o.order_number AS "orderNumber", o.status AS "orderStatus", e.slug AS "eventSlug",
    p.provider, p.status, p.amount_cents AS "amountCents", p.refunded_cents AS "refundedCents",
    p.disputed_cents AS "disputedCents", p.currency, p.provider_session_id AS "providerSessionId",
    p.provider_payment_id AS "providerPaymentId", p.method_type AS "methodType", p.method_brand AS "methodBrand",
    p.method_last4 AS "methodLast4", p.failure_code AS "failureCode", p.completed_at AS "completedAt",
    coalesce(o.buyer_email, c.email) AS "customerEmail",
    coalesce(o.buyer_first_name, c.first_name) || ' ' || coalesce(o.buyer_last_name, c.last_name) AS "customerName"
  FROM payments p
  JOIN orders o ON o.id = p.order_id
  JOIN customers c ON c.id = o.customer_id
  JOIN events e ON e.id = o.event_id`;

function conditions(filters: TransactionFilters, after: Cursor | undefined): Conditions {
  const where = new Conditions();
  if (filters.status) where.add(`p.status = ANY(${where.param(filters.status)}::text[])`);
  if (filters.provider) where.add(`p.provider = ${where.param(filters.provider)}`);
  if (filters.from) where.add(`p.created_at >= ${where.param(filters.from)}`);
  if (filters.to) where.add(`p.created_at < ${where.param(filters.to)}`);
  if (filters.email) where.add(`lower(c.email) = lower(${where.param(filters.email)})`);
  if (filters.orderNumber) {
    where.add(`o.order_number LIKE ${where.param(`${likeEscape(filters.orderNumber.toUpperCase())}%`)} ESCAPE '\\'`);
  }
  if (filters.ticketType) {
    where.add(`EXISTS (SELECT 1 FROM order_items i JOIN ticket_types t ON t.id = i.ticket_type_id
      WHERE i.order_id = p.order_id AND t.code = ${where.param(filters.ticketType)})`);
  }
  if (filters.minAmountCents !== undefined) where.add(`p.amount_cents >= ${where.param(filters.minAmountCents)}`);
  if (filters.maxAmountCents !== undefined) where.add(`p.amount_cents <= ${where.param(filters.maxAmountCents)}`);
  if (after) {
    where.add(`(p.created_at, p.id) < (${where.param(after.at)}::timestamptz, ${where.param(after.id)}::uuid)`);
  }
  return where;
}

async function fetchPage(q: Queryable, filters: TransactionFilters, after: Cursor | undefined, limit: number) {
  const where = conditions(filters, after);
  const limitParamSql = where.param(limit);
  return await q.queryMany<TransactionRow>(
    `${SELECT} ${where.where()} ORDER BY p.created_at DESC, p.id DESC LIMIT ${limitParamSql}`,
    where.params,
  );
}

export interface TransactionView {
  id: string;
  createdAt: string;
  orderId: string;
  orderNumber: string;
  orderStatus: string;
  eventSlug: string;
  provider: string;
  status: string;
  amountCents: number;
  refundedCents: number;
  disputedCents: number;
  netCents: number;
  currency: string;
  providerSessionId: string | null;
  providerPaymentId: string | null;
  method: { type: string | null; brand: string | null; last4: string | null };
  failureCode: string | null;
  completedAt: string | null;
  customer: { email: string; name: string };
}

function present(row: TransactionRow): TransactionView {
  return {
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    orderId: row.orderId,
    orderNumber: row.orderNumber,
    orderStatus: row.orderStatus,
    eventSlug: row.eventSlug,
    provider: row.provider,
    status: row.status,
    amountCents: row.amountCents,
    refundedCents: row.refundedCents,
    disputedCents: row.disputedCents,
    netCents: capturedCents(row) - row.refundedCents - row.disputedCents,
    currency: row.currency,
    providerSessionId: row.providerSessionId,
    providerPaymentId: row.providerPaymentId,
    method: { type: row.methodType, brand: row.methodBrand, last4: row.methodLast4 },
    failureCode: row.failureCode,
    completedAt: row.completedAt?.toISOString() ?? null,
    customer: { email: row.customerEmail, name: row.customerName },
  };
}

function capturedCents(row: TransactionRow): number {
  return isCaptured(row.status) ? row.amountCents : 0;
}

export interface TransactionPage {
  data: TransactionView[];
  nextCursor: string | null;
}

export async function listTransactions(filters: TransactionFilters, q: Queryable = db): Promise<TransactionPage> {
  const rows = await fetchPage(q, filters, filters.cursor, filters.limit + 1);
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  return {
    data: page.map(present),
    nextCursor: rows.length > filters.limit && last ? encodeCursor({ at: last.cursorAt, id: last.id }) : null,
  };
}

export const CSV_COLUMNS = [
  'created_at',
  'payment_id',
  'order_number',
  'order_status',
  'event',
  'provider',
  'payment_status',
  'currency',
  'amount',
  'refunded',
  'disputed',
  'net',
  'customer_email',
  'customer_name',
  'provider_payment_id',
  'method_brand',
  'method_last4',
  'completed_at',
] as const;

/**
 * One CSV field: quoted when needed, and text that a spreadsheet would run as a formula
 * (= + - @ tab CR at the start) is prefixed with an apostrophe.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvLine(row: TransactionRow): string {
  const view = present(row);
  return `${[
    view.createdAt,
    view.id,
    view.orderNumber,
    view.orderStatus,
    view.eventSlug,
    view.provider,
    view.status,
    view.currency,
    formatMinorUnits(view.amountCents),
    formatMinorUnits(view.refundedCents),
    formatMinorUnits(view.disputedCents),
    formatMinorUnits(view.netCents),
    view.customer.email,
    view.customer.name,
    view.providerPaymentId,
    view.method.brand,
    view.method.last4,
    view.completedAt,
  ]
    .map(csvField)
    .join(',')}\r\n`;
}

/**
 * The whole filtered history as CSV (header row first), produced batch by batch as the consumer
 * reads: at most one batch of rows is in memory at a time. The page cursor/limit are ignored.
 */
export function streamTransactionsCsv(
  filters: TransactionFilters,
  options: { batchSize?: number; q?: Queryable } = {},
): ReadableStream<Uint8Array> {
  const batchSize = options.batchSize ?? 500;
  const q = options.q ?? db;
  const encoder = new TextEncoder();
  let after: Cursor | undefined;
  let headerSent = false;
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(`${CSV_COLUMNS.join(',')}\r\n`));
          return;
        }
        if (done) return;
        const rows = await fetchPage(q, filters, after, batchSize);
        const last = rows.at(-1);
        if (rows.length > 0) controller.enqueue(encoder.encode(rows.map(csvLine).join('')));
        if (rows.length < batchSize || !last) {
          done = true;
          controller.close();
          return;
        }
        after = { at: last.cursorAt, id: last.id };
      },
    },
    { highWaterMark: 1 },
  );
}
