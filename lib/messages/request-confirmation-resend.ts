import { z } from 'zod';
import { transaction } from '../db/client.js';
import type { Actor } from '../db/models/audit-log.js';
import { findPaidOrderByNumberAndEmail } from '../db/queries/message-facts.js';
import { enqueueMessageInTx } from './enqueue-message.js';

/**
 * A buyer who lost the confirmation asks for it again with the email and order number
 * (POST /api/orders/resend-confirmation). The answer never says whether they matched (no enumeration):
 * the route answers 202 first and this runs after the response. When they match a paid order, the
 * confirmation is queued again, at most once per order per 10 minutes (the outbox key's cause is the
 * 10-minute window), to the order's email address only.
 */

export const ResendConfirmationBody = z.strictObject({
  email: z.string().trim().toLowerCase().pipe(z.email()).pipe(z.string().max(254)),
  orderNumber: z
    .string()
    .trim()
    .toUpperCase()
    .pipe(z.string().regex(/^ALB-[0-9]{8}-[0-9]{4,12}$/, 'must look like ALB-20260101-0001')),
});
export type ResendConfirmationRequest = z.infer<typeof ResendConfirmationBody>;

export const RESEND_CONFIRMATION_ANSWER = {
  status: 'accepted',
  message: 'If an order with this number was paid with this email address, its confirmation is on its way to that address.',
} as const;

const WINDOW_MS = 10 * 60_000;

export async function requestConfirmationResend(
  request: ResendConfirmationRequest,
  actor: Actor,
  now: Date = new Date(),
): Promise<boolean> {
  const window = new Date(Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS).toISOString();
  return await transaction(async (tx) => {
    const order = await findPaidOrderByNumberAndEmail(tx, request.orderNumber, request.email);
    if (!order) return false;
    const queued = await enqueueMessageInTx(tx, {
      orderId: order.id,
      kind: 'order_confirmation',
      cause: `buyer-resend:${window}`,
      requestedBy: actor.type,
    });
    return queued !== undefined;
  });
}
