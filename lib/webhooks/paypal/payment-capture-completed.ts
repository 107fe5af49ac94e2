import { isUuid } from '../../ids.js';
import { finalizeFromEvent, storeAndFinalizeFromEvent } from '../order-effects.js';
import type { EventHandler } from '../types.js';
import { ignored } from '../types.js';
import { captureSchema, feeOf, linkedId, minorUnits, resourceOf } from './objects.js';
import { resolveCaptureOrder } from './resolve.js';

/** PAYMENT.CAPTURE.COMPLETED: money captured → finalize (the same function the browser return uses). */
export const paymentCaptureCompleted: EventHandler = async (tx, payload, { actor }) => {
  const capture = resourceOf(payload, captureSchema);
  const { orderId, paypalOrderId } = await resolveCaptureOrder(tx, capture);
  if (!orderId) return ignored('No matching order');
  return await finalizeFromEvent(tx, {
    orderId,
    provider: 'paypal',
    providerSessionId: paypalOrderId,
    providerPaymentId: capture.id,
    amountCents: minorUnits(capture.amount),
    currency: capture.amount.currency_code,
    fee: feeOf(capture),
    actor,
  });
};

/**
 * The flash-sale case, stored and applied in one statement: a capture naming our order (custom_id) whose
 * hold is live, with PayPal's fee from the capture booked in the same statement.
 */
paymentCaptureCompleted.storeAndApply = async (payload, ctx) => {
  const capture = resourceOf(payload, captureSchema);
  if (!isUuid(capture.custom_id)) return undefined;
  return await storeAndFinalizeFromEvent(
    {
      orderId: capture.custom_id,
      provider: 'paypal',
      providerSessionId:
        capture.supplementary_data?.related_ids?.order_id ?? linkedId(capture.links, 'up', 'orders') ?? undefined,
      providerPaymentId: capture.id,
      amountCents: minorUnits(capture.amount),
      currency: capture.amount.currency_code,
      fee: feeOf(capture),
      actor: ctx.actor,
    },
    ctx,
  );
};
