import { mapPayPalRefundStatus } from '../../providers/refund-provider.js';
import { matchProviderRefundInTx } from '../../refunds/match-provider-refund.js';
import { isUuid } from '../../ids.js';
import type { EventHandler } from '../types.js';
import { ignored, NotYetApplicableError, processed } from '../types.js';
import { linkedId, minorUnits, refundFeeOf, refundSchema, resourceOf } from './objects.js';

/**
 * PAYMENT.CAPTURE.REFUNDED and PAYMENT.CAPTURE.REVERSED: the refund synced by its PayPal id (the
 * capture it belongs to is its `up` link). custom_id carries our refund id for refunds we made.
 * The fee PayPal gave back with it (seller_payable_breakdown.paypal_fee) is booked with the refund.
 */
export const paymentCaptureRefunded: EventHandler = async (tx, payload, { actor }) => {
  const refund = resourceOf(payload, refundSchema);
  const captureId = linkedId(refund.links, 'up', 'captures');
  if (!captureId) return ignored('Refund without its capture link');
  const result = await matchProviderRefundInTx(
    tx,
    {
      provider: 'paypal',
      providerRefundId: refund.id,
      providerPaymentId: captureId,
      ourRefundId: isUuid(refund.custom_id) ? refund.custom_id : undefined,
      amountCents: minorUnits(refund.amount),
      currency: refund.amount.currency_code,
      status: mapPayPalRefundStatus(refund.status ?? 'COMPLETED'),
      fee: refundFeeOf(refund),
    },
    actor,
  );
  if (result.outcome === 'not_captured_yet')
    throw new NotYetApplicableError('Refund reported before its capture was applied; will retry');
  if (result.outcome === 'payment_not_found') return ignored('No matching payment');
  return processed();
};
