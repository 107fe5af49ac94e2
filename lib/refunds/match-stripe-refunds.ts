import type { z } from 'zod';
import type { Tx } from '../db/client.js';
import type { Actor } from '../db/models/audit-log.js';
import { mapStripeRefundStatus } from '../providers/refund-provider.js';
import { idOf, type refundSchema } from '../webhooks/stripe/objects.js';
import { type ApplyOutcome, ignored, NotYetApplicableError, processed } from '../webhooks/types.js';
import { type MatchRefundResult, matchProviderRefundInTx } from './match-provider-refund.js';

type StripeRefund = z.infer<typeof refundSchema>;

/** Matches Stripe refunds (from a refund.* event or a charge's refund list) and sums up the outcome. */
export async function matchStripeRefunds(
  tx: Tx,
  refunds: readonly StripeRefund[],
  context: { paymentIntentId: string | undefined; orderIdHint: string | undefined; actor: Actor },
): Promise<ApplyOutcome> {
  const results: MatchRefundResult[] = [];
  for (const refund of refunds) {
    const paymentIntentId = idOf(refund.payment_intent) ?? context.paymentIntentId;
    if (!paymentIntentId) {
      results.push({ outcome: 'payment_not_found' });
      continue;
    }
    results.push(
      await matchProviderRefundInTx(
        tx,
        {
          provider: 'stripe',
          providerRefundId: refund.id,
          providerPaymentId: paymentIntentId,
          orderIdHint: refund.metadata.order_id ?? context.orderIdHint,
          ourRefundId: refund.metadata.refund_id,
          amountCents: refund.amount,
          currency: refund.currency,
          status: mapStripeRefundStatus(refund.status),
          failureReason: refund.failure_reason ?? undefined,
        },
        context.actor,
      ),
    );
  }
  if (results.some((result) => result.outcome === 'not_captured_yet')) {
    // Throwing rolls back the refunds matched above too; the retry applies them all together.
    throw new NotYetApplicableError('Refund reported before its payment was captured here; will retry');
  }
  if (results.length > 0 && results.every((result) => result.outcome === 'payment_not_found')) {
    return ignored('No matching payment');
  }
  return processed();
}
