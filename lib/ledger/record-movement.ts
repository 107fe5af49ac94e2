import { getConfig } from '../config.js';
import type { Tx } from '../db/client.js';
import { insertLedgerEntry, type LedgerEntry, type LedgerKind } from '../db/models/money-ledger.js';
import type { Provider } from '../db/models/orders.js';

/**
 * The one function that writes the money ledger. Every place that moves money calls it inside the
 * transaction that makes the change (finalize's capture, a refund settling, a refund reversed,
 * disputes opened / won / lost, the provider's fee), so the ledger and the books commit together.
 *
 * The caller gives the amount as a positive magnitude; the sign follows the kind (money the
 * festival keeps is positive): capture +, refund -, refund_reversal +, fee -, dispute_lost -,
 * dispute_opened / dispute_won 0 (they move nothing until a dispute is lost; the contested amount
 * goes in details.disputedCents). Each movement has one source key, so a repeated report writes
 * nothing the second time (the function then answers undefined).
 *
 * `fee_returned` is the one signed input: the provider's fee given back with a refund (PayPal's refund
 * seller_payable_breakdown.paypal_fee, Stripe's refund balance transaction fee negated), booked as a
 * `fee` row naming the refund: + when given back, - when a provider charged a fee for the refund;
 * `reversal`: the refund failed after succeeding, so the returned fee goes again (the opposite sign).
 * Fee rows thus net to the fees actually paid.
 */

export type MovementInput =
  | { kind: 'capture' | 'fee'; paymentId: string; amountCents: number }
  | { kind: 'refund' | 'refund_reversal'; paymentId: string; refundId: string; amountCents: number }
  | {
      kind: 'dispute_opened' | 'dispute_won' | 'dispute_lost';
      paymentId: string;
      /** The provider's dispute id (names the movement). */
      providerRef: string;
      /** The contested amount. */
      amountCents: number;
    }
  | {
      kind: 'fee_returned';
      paymentId: string;
      refundId: string;
      /** Signed: positive = fee given back to the festival. */
      returnedCents: number;
      reversal?: boolean;
    };

export type RecordMovementInput = MovementInput & {
  orderId: string;
  provider: Provider;
  currency: string;
  /** Provider reference of the movement (PaymentIntent / capture id, refund id, balance transaction id). */
  providerRef?: string | null | undefined;
  /** When it happened at the provider, as reported; default: now. */
  occurredAt?: Date | null | undefined;
  details?: Record<string, unknown> | undefined;
};

const SIGN: Record<LedgerKind, 1 | -1 | 0> = {
  capture: 1,
  refund: -1,
  refund_reversal: 1,
  fee: -1,
  dispute_opened: 0,
  dispute_won: 0,
  dispute_lost: -1,
};

export function sourceKeyOf(input: RecordMovementInput): string {
  switch (input.kind) {
    case 'fee_returned':
      return `${input.reversal ? 'fee_returned_reversal' : 'fee_returned'}:${input.refundId}`;
    case 'capture':
    case 'fee':
      return `${input.kind}:${input.paymentId}`;
    case 'refund':
    case 'refund_reversal':
      return `${input.kind}:${input.refundId}`;
    default:
      return `${input.kind}:${input.provider}:${input.providerRef}`;
  }
}

/** The signed amount a movement puts on the books. */
export function signedAmount(kind: LedgerKind, magnitudeCents: number): number {
  if (!Number.isSafeInteger(magnitudeCents) || magnitudeCents < 0) {
    throw new RangeError(`ledger ${kind}: amount must be a non-negative integer of minor units`);
  }
  return SIGN[kind] === 0 ? 0 : SIGN[kind] * magnitudeCents;
}

export async function recordMovement(tx: Tx, input: RecordMovementInput): Promise<LedgerEntry | undefined> {
  if (!getConfig().ledger.writes) return undefined;
  if (input.kind === 'fee_returned') {
    if (!Number.isSafeInteger(input.returnedCents))
      throw new RangeError('ledger fee_returned: amount must be an integer of minor units');
    return await insertLedgerEntry(tx, {
      kind: 'fee',
      orderId: input.orderId,
      paymentId: input.paymentId,
      refundId: input.refundId,
      provider: input.provider,
      providerRef: input.providerRef ?? null,
      sourceKey: sourceKeyOf(input),
      amountCents: input.reversal ? -input.returnedCents : input.returnedCents,
      currency: input.currency.toUpperCase(),
      details: { returned: true, ...(input.reversal ? { reversal: true } : {}), ...input.details },
      occurredAt: input.occurredAt ?? null,
    });
  }
  const isDispute = input.kind === 'dispute_opened' || input.kind === 'dispute_won' || input.kind === 'dispute_lost';
  const details = isDispute ? { disputedCents: input.amountCents, ...input.details } : (input.details ?? null);
  return await insertLedgerEntry(tx, {
    kind: input.kind,
    orderId: input.orderId,
    paymentId: input.paymentId,
    refundId: 'refundId' in input ? input.refundId : null,
    provider: input.provider,
    providerRef: input.providerRef ?? (isDispute && 'providerRef' in input ? input.providerRef : null),
    sourceKey: sourceKeyOf(input),
    amountCents: signedAmount(input.kind, input.amountCents),
    currency: input.currency.toUpperCase(),
    details,
    occurredAt: input.occurredAt ?? null,
  });
}
