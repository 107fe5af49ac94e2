import { AppError } from '../../lib/errors.js';
import { readJson } from '../../lib/http/body.js';
import { defineRoute } from '../../lib/http/handler.js';
import { idempotencyKeyFrom, respondIdempotently } from '../../lib/http/idempotency.js';
import { requireApiKey } from '../../lib/http/require-api-key.js';
import { refundPayment } from '../../lib/refunds/refund-payment.js';
import { presentRefundResult, RefundBody } from '../../lib/refunds/refund-request.js';

/**
 * POST /api/payments/refund (scope refunds:write, Idempotency-Key required):
 * `{ orderId, amountCents?, reason, releaseTickets? }` → 201 (succeeded) / 202 (provider pending).
 */
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = defineRoute({
  POST: async (ctx) => {
    const actor = await requireApiKey(ctx, 'refunds:write');
    if (idempotencyKeyFrom(ctx) === undefined) {
      throw new AppError('IDEMPOTENCY_KEY_REQUIRED', 'Send an Idempotency-Key header with every refund');
    }
    const body = await readJson(ctx, RefundBody);
    // Keys are per API key: one member of staff can never replay another's answer.
    return await respondIdempotently(ctx, { scope: `refund:${actor.id}`, request: body }, async () => {
      const result = await refundPayment({ ...body, actor });
      return { status: result.refund.status === 'succeeded' ? 201 : 202, body: presentRefundResult(result) };
    });
  },
});
