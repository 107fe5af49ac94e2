import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { markPaymentProcessingInTx } from '../../payments/mark-payment-processing.js';
import { finalizePaidSession, orderIdForSession, storeAndFinalizePaidSession } from './session-order.js';
import { checkoutSessionSchema, dataObject, idOf } from './objects.js';

/**
 * checkout.session.completed: paid (card) → finalize; unpaid (an async method such as a bank debit
 * still clearing) → order and payment `processing` until async_payment_succeeded / _failed.
 */
export const checkoutSessionCompleted: EventHandler = async (tx, payload, { actor }) => {
  const session = dataObject(payload, checkoutSessionSchema);
  const orderId = await orderIdForSession(tx, session);
  if (!orderId) return ignored('No matching order');
  const paymentIntentId = idOf(session.payment_intent);
  if (session.payment_status === 'paid' || session.payment_status === 'no_payment_required') {
    return await finalizePaidSession(tx, orderId, session, actor);
  }
  await markPaymentProcessingInTx(tx, orderId, { providerSessionId: session.id, providerPaymentId: paymentIntentId }, actor);
  return processed();
};

/** The flash-sale case, stored and applied in one statement: a paid session of an order whose hold is live. */
checkoutSessionCompleted.storeAndApply = async (payload, ctx) => {
  const session = dataObject(payload, checkoutSessionSchema);
  if (session.payment_status !== 'paid' && session.payment_status !== 'no_payment_required') return undefined;
  return await storeAndFinalizePaidSession(session, ctx);
};
