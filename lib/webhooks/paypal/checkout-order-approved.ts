import { findOrderById } from '../../db/models/orders.js';
import { isPaid } from '../../payments/state-machine.js';
import { finalizeFromEvent } from '../order-effects.js';
import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { checkoutOrderSchema, minorUnits, resourceOf } from './objects.js';
import { resolvePayPalOrderId } from './resolve.js';

/**
 * CHECKOUT.ORDER.APPROVED: the buyer approved but may have closed the tab before our return page
 * captured. Already paid → nothing. Order already captured at PayPal → finalize with that capture.
 * Otherwise capture after this transaction commits (follow-up), then finalize.
 */
export const checkoutOrderApproved: EventHandler = async (tx, payload, { actor }) => {
  const paypalOrder = resourceOf(payload, checkoutOrderSchema);
  const unit = paypalOrder.purchase_units[0];
  const orderId = await resolvePayPalOrderId(tx, {
    customId: unit?.custom_id,
    referenceId: unit?.reference_id,
    invoiceId: unit?.invoice_id,
    paypalOrderId: paypalOrder.id,
  });
  if (!orderId) return ignored('No matching order');
  const order = await findOrderById(tx, orderId);
  if (!order || isPaid(order.status)) return processed();
  const capture = unit?.payments?.captures?.find((c) => c.status === 'COMPLETED');
  if (capture) {
    return await finalizeFromEvent(tx, {
      orderId,
      provider: 'paypal',
      providerSessionId: paypalOrder.id,
      providerPaymentId: capture.id,
      amountCents: minorUnits(capture.amount),
      currency: capture.amount.currency_code,
      actor,
    });
  }
  return processed([{ kind: 'paypal_capture', orderId, paypalOrderId: paypalOrder.id }]);
};
