import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { failPaymentInTx } from '../../payments/fail-payment.js';
import { orderIdForSession } from './session-order.js';
import { checkoutSessionSchema, dataObject, eventIdOf, idOf } from './objects.js';

/** checkout.session.async_payment_failed: order failed, hold released, failure recorded (unless already paid). */
export const checkoutSessionAsyncPaymentFailed: EventHandler = async (tx, payload, { actor }) => {
  const session = dataObject(payload, checkoutSessionSchema);
  const orderId = await orderIdForSession(tx, session);
  if (!orderId) return ignored('No matching order');
  await failPaymentInTx(
    tx,
    orderId,
    {
      provider: 'stripe',
      code: 'async_payment_failed',
      message: 'The delayed payment method failed',
      providerEventId: eventIdOf(payload),
      providerPaymentId: idOf(session.payment_intent),
    },
    actor,
  );
  return processed();
};
