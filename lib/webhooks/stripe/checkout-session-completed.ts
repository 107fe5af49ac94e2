import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { finalizeFromEvent, markOrderProcessing, resolveOrderId } from '../order-effects.js';
import { checkoutSessionSchema, dataObject, idOf } from './objects.js';

/**
 * checkout.session.completed: paid (card) → finalize; unpaid (an async method such as a bank debit
 * still clearing) → order and payment `processing` until async_payment_succeeded / _failed.
 */
export const checkoutSessionCompleted: EventHandler = async (tx, payload, { actor }) => {
  const session = dataObject(payload, checkoutSessionSchema);
  const orderId = await resolveOrderId(tx, 'stripe', {
    orderId: session.client_reference_id ?? session.metadata.order_id,
    sessionId: session.id,
  });
  if (!orderId) return ignored('No matching order');
  const paymentIntentId = idOf(session.payment_intent);
  if (session.payment_status === 'paid' || session.payment_status === 'no_payment_required') {
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
  }
  await markOrderProcessing(tx, orderId, { providerSessionId: session.id, providerPaymentId: paymentIntentId }, actor);
  return processed();
};
