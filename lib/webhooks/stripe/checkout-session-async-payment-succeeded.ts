import type { EventHandler } from '../types.js';
import { ignored } from '../types.js';
import { finalizeFromEvent, resolveOrderId } from '../order-effects.js';
import { checkoutSessionSchema, dataObject, idOf } from './objects.js';

/** checkout.session.async_payment_succeeded: the delayed payment cleared → finalize. */
export const checkoutSessionAsyncPaymentSucceeded: EventHandler = async (tx, payload, { actor }) => {
  const session = dataObject(payload, checkoutSessionSchema);
  const orderId = await resolveOrderId(tx, 'stripe', {
    orderId: session.client_reference_id ?? session.metadata.order_id,
    sessionId: session.id,
  });
  if (!orderId) return ignored('No matching order');
  const paymentIntentId = idOf(session.payment_intent);
  if (!paymentIntentId) throw new Error(`Paid session ${session.id} has no payment_intent`);
  return await finalizeFromEvent(tx, {
    orderId,
    provider: 'stripe',
    providerSessionId: session.id,
    providerPaymentId: paymentIntentId,
    amountCents: session.amount_total ?? 0,
    currency: session.currency ?? '',
    actor,
  });
};
