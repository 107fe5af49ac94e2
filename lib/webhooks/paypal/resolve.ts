import type { z } from 'zod';
import type { Tx } from '../../db/client.js';
import { findOrderByNumber } from '../../db/models/orders.js';
import { isUuid } from '../../ids.js';
import { resolveOrderId } from '../order-effects.js';
import { type captureSchema, linkedId } from './objects.js';

/**
 * Our order for a PayPal resource: custom_id / reference_id carry our order id, invoice_id our order
 * number; else the payment row holding the PayPal order id (session) or capture id (payment).
 */
export async function resolvePayPalOrderId(
  tx: Tx,
  refs: {
    customId?: string | null | undefined;
    referenceId?: string | null | undefined;
    invoiceId?: string | null | undefined;
    paypalOrderId?: string | null | undefined;
    captureId?: string | null | undefined;
  },
): Promise<string | undefined> {
  const orderId = isUuid(refs.customId) ? refs.customId : isUuid(refs.referenceId) ? refs.referenceId : undefined;
  const found = await resolveOrderId(tx, 'paypal', { orderId, sessionId: refs.paypalOrderId, paymentId: refs.captureId });
  if (found) return found;
  if (refs.invoiceId) return (await findOrderByNumber(tx, refs.invoiceId))?.id;
  return undefined;
}

/** Our order and the PayPal order id for a capture resource (PAYMENT.CAPTURE.* events). */
export async function resolveCaptureOrder(
  tx: Tx,
  capture: z.infer<typeof captureSchema>,
): Promise<{ orderId: string | undefined; paypalOrderId: string | undefined }> {
  const paypalOrderId = capture.supplementary_data?.related_ids?.order_id ?? linkedId(capture.links, 'up', 'orders') ?? undefined;
  const orderId = await resolvePayPalOrderId(tx, {
    customId: capture.custom_id,
    invoiceId: capture.invoice_id,
    paypalOrderId,
    captureId: capture.id,
  });
  return { orderId, paypalOrderId };
}
