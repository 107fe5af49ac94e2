import { db, type Queryable } from '../db/client.js';
import { findLedgerMismatches, type LedgerEntry, listLedgerForOrder } from '../db/models/money-ledger.js';
import { findOrderMoneyHeader, readOrderBooks } from '../db/queries/order-money.js';
import { isUuid } from '../ids.js';

/**
 * One order's money, read from the ledger (customer service: "what did we take, give back, pay in
 * fees, and keep?"), beside what the order's books say, and whether the two agree.
 */

export interface MoneyTotals {
  capturedCents: number;
  /** Refunded, less refunds reversed. */
  refundedCents: number;
  disputesLostCents: number;
  feesCents: number;
  /** captured - refunded - lost disputes: what the books say the festival kept. */
  keptCents: number;
  /** kept - fees: what actually reached the festival. */
  netCents: number;
}

export interface OrderMoney {
  orderId: string;
  orderNumber: string;
  status: string;
  currency: string;
  totalCents: number;
  ledger: MoneyTotals;
  books: { keptCents: number; feesCents: number };
  balanced: boolean;
  entries: Omit<LedgerEntry, 'eventId' | 'orderId'>[];
}

export function totalsOf(entries: Pick<LedgerEntry, 'kind' | 'amountCents'>[]): MoneyTotals {
  let captured = 0;
  let refunded = 0;
  let lost = 0;
  let fees = 0;
  for (const e of entries) {
    if (e.kind === 'capture') captured += e.amountCents;
    else if (e.kind === 'refund' || e.kind === 'refund_reversal') refunded -= e.amountCents;
    else if (e.kind === 'dispute_lost') lost -= e.amountCents;
    else if (e.kind === 'fee') fees -= e.amountCents;
  }
  const kept = captured - refunded - lost;
  return {
    capturedCents: captured,
    refundedCents: refunded,
    disputesLostCents: lost,
    feesCents: fees,
    keptCents: kept,
    netCents: kept - fees,
  };
}

export async function getOrderMoney(orderId: string | null, q: Queryable = db): Promise<OrderMoney | undefined> {
  if (!isUuid(orderId)) return undefined;
  const order = await findOrderMoneyHeader(q, orderId);
  if (!order) return undefined;
  const [entries, books, mismatches] = await Promise.all([
    listLedgerForOrder(q, order.id),
    readOrderBooks(q, order.id),
    findLedgerMismatches(q, order.id, 10),
  ]);
  return {
    orderId: order.id,
    orderNumber: order.orderNumber,
    status: order.status,
    currency: order.currency,
    totalCents: order.totalCents,
    ledger: totalsOf(entries),
    books: { keptCents: books?.kept ?? 0, feesCents: books?.fees ?? 0 },
    balanced: mismatches.length === 0,
    entries: entries.map(({ eventId: _e, orderId: _o, ...rest }) => rest),
  };
}
