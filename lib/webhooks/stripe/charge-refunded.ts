import type { EventHandler } from '../types.js';
import { processed } from '../types.js';
import { chargeSchema, dataObject, idOf } from './objects.js';
import { matchStripeRefunds } from '../../refunds/match-stripe-refunds.js';

/**
 * charge.refunded: every refund listed on the charge is synced by its Stripe id. (Charges rendered
 * without their refund list leave the work to the refund.created / refund.updated events.)
 */
export const chargeRefunded: EventHandler = async (tx, payload, { actor }) => {
  const charge = dataObject(payload, chargeSchema);
  const refunds = charge.refunds?.data ?? [];
  if (refunds.length === 0) return processed();
  return await matchStripeRefunds(tx, refunds, {
    paymentIntentId: idOf(charge.payment_intent),
    orderIdHint: charge.metadata.order_id,
    actor,
  });
};
