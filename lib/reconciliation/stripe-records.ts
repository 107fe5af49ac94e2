import type Stripe from 'stripe';
import { getStripeClient } from '../providers/index.js';
import type { ProviderRecord, RecordKind } from './types.js';

/**
 * Reads one UTC day of Stripe balance transactions: `balanceTransactions.list` over the created
 * range with the SDK's auto-pagination, `expand[]=data.source` so that each transaction comes with
 * the charge or refund it belongs to (that is where the PaymentIntent id our books key on, and our
 * order id in the metadata, are). Pages are handed out in chunks; the last transaction id of a chunk
 * is the cursor a run continues from (`starting_after`).
 *
 * Types: charge / payment (money in), refund / payment_refund (money out), adjustment (disputes: the
 * source is the dispute, whose payment_intent names our payment; refund failures: Stripe moved money on
 * its own), stripe_fee (account fees not tied to a sale: Radar, billing),
 * payout (collected apart: payouts are listed with their own totals).
 */

const CHARGE_TYPES = new Set(['charge', 'payment']);
const REFUND_TYPES = new Set(['refund', 'payment_refund', 'payment_failure_refund', 'refund_failure']);
const FEE_TYPES = new Set(['stripe_fee', 'application_fee', 'tax_fee', 'network_cost']);

export interface StripeChunk {
  records: ProviderRecord[];
  /** Payout balance transactions seen in this chunk (ids). */
  payoutTransactions: number;
  /** The id to continue after. */
  cursor: string;
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}

function kindOf(type: string): RecordKind | 'payout' {
  if (CHARGE_TYPES.has(type)) return 'charge';
  if (REFUND_TYPES.has(type)) return 'refund';
  if (FEE_TYPES.has(type)) return 'fee';
  if (type === 'payout') return 'payout';
  return 'adjustment';
}

/** One balance transaction as a provider record (undefined for payouts). */
export function stripeRecord(bt: Stripe.BalanceTransaction): ProviderRecord | undefined {
  const kind = kindOf(bt.type);
  if (kind === 'payout') return undefined;
  const source = bt.source;
  const sourceObject = source && typeof source === 'object' ? (source as unknown as Record<string, unknown>) : undefined;
  const metadata = (sourceObject?.metadata ?? {}) as Record<string, string>;
  const paymentIntent = idOf(sourceObject?.payment_intent as string | { id: string } | null | undefined);
  let reference: string | null = null;
  let paymentReference: string | null = null;
  if (kind === 'charge') {
    // Our payments hold the PaymentIntent id; a charge without one (legacy) is known by its own id.
    reference = paymentIntent ?? idOf(source as string | { id: string } | null);
    paymentReference = reference;
  } else if (kind === 'refund') {
    reference = idOf(source as string | { id: string } | null);
    paymentReference = paymentIntent;
  } else {
    reference = idOf(source as string | { id: string } | null);
    paymentReference = paymentIntent;
  }
  return {
    recordId: bt.id,
    kind,
    sourceId: idOf(source as string | { id: string } | null),
    reference,
    paymentReference,
    occurredAt: new Date(bt.created * 1000),
    amountCents: bt.amount,
    currency: bt.currency.toUpperCase(),
    feeCents: bt.fee,
    orderIdHint: typeof metadata.order_id === 'string' ? metadata.order_id : null,
    payoutId: null,
    // A dispute's withdrawal, reinstatement or fee is an adjustment whose source is the dispute (dp_… / du_…).
    sourceType:
      typeof sourceObject?.object === 'string'
        ? sourceObject.object
        : typeof source === 'string' && /^(dp|du)_/.test(source)
          ? 'dispute'
          : null,
    description: bt.description ?? null,
  };
}

/**
 * The day's balance transactions in chunks of `chunkSize`, newest first, starting after `cursor`.
 * Auto-pagination: the SDK fetches the next page (starting_after = last id) while we iterate.
 */
export async function* stripeDayChunks(input: {
  dayStart: Date;
  dayEnd: Date;
  cursor: string | null;
  chunkSize?: number;
}): AsyncGenerator<StripeChunk> {
  // The refund-purpose client retries network errors and 5xx: every call here is a read.
  const stripe = await getStripeClient('refund');
  const chunkSize = input.chunkSize ?? 100;
  const params: Stripe.BalanceTransactionListParams = {
    created: { gte: Math.floor(input.dayStart.getTime() / 1000), lt: Math.floor(input.dayEnd.getTime() / 1000) },
    limit: 100,
    expand: ['data.source'],
  };
  if (input.cursor) params.starting_after = input.cursor;
  let records: ProviderRecord[] = [];
  let payouts = 0;
  let last: string | null = null;
  for await (const bt of stripe.balanceTransactions.list(params)) {
    last = bt.id;
    const record = stripeRecord(bt);
    if (record) records.push(record);
    else payouts += 1;
    if (records.length + payouts >= chunkSize) {
      yield { records, payoutTransactions: payouts, cursor: last };
      records = [];
      payouts = 0;
    }
  }
  if (last !== null && records.length + payouts > 0) yield { records, payoutTransactions: payouts, cursor: last };
}

/** Payouts created in the day, each with the ids of the balance transactions it paid out (auto-paginated). */
export async function* stripeDayPayouts(input: { dayStart: Date; dayEnd: Date }): AsyncGenerator<{
  payout: Stripe.Payout;
  transactionIds: string[];
}> {
  const stripe = await getStripeClient('refund');
  for await (const payout of stripe.payouts.list({
    created: { gte: Math.floor(input.dayStart.getTime() / 1000), lt: Math.floor(input.dayEnd.getTime() / 1000) },
    limit: 100,
  })) {
    const transactionIds: string[] = [];
    for await (const bt of stripe.balanceTransactions.list({ payout: payout.id, limit: 100 })) {
      if (bt.type !== 'payout') transactionIds.push(bt.id);
    }
    yield { payout, transactionIds };
  }
}
