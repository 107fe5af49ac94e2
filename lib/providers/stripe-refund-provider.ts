import type Stripe from 'stripe';
import {
  mapStripeRefundStatus,
  type ProviderRefundRequest,
  type ProviderRefundResult,
  type RefundProvider,
  refundFailure,
} from './refund-provider.js';
import { toStripeProviderError } from './stripe-checkout-provider.js';

/** What Stripe is asked: a refund on the PaymentIntent, our ids in metadata (the refund webhooks find it by them). */
function stripeRefundParams(request: ProviderRefundRequest): Stripe.RefundCreateParams {
  return {
    payment_intent: request.providerPaymentId,
    ...(request.amountCents !== undefined ? { amount: request.amountCents } : {}),
    ...(request.stripeReason ? { reason: request.stripeReason } : {}),
    // Its fee (usually 0: Stripe keeps its fees on refunds) is on the refund's balance transaction.
    expand: ['balance_transaction'],
    metadata: {
      refund_id: request.refundId,
      order_id: request.orderId,
      ...(request.orderNumber ? { order_number: request.orderNumber } : {}),
    },
  };
}

/** Stripe refunds (refunds.create) through the real SDK, loaded on demand by index.ts. */
export function createStripeRefundProvider(stripe: Stripe): RefundProvider {
  return {
    name: 'stripe',
    async refund(request: ProviderRefundRequest): Promise<ProviderRefundResult> {
      const refund = await stripe.refunds
        .create(stripeRefundParams(request), { idempotencyKey: request.idempotencyKey })
        .catch((error: unknown) => {
          throw refundFailure(toStripeProviderError(error));
        });
      const balance = typeof refund.balance_transaction === 'object' ? refund.balance_transaction : null;
      return {
        providerRefundId: refund.id,
        status: mapStripeRefundStatus(refund.status),
        amountCents: refund.amount,
        // A refund's balance transaction fee is what Stripe kept (+) or gave back (-) for it.
        ...(balance ? { fee: { feeReturnedCents: 0 - balance.fee, currency: balance.currency, providerRef: balance.id } } : {}),
      };
    },
  };
}
