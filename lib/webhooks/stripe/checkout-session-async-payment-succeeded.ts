import type { EventHandler } from '../types.js';
import { ignored } from '../types.js';
import { finalizePaidSession, orderIdForSession } from './session-order.js';
import { checkoutSessionSchema, dataObject } from './objects.js';

/** checkout.session.async_payment_succeeded: the delayed payment cleared → finalize. */
export const checkoutSessionAsyncPaymentSucceeded: EventHandler = async (tx, payload, { actor }) => {
  const session = dataObject(payload, checkoutSessionSchema);
  const orderId = await orderIdForSession(tx, session);
  if (!orderId) return ignored('No matching order');
  return await finalizePaidSession(tx, orderId, session, actor);
};
