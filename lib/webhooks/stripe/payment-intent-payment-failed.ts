import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { resolveOrderId } from '../order-effects.js';
import { recordPaymentDeclineInTx } from '../../payments/record-payment-decline.js';
import { dataObject, eventIdOf, paymentIntentSchema } from './objects.js';

/**
 * payment_intent.payment_failed: a declined attempt. The failure is recorded with Stripe's decline
 * code and message and the payment's failure count goes up; the buyer may still pay on the same
 * Checkout page, so order and hold stay.
 */
export const paymentIntentPaymentFailed: EventHandler = async (tx, payload, { actor }) => {
  const intent = dataObject(payload, paymentIntentSchema);
  const orderId = await resolveOrderId(tx, 'stripe', { orderId: intent.metadata.order_id, paymentId: intent.id });
  if (!orderId) return ignored('No matching order');
  const error = intent.last_payment_error;
  await recordPaymentDeclineInTx(
    tx,
    orderId,
    {
      provider: 'stripe',
      code: error?.code ?? 'payment_failed',
      declineCode: error?.decline_code ?? null,
      message: error?.message ?? null,
      providerEventId: eventIdOf(payload),
      providerPaymentId: intent.id,
    },
    actor,
  );
  return processed();
};
