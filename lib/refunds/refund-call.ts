import type { Order } from '../db/models/orders.js';
import type { Payment } from '../db/models/payments.js';
import type { Refund } from '../db/models/refunds.js';
import type { ProviderRefundRequest } from '../providers/refund-provider.js';

/**
 * What the provider is asked for one refund row, derived from the row alone. The first call
 * (issue-refund.ts) and every later check of an unconfirmed refund (check-unconfirmed-refunds.ts) send
 * exactly the same request under the same idempotency key: Stripe replays the original refund only for
 * identical parameters under the same `Idempotency-Key`, PayPal the original for the same
 * `PayPal-Request-Id`. So however often it is asked, one refund is made.
 */

/** Provider idempotency key of a staff refund: one provider refund per refund row, whatever is retried. */
export function refundIdempotencyKey(refundId: string): string {
  return `refund-${refundId}`;
}

/**
 * Provider idempotency key of a system refund (late or duplicate payment): every retry of one system
 * refund (and every racing caller, who finds the same pending row) sends the same key; a refund the
 * provider answered `failed` gets a new row, hence a new key, so the money can still go back.
 */
export function systemRefundIdempotencyKey(refundId: string): string {
  return `system-refund-${refundId}`;
}

/** Shown to the payer by PayPal on a system refund. */
const SYSTEM_NOTE_TO_PAYER = 'Your payment arrived after the tickets sold out, so it has been refunded in full.';

export function providerRefundRequest(refund: Refund, order: Order, payment: Payment): ProviderRefundRequest {
  const system = refund.source === 'system';
  return {
    providerPaymentId: payment.providerPaymentId ?? '',
    amountCents: refund.amountCents,
    currency: refund.currency,
    idempotencyKey: system ? systemRefundIdempotencyKey(refund.id) : refundIdempotencyKey(refund.id),
    refundId: refund.id,
    orderId: order.id,
    orderNumber: order.orderNumber,
    // System refunds carry their why as the reason's first word (refund-unwanted-payment.ts).
    stripeReason: system && refund.reason.startsWith('duplicate_payment') ? 'duplicate' : 'requested_by_customer',
    ...(system ? { noteToPayer: SYSTEM_NOTE_TO_PAYER } : {}),
  };
}
