import { formatMinorUnits } from '../money.js';
import type { BooksEntry, ProviderRecord, ReconciliationClass } from './types.js';

/**
 * The one rule that puts a provider record (or a books entry nobody at the provider reported) in a
 * class, with the plain-words explanation staff read in the report. No I/O.
 */

export interface OrderHint {
  orderId: string;
  orderNumber: string;
  orderStatus: string;
}

export interface Classified {
  class: ReconciliationClass;
  explanation: string;
  order: OrderHint | null;
}

const PROVIDER_NAME = { stripe: 'Stripe', paypal: 'PayPal' } as const;

function money(cents: number, currency: string): string {
  return `${formatMinorUnits(cents)} ${currency}`;
}

function orderText(order: OrderHint | null): string {
  return order ? `order ${order.orderNumber} (${order.orderStatus})` : 'no order of ours';
}

export function classifyProviderRecord(
  provider: 'stripe' | 'paypal',
  record: ProviderRecord,
  books: BooksEntry | undefined,
  hint: OrderHint | null,
): Classified {
  const name = PROVIDER_NAME[provider];
  const ref = record.reference ?? record.recordId;
  if (record.kind === 'fee') {
    return {
      class: 'provider_only',
      order: null,
      explanation: `${name} charged an account fee of ${money(-record.amountCents, record.currency)} (${record.recordId}) that is not tied to a sale; our books hold no such fee. Book it as an expense.`,
    };
  }
  if (record.kind === 'adjustment') {
    return {
      class: 'provider_only',
      order: books ? { orderId: books.orderId, orderNumber: books.orderNumber, orderStatus: books.orderStatus } : hint,
      explanation: `${name} moved ${money(record.amountCents, record.currency)} on its own (adjustment ${record.recordId}, ${ref}) for ${orderText(books ? { orderId: books.orderId, orderNumber: books.orderNumber, orderStatus: books.orderStatus } : hint)}: a dispute or a failed refund. Our books hold no such movement; look it up at ${name}.`,
    };
  }
  if (!books) {
    if (record.kind === 'charge') {
      const why = hint
        ? ['pending', 'processing', 'expired', 'failed', 'cancelled'].includes(hint.orderStatus)
          ? `${orderText(hint)} is not paid in our books: its webhook never arrived. The stale-payment sweeper completes it (or applies the late-payment rule); if it does not, finalize or refund by hand.`
          : `${orderText(hint)} is paid by another payment: this is a second payment for it. Refund it.`
        : `No order of ours names it: find the buyer at ${name} and refund it.`;
      return {
        class: 'provider_only',
        order: hint,
        explanation: `${name} took ${money(record.amountCents, record.currency)} (${ref}) but our books hold no captured payment for it. ${why}`,
      };
    }
    return {
      class: 'provider_only',
      order: hint,
      explanation: `${name} refunded ${money(-record.amountCents, record.currency)} (${ref}) for ${orderText(hint)} but our books hold no such refund: it was made in ${name}'s dashboard or its webhook was lost. Sync the refund into our books (and release the tickets if it was a full refund).`,
    };
  }
  const order: OrderHint = { orderId: books.orderId, orderNumber: books.orderNumber, orderStatus: books.orderStatus };
  if (books.amountCents !== record.amountCents || books.currency !== record.currency) {
    return {
      class: 'amount_differs',
      order,
      explanation: `${name} says ${money(record.amountCents, record.currency)} for ${ref}, our books say ${money(books.amountCents, books.currency)} (${orderText(order)}). Check the ${record.kind} at ${name}; correct our books or ask ${name}.`,
    };
  }
  if (books.feeCents !== null && books.feeCents !== record.feeCents) {
    return {
      class: 'fee_differs',
      order,
      explanation: `${name} kept a fee of ${money(record.feeCents, record.currency)} on ${ref}, our books recorded ${money(books.feeCents, books.currency)} (${orderText(order)}). Check ${name}'s fee details; book the difference.`,
    };
  }
  return { class: 'matched', order, explanation: 'Matched.' };
}

export function explainBooksOnly(provider: 'stripe' | 'paypal', books: BooksEntry, occurredAt: Date): string {
  const name = PROVIDER_NAME[provider];
  const what = books.kind === 'charge' ? 'payment' : 'refund';
  return `Our books record a ${money(Math.abs(books.amountCents), books.currency)} ${what} (${books.reference}) for order ${books.orderNumber} (${books.orderStatus}) at ${occurredAt.toISOString()}, but ${name}'s report for the day has no such transaction. Look it up at ${name}: if it is not there, our books are wrong (the ${what} never happened); if it is on another day, it will match there.`;
}
