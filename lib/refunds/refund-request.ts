import { z } from 'zod';
import type { RefundPaymentResult } from './refund-payment.js';

/**
 * The body of POST /api/payments/refund and the answer. The schema is strict: fields the server
 * owns (status, refundedCents, amount, ...) are refused, not ignored (mass assignment).
 */
export const RefundBody = z.strictObject({
  orderId: z.uuid(),
  amountCents: z.number().int().min(1).max(1_000_000_000).optional(),
  reason: z
    .string()
    .max(1000)
    .refine((value) => value.trim().length >= 10, 'must be at least 10 characters (after trimming)')
    .meta({ description: 'Why: at least 10 characters after trimming, at most 1000.', minLength: 10 }),
  releaseTickets: z.boolean().optional(),
});
export type RefundBodyInput = z.infer<typeof RefundBody>;

/** What staff are told about a refund that is not settled yet: only what is known. */
export const UNCONFIRMED_REFUND_MESSAGE =
  'The payment provider did not answer in time, so this refund is unconfirmed: it may or may not have been made. ' +
  'It is being checked with the provider automatically and its status will update; do not refund it again.';
export const PROVIDER_PENDING_REFUND_MESSAGE =
  'The payment provider accepted this refund and is still processing it; its status will update when it completes.';

export function presentRefundResult(result: RefundPaymentResult) {
  const { refund, order } = result;
  const message =
    refund.status !== 'pending' ? undefined : result.unconfirmed ? UNCONFIRMED_REFUND_MESSAGE : PROVIDER_PENDING_REFUND_MESSAGE;
  return {
    ...(message ? { message } : {}),
    refund: {
      id: refund.id,
      orderId: refund.orderId,
      paymentId: refund.paymentId,
      provider: refund.provider,
      amountCents: refund.amountCents,
      currency: refund.currency,
      status: refund.status,
      /** `unconfirmed`: the provider's answer was lost; being checked (pending refunds only). */
      ...(refund.status === 'pending' ? { confirmation: result.unconfirmed ? 'unconfirmed' : 'provider_pending' } : {}),
      providerRefundId: refund.providerRefundId,
      reason: refund.reason,
      releaseTickets: refund.releaseTickets,
      releasedTickets: result.releasedTickets,
      createdAt: refund.createdAt.toISOString(),
      completedAt: refund.completedAt?.toISOString() ?? null,
    },
    order: {
      id: order.id,
      orderNumber: order.orderNumber,
      status: order.status,
      totalCents: order.totalCents,
      refundedCents: order.refundedCents,
      refundableCents: result.refundableCents,
      currency: order.currency,
    },
  };
}
