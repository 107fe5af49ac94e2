import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { expireOrderFromEvent, resolveOrderId } from '../order-effects.js';
import { checkoutSessionSchema, dataObject } from './objects.js';

/** checkout.session.expired: order expired and hold released, unless it was paid (then nothing changes). */
export const checkoutSessionExpired: EventHandler = async (tx, payload, { actor }) => {
  const session = dataObject(payload, checkoutSessionSchema);
  const orderId = await resolveOrderId(tx, 'stripe', {
    orderId: session.client_reference_id ?? session.metadata.order_id,
    sessionId: session.id,
  });
  if (!orderId) return ignored('No matching order');
  await expireOrderFromEvent(tx, orderId, actor, 'checkout.session.expired');
  return processed();
};
