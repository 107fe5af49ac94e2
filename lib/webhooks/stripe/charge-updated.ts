import { findPaymentFeeState } from '../../db/models/payment-fees.js';
import { findPaymentByProviderPayment } from '../../db/models/payments.js';
import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { chargeSchema, dataObject, idOf } from './objects.js';

/**
 * charge.updated: Stripe sends it when the charge's balance transaction becomes available (among other
 * changes). When it names one and our payment's fee is still unknown (the read after the completion
 * failed or came too early), the fee is read after this commits: the same record_fee follow-up as the
 * completion's, which books one fee row per payment however often it runs. Otherwise nothing to do.
 */
export const chargeUpdated: EventHandler = async (tx, payload) => {
  const charge = dataObject(payload, chargeSchema);
  const paymentIntentId = idOf(charge.payment_intent);
  if (!paymentIntentId) return ignored('Charge without payment_intent');
  if (!idOf(charge.balance_transaction)) return processed();
  const payment = await findPaymentByProviderPayment(tx, 'stripe', paymentIntentId);
  if (!payment) return ignored('No matching payment');
  const fee = await findPaymentFeeState(tx, payment.id);
  if (fee?.feeCents !== null) return processed();
  return processed([{ kind: 'record_fee', paymentId: payment.id }]);
};
