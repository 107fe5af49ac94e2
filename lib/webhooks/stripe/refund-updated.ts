import type { EventHandler } from '../types.js';
import { dataObject, refundSchema } from './objects.js';
import { matchStripeRefunds } from '../../refunds/match-stripe-refunds.js';

/** refund.created, refund.updated and refund.failed: the refund synced by its Stripe id. */
export const refundChanged: EventHandler = async (tx, payload, { actor }) => {
  const refund = dataObject(payload, refundSchema);
  return await matchStripeRefunds(tx, [refund], { paymentIntentId: undefined, orderIdHint: undefined, actor });
};
