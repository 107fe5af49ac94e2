import { getConfig } from '../config.js';
import { transaction } from '../db/client.js';
import type { Actor } from '../db/models/audit-log.js';
import { lockAbandonedCheckouts, lockPendingOrdersForIdempotencyKey } from '../db/models/checkout-recovery.js';
import { log } from '../log.js';
import { getCheckoutProvider } from '../providers/index.js';
import { type ExpireOutcome, expireHeldOrderInTx } from './holds.js';

/**
 * Recovery from a checkout that died between the hold and the provider call (create-checkout-session.ts
 * step 4): a pending order holding tickets that no buyer can pay. Two ways out, both releasing the hold
 * at once through expireHeldOrderInTx (tickets back on sale, order and payment expired, audited):
 *
 * 1. The buyer's retry with the same Idempotency-Key. The idempotency claim of a request that died is
 *    taken over once it is older than the function's limit (lib/http/idempotency.ts), and the retry
 *    first releases what the dead attempt left under that key, then checks out afresh: one live hold,
 *    never two, and no 409 for minutes.
 * 2. The hold cron (expire-holds.ts) releases pending orders with no provider session once their
 *    request is surely over (the function's limit + margin), not 30 minutes later at hold expiry.
 *
 * A dead attempt that had already created a provider session (crash after the provider call) is
 * released the same way on its key's retry, and its Stripe session expired (`expire-<orderId>`); a
 * payment on it anyway is a late payment (sold if tickets remain, else refunded: finalize-order).
 */

type Expired = Extract<ExpireOutcome, { expired: true }>;

async function expireStripeSessions(released: Expired[]): Promise<void> {
  const sessions = released.filter((r) => r.order.provider === 'stripe' && r.payment?.providerSessionId);
  if (sessions.length === 0) return;
  try {
    const stripe = await getCheckoutProvider('stripe');
    for (const { order, payment } of sessions) {
      await stripe.expireCheckout(payment?.providerSessionId ?? '', `expire-${order.id}`).catch((error: unknown) => {
        log.warn('abandoned checkout: stripe session not expired', { orderId: order.id, error });
      });
    }
  } catch (error) {
    log.warn('abandoned checkout: stripe not available to expire sessions', { error });
  }
}

/** The retry of `keyHash`: releases the pending orders its dead earlier attempts left behind. */
export async function releaseCheckoutsLeftByKey(keyHash: string, actor: Actor): Promise<number> {
  const released = await transaction(async (tx) => {
    const left = await lockPendingOrdersForIdempotencyKey(tx, keyHash);
    const out: Expired[] = [];
    for (const { id } of left) {
      const outcome = await expireHeldOrderInTx(tx, id, {
        actor: { ...actor, type: 'system' },
        reason: 'checkout_recovered: an earlier attempt with the same Idempotency-Key died; its hold is released for the retry',
        onlyIfDue: false,
      });
      if (outcome.expired) out.push(outcome);
    }
    return out;
  });
  await expireStripeSessions(released);
  return released.length;
}

/** The sweep (hold cron): pending orders with no provider session whose request is over. */
export async function releaseAbandonedCheckouts(options: { actor: Actor; limit?: number; now?: Date }): Promise<Expired[]> {
  const now = options.now ?? new Date();
  const createdBefore = new Date(now.getTime() - getConfig().timeBudget.deadRequestAfterMs);
  return await transaction(async (tx) => {
    const abandoned = await lockAbandonedCheckouts(tx, { createdBefore, limit: options.limit ?? 100 });
    const out: Expired[] = [];
    for (const { id } of abandoned) {
      const outcome = await expireHeldOrderInTx(tx, id, {
        actor: options.actor,
        reason: 'checkout_abandoned: the checkout died before the provider call; nobody can pay this hold',
        onlyIfDue: false,
      });
      if (outcome.expired) out.push(outcome);
    }
    return out;
  });
}
