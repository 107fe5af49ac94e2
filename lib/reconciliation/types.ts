import type { Provider } from '../db/models/orders.js';

/**
 * Reconciliation of one provider's UTC day against our books (issue 14). The shared vocabulary of
 * lib/reconciliation/: what a provider record becomes once read, the classes it can end in, and a run.
 */

export const RECONCILIATION_CLASSES = [
  'matched',
  'amount_differs',
  'fee_differs',
  'provider_only',
  'books_only',
  'account_fee',
] as const;
export type ReconciliationClass = (typeof RECONCILIATION_CLASSES)[number];

/**
 * Classes that are not mismatches: `matched`, and `account_fee` (a provider fee of the account, not of an order:
 * nothing of ours can match it; staff book it by hand). Everything else is a mismatch (the one list: the report,
 * the summary's count and the ops alert use it).
 */
export const NOT_MISMATCH_CLASSES = ['matched', 'account_fee'] as const satisfies readonly ReconciliationClass[];
export type MismatchClass = Exclude<ReconciliationClass, (typeof NOT_MISMATCH_CLASSES)[number]>;
export const MISMATCH_CLASSES = RECONCILIATION_CLASSES.filter(
  (c): c is MismatchClass => !(NOT_MISMATCH_CLASSES as readonly string[]).includes(c),
);

/** charge: money in; refund: money out; adjustment: the provider moved money on its own; fee: a provider fee not tied to a sale. */
export type RecordKind = 'charge' | 'refund' | 'adjustment' | 'fee';
/** What a stored line is about: a provider record's kind, or `payout` (a PayPal withdrawal compared with the day's net). */
export type LineKind = RecordKind | 'payout';

/** One provider record, normalised (amounts signed from the festival's side, fee positive = what the provider kept). */
export interface ProviderRecord {
  /** Stripe balance transaction id / PayPal transaction id. */
  recordId: string;
  kind: RecordKind;
  /** Stripe charge / refund id; PayPal capture / refund id. */
  sourceId: string | null;
  /** What our books key on: Stripe PaymentIntent id (charges) or refund id; PayPal capture or refund id. */
  reference: string | null;
  /** For a refund: the payment reference it belongs to (PaymentIntent / capture id). */
  paymentReference: string | null;
  occurredAt: Date;
  amountCents: number;
  /** Upper-case ISO code. */
  currency: string;
  feeCents: number;
  /** Our order id as the provider echoes it (Stripe metadata.order_id, PayPal custom_field). */
  orderIdHint: string | null;
  payoutId: string | null;
  /** What the record is about when the provider says (Stripe: the source's `object`, e.g. `dispute`); else null. */
  sourceType?: string | null;
  /** The provider's own words for it (Stripe balance transaction description), when it has some. */
  description?: string | null;
}

/** A dispute our books hold (lib/disputes, the disputes table), by the provider's dispute id. */
export interface DisputeEntry {
  disputeId: string;
  orderId: string;
  orderNumber: string;
  orderStatus: string;
  /** The contested amount (positive). */
  amountCents: number;
  currency: string;
  status: 'open' | 'won' | 'lost';
}

/** What our books hold for one provider reference. */
export interface BooksEntry {
  reference: string;
  kind: 'charge' | 'refund';
  orderId: string;
  orderNumber: string;
  orderStatus: string;
  /** Signed like the provider record: captures positive, refunds negative. */
  amountCents: number;
  currency: string;
  /** Provider fee we recorded; null when our books do not know it. */
  feeCents: number | null;
}

export interface Payout {
  id: string;
  amountCents: number;
  currency: string;
  createdAt: string;
  arrivalDate: string | null;
  status: string;
  transactions: number;
  matched: number;
  notMatched: number;
  /** In the payout but not (yet) in any completed reconciliation run. */
  notReconciled: number;
  allMatched: boolean;
  /**
   * Whether the provider says which transactions the payout paid out: Stripe does (the payout's balance
   * transactions); PayPal does not (a withdrawal is one amount), so its counts are the day's transactions up to it.
   */
  transactionsListed: boolean;
  /** PayPal: the net of the day's transactions since the previous withdrawal of the day (or the day's start) up to this one. */
  dayNetCents: number | null;
  /** PayPal: whether the withdrawal equals that net; null for Stripe (its payouts are matched transaction by transaction). */
  matchesDayNet: boolean | null;
  /** The payout in plain words: what it paid out, and whether that is matched. */
  explanation: string;
}

export interface RunSummary {
  provider: Provider;
  day: string;
  source: 'money_ledger' | 'payments_and_refunds';
  totals: {
    /** What the provider reports for the day (charges, refunds, fees it kept, net). */
    provider: { grossCents: number; refundsCents: number; feesCents: number; netCents: number; records: number };
    /** What our books hold for the same day; fees null when our books do not record them. */
    books: { grossCents: number; refundsCents: number; feesCents: number | null; netCents: number; records: number };
  };
  counts: Record<ReconciliationClass, number>;
  mismatches: number;
  payouts: Payout[];
  currency: string | null;
}

export type ReconcileOutcome = {
  runId: string;
  provider: Provider;
  day: string;
  status: 'completed' | 'incomplete';
  /** Provider records read by this call / by the run so far. */
  recordsThisCall: number;
  recordsTotal: number;
  chunks: number;
  summary?: RunSummary;
};
