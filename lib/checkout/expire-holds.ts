import { db } from '../db/client.js';
import type { Actor } from '../db/models/audit-log.js';
import { deleteExpiredIdempotencyKeys } from '../db/models/idempotency-keys.js';
import { log } from '../log.js';
import { ProviderError } from '../providers/checkout-provider.js';
import { getCheckoutProvider } from '../providers/index.js';
import { reclaimExpiredHolds } from './holds.js';
import { releaseAbandonedCheckouts } from './release-abandoned-checkouts.js';

/**
 * The hold cron (api/cron/expire-holds.ts): expires every pending order whose hold has passed
 * (tickets back on sale, order and payment expired, audited; batches of `batchSize`, each its own
 * short transaction), then, outside any transaction, expires their Stripe Checkout Sessions
 * (`expire-<orderId>` idempotency key; an already expired or completed session is fine). A Stripe
 * session carries expires_at = hold expiry anyway, so this call is belt and braces. PayPal orders
 * have nothing to expire: they just cannot be captured for an ended order. Also releases checkouts
 * that died before their provider call (no session, request over) and deletes expired idempotency keys.
 */

export interface ExpireHoldsSummary {
  expiredOrders: number;
  releasedTickets: number;
  stripeSessionsExpired: number;
  stripeSessionsAlreadyClosed: number;
  stripeSessionErrors: number;
  idempotencyKeysDeleted: number;
  /** Pending orders whose checkout died before the provider call, released (release-abandoned-checkouts.ts). */
  abandonedCheckoutsReleased: number;
}

export async function expireDueHolds(options: {
  actor: Actor;
  maxOrders?: number;
  batchSize?: number;
}): Promise<ExpireHoldsSummary> {
  const maxOrders = options.maxOrders ?? 500;
  const batchSize = options.batchSize ?? 50;
  const summary: ExpireHoldsSummary = {
    expiredOrders: 0,
    releasedTickets: 0,
    stripeSessionsExpired: 0,
    stripeSessionsAlreadyClosed: 0,
    stripeSessionErrors: 0,
    idempotencyKeysDeleted: 0,
    abandonedCheckoutsReleased: 0,
  };
  const sessions: { orderId: string; sessionId: string }[] = [];
  while (summary.expiredOrders < maxOrders) {
    const batch = await reclaimExpiredHolds({
      actor: options.actor,
      reason: 'hold expired',
      limit: Math.min(batchSize, maxOrders - summary.expiredOrders),
    });
    for (const outcome of batch) {
      summary.expiredOrders += 1;
      summary.releasedTickets += outcome.released.reduce((sum, r) => sum + r.quantity, 0);
      const sessionId = outcome.payment?.providerSessionId;
      if (outcome.order.provider === 'stripe' && sessionId) sessions.push({ orderId: outcome.order.id, sessionId });
    }
    if (batch.length === 0) break;
  }
  for (const outcome of await releaseAbandonedCheckouts({ actor: options.actor })) {
    summary.abandonedCheckoutsReleased += 1;
    summary.releasedTickets += outcome.released.reduce((sum, r) => sum + r.quantity, 0);
  }
  let stripe: Awaited<ReturnType<typeof getCheckoutProvider>> | undefined;
  if (sessions.length > 0) {
    try {
      stripe = await getCheckoutProvider('stripe');
    } catch (error) {
      summary.stripeSessionErrors += sessions.length;
      log.error('stripe is not configured; sessions were not expired', { error });
    }
  }
  if (stripe) {
    for (const { orderId, sessionId } of sessions) {
      try {
        const result = await stripe.expireCheckout(sessionId, `expire-${orderId}`);
        if (result === 'expired') summary.stripeSessionsExpired += 1;
        else summary.stripeSessionsAlreadyClosed += 1;
      } catch (error) {
        summary.stripeSessionErrors += 1;
        log.warn('stripe session expiry failed', {
          orderId,
          code: error instanceof ProviderError ? error.code : 'unexpected',
        });
      }
    }
  }
  summary.idempotencyKeysDeleted = await deleteExpiredIdempotencyKeys(db);
  return summary;
}
