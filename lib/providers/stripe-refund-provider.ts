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
      return { providerRefundId: refund.id, status: mapStripeRefundStatus(refund.status), amountCents: refund.amount };
    },
  };
}
