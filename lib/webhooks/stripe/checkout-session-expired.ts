import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { expireOrderFromEvent } from '../order-effects.js';
import { orderIdForSession } from './session-order.js';
import { checkoutSessionSchema, dataObject } from './objects.js';

/** checkout.session.expired: order expired and hold released, unless it was paid (then nothing changes). */
export const checkoutSessionExpired: EventHandler = async (tx, payload, { actor }) => {
  const session = dataObject(payload, checkoutSessionSchema);
  const orderId = await orderIdForSession(tx, session);
  if (!orderId) return ignored('No matching order');
  await expireOrderFromEvent(tx, orderId, actor, 'checkout.session.expired');
  return processed();
};
