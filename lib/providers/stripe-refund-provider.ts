import type Stripe from 'stripe';
import {
  type ProviderRefundRequest,
  type ProviderRefundResult,
  type RefundProvider,
  mapStripeRefundStatus,
  refundFailure,
} from './refund-provider.js';
import { toStripeProviderError } from './stripe-checkout-provider.js';

/** Stripe refunds (refunds.create on the PaymentIntent) through the real SDK. */
export class StripeRefundProvider implements RefundProvider {
  readonly name = 'stripe' as const;

  constructor(private readonly stripe: Stripe) {}

  async refund(request: ProviderRefundRequest): Promise<ProviderRefundResult> {
    try {
      const refund = await this.stripe.refunds.create(
        {
          payment_intent: request.providerPaymentId,
          ...(request.amountCents !== undefined ? { amount: request.amountCents } : {}),
          ...(request.stripeReason ? { reason: request.stripeReason } : {}),
          metadata: {
            refund_id: request.refundId,
            order_id: request.orderId,
            ...(request.orderNumber ? { order_number: request.orderNumber } : {}),
          },
        },
        { idempotencyKey: request.idempotencyKey },
      );
      return { providerRefundId: refund.id, status: mapStripeRefundStatus(refund.status), amountCents: refund.amount };
    } catch (error) {
      throw refundFailure(toStripeProviderError(error));
    }
  }
}
