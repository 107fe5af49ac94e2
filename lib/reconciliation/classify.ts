import { formatMinorUnits } from '../money.js';
import type { BooksEntry, DisputeEntry, ProviderRecord, ReconciliationClass } from './types.js';

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

function disputeOrder(dispute: DisputeEntry): OrderHint {
  return { orderId: dispute.orderId, orderNumber: dispute.orderNumber, orderStatus: dispute.orderStatus };
}

/**
 * A provider adjustment whose source is a dispute (Stripe: the dispute's withdrawal, its reinstatement when won,
 * the dispute fee): matched with the dispute in our books (lib/disputes) when the amount is the contested amount
 * (withdrawn: any dispute; given back: a dispute we hold as won) or nothing (a fee alone). The dispute fee is the
 * provider's, not an order's: said, never compared (our books keep no dispute fees).
 */
function classifyDisputeAdjustment(
  name: string,
  record: ProviderRecord,
  dispute: DisputeEntry | undefined,
  hint: OrderHint | null,
): Classified {
  const ref = record.reference ?? record.recordId;
  const moved =
    record.amountCents < 0
      ? `withdrew ${money(-record.amountCents, record.currency)}`
      : record.amountCents > 0
        ? `gave back ${money(record.amountCents, record.currency)}`
        : 'moved no money';
  const fee =
    record.feeCents !== 0
      ? ` and ${record.feeCents > 0 ? 'kept' : 'returned'} a dispute fee of ${money(Math.abs(record.feeCents), record.currency)}`
      : '';
  const feeAdvice = record.feeCents !== 0 ? " The dispute fee is an account cost, not an order's money: book it by hand." : '';
  if (!dispute) {
    return {
      class: 'provider_only',
      order: hint,
      explanation: `${name} ${moved}${fee} for dispute ${ref} (adjustment ${record.recordId}) of ${orderText(hint)}, but our books hold no such dispute: its webhook never arrived. Look the dispute up at ${name} and record it (the dispute webhook can be replayed from the webhook inbox).${feeAdvice}`,
    };
  }
  const order = disputeOrder(dispute);
  const magnitude = Math.abs(record.amountCents);
  const amountAgrees =
    record.currency === dispute.currency &&
    (magnitude === 0 || (magnitude === dispute.amountCents && (record.amountCents < 0 || dispute.status === 'won')));
  if (!amountAgrees) {
    const expected =
      record.amountCents > 0 && dispute.status !== 'won'
        ? `our books hold the dispute as ${dispute.status}, so nothing should have come back`
        : `our books hold ${money(dispute.amountCents, dispute.currency)} contested (${dispute.status})`;
    return {
      class: 'amount_differs',
      order,
      explanation: `${name} ${moved}${fee} for dispute ${ref} (adjustment ${record.recordId}) of ${orderText(order)}, but ${expected}. Check the dispute at ${name}; correct our books (its webhook may have been lost) or ask ${name}.${feeAdvice}`,
    };
  }
  return {
    class: 'matched',
    order,
    explanation: `Matched with dispute ${ref} of ${orderText(order)} (${dispute.status} in our books): ${name} ${moved}${fee}.${feeAdvice}`,
  };
}

export function classifyProviderRecord(
  provider: 'stripe' | 'paypal',
  record: ProviderRecord,
  books: BooksEntry | undefined,
  hint: OrderHint | null,
  dispute?: DisputeEntry | undefined,
): Classified {
  const name = PROVIDER_NAME[provider];
  const ref = record.reference ?? record.recordId;
  if (record.kind === 'fee') {
    const what = record.description ? ` "${record.description}"` : '';
    return {
      class: 'account_fee',
      order: null,
      explanation: `Account fee: not an order, book manually. ${name} charged ${money(-record.amountCents, record.currency)}${what} (${record.recordId}) to the account; it belongs to no sale, so nothing in our books matches it. Book it as an expense.`,
    };
  }
  if (record.kind === 'adjustment' && (record.sourceType === 'dispute' || dispute)) {
    return classifyDisputeAdjustment(name, record, dispute, hint);
  }
  if (record.kind === 'adjustment') {
    return {
      class: 'provider_only',
      order: books ? { orderId: books.orderId, orderNumber: books.orderNumber, orderStatus: books.orderStatus } : hint,
      explanation: `${name} moved ${money(record.amountCents, record.currency)} on its own (adjustment ${record.recordId}, ${ref}) for ${orderText(books ? { orderId: books.orderId, orderNumber: books.orderNumber, orderStatus: books.orderStatus } : hint)}: a failed refund or a correction. Our books hold no such movement; look it up at ${name}.`,
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

/** A Stripe payout in plain words: Stripe lists what it paid out, so each transaction in it is matched on its own. */
export function explainStripePayout(p: {
  id: string;
  amountCents: number;
  currency: string;
  arrivalDate: string | null;
  transactions: number;
  matched: number;
  notMatched: number;
  notReconciled: number;
}): string {
  const head = `Stripe paid out ${money(p.amountCents, p.currency)} (payout ${p.id}${p.arrivalDate ? `, arriving ${p.arrivalDate}` : ''}). Stripe lists the ${p.transactions} transaction(s) it paid out`;
  if (p.matched === p.transactions) return `${head}: every one is matched with our books.`;
  const parts = [`${p.matched} matched`];
  if (p.notMatched > 0) parts.push(`${p.notMatched} not matched (see their lines, payout ${p.id})`);
  if (p.notReconciled > 0) parts.push(`${p.notReconciled} from days not reconciled yet (run those days)`);
  return `${head}: ${parts.join(', ')}.`;
}

/**
 * A PayPal withdrawal in plain words. PayPal does not say which transactions a withdrawal paid out: it is compared
 * with the net of the day's transactions since the previous withdrawal (`after`, null: the day's start) up to it.
 */
export function explainPayPalWithdrawal(
  p: {
    id: string;
    amountCents: number;
    currency: string;
    createdAt: string;
    dayNetCents: number | null;
    transactions: number;
    matched: number;
  },
  after: string | null,
): string {
  const window = `the day's ${p.transactions} transaction(s) from ${after ? `the previous withdrawal (${after})` : "the day's start"} up to it (${p.createdAt})`;
  const head = `PayPal withdrew ${money(p.amountCents, p.currency)} to the bank (withdrawal ${p.id}). PayPal does not say which transactions a withdrawal pays out`;
  const net = p.dayNetCents ?? 0;
  if (p.amountCents === net) {
    const matched =
      p.matched === p.transactions
        ? 'each of them is matched with our books.'
        : `${p.transactions - p.matched} of them do not match our books (see their lines).`;
    return `${head}; it matches the day's net: the net of ${window} is the same ${money(net, p.currency)}, and ${matched}`;
  }
  return `${head}, and it does not match the day's net: the net of ${window} is ${money(net, p.currency)}, a difference of ${money(p.amountCents - net, p.currency)}. A balance carried from an earlier day, a withdrawal made by hand or a transaction missing from PayPal's report explains it; compare with PayPal's balance history and book the difference.`;
}
