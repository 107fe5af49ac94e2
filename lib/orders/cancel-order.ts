import { db, transaction } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { lockOrderById, type Order } from '../db/models/orders.js';
import { lockLatestPaymentForOrder } from '../db/models/payments.js';
import { AppError } from '../errors.js';
import { log } from '../log.js';
import { ProviderError } from '../providers/checkout-provider.js';
import { getCheckoutProvider } from '../providers/index.js';
import { buildOrderView, findOrderForBuyer, type OrderView, orderNotFound } from '../checkout/get-order-for-buyer.js';
import { releaseOrderHolds } from '../checkout/holds.js';
import { canTransition, isPaid } from '../payments/state-machine.js';
import { transition } from '../payments/transition.js';
import { notifyOrderEndedInTx } from '../messages/notify-buyer.js';

/**
 * POST /api/orders/{id}/cancel: the buyer gives up on an unpaid order (the provider's "cancel and go
 * back" link lands on /tickets/cancel, which calls this).
 *
 *  - Same credentials as GET /api/orders/{id}: the order's access token; none, wrong or another
 *    order's → 404 (indistinguishable from a missing order).
 *  - `pending` → `cancelled` in ONE transaction with the order row locked: the hold goes back to the
 *    ticket types, the open payment → cancelled, one audit entry. Then, OUTSIDE the transaction, the
 *    Stripe Checkout Session is expired (idempotency key `expire-<orderId>`, the same one the hold cron
 *    uses) so it cannot be paid any more; a PayPal order is left to lapse (it can no longer be
 *    captured for a cancelled order; PayPal has nothing to expire).
 *  - Idempotent: an order already cancelled answers the same (200, its view); nothing is written again.
 *    An unpaid order that already ended otherwise (expired, failed: its tickets are back already)
 *    also answers 200 with its view, unchanged.
 *  - `processing` (a payment is in flight at the provider) or paid → 409 ORDER_NOT_CANCELLABLE,
 *    nothing changes. Money that still arrives for a cancelled order is a late payment
 *    (lib/payments/finalize-order.ts), as for an expired hold.
 *
 * The order row lock is the same one finalize-order takes, so a cancel racing the payment webhook
 * is serialised: exactly one of them changes the order first.
 */

export interface CancelOrderInput {
  orderId: string | null | undefined;
  accessToken: string | undefined;
  actor: Actor;
}

type CancelOutcome =
  | { kind: 'cancelled'; order: Order; sessionId: string | null }
  | { kind: 'unchanged'; order: Order }
  | { kind: 'refused'; order: Order };

export async function cancelOrder(input: CancelOrderInput): Promise<OrderView> {
  const found = await findOrderForBuyer(input.orderId, input.accessToken);
  if (!found) throw orderNotFound();

  const outcome = await transaction(async (tx): Promise<CancelOutcome> => {
    const order = await lockOrderById(tx, found.id);
    if (!order) throw orderNotFound();
    if (order.status !== 'pending') {
      return isPaid(order.status) || order.status === 'processing' ? { kind: 'refused', order } : { kind: 'unchanged', order };
    }
    if (!canTransition('order', order.status, 'cancelled')) return { kind: 'refused', order };
    const released = await releaseOrderHolds(tx, order.id);
    // An email only when the buyer had started paying (a declined attempt); before the payment is cancelled.
    await notifyOrderEndedInTx(tx, { orderId: order.id, how: 'cancelled', previousStatus: order.status });
    const cancelled = await transition(tx, 'order', order, 'cancelled');
    const payment = await lockLatestPaymentForOrder(tx, order.id);
    if (payment && payment.status !== 'cancelled' && canTransition('payment', payment.status, 'cancelled')) {
      await transition(tx, 'payment', payment, 'cancelled');
    }
    await appendAudit(tx, {
      entityType: 'order',
      entityId: order.id,
      action: 'order_cancelled',
      actor: input.actor,
      reason: 'cancelled by the buyer',
      oldValues: { status: order.status, holdExpiresAt: order.holdExpiresAt?.toISOString() ?? null },
      newValues: { status: 'cancelled', released },
    });
    return { kind: 'cancelled', order: cancelled, sessionId: payment?.providerSessionId ?? null };
  });

  if (outcome.kind === 'refused') {
    throw new AppError(
      'ORDER_NOT_CANCELLABLE',
      outcome.order.status === 'processing'
        ? 'This order has a payment in progress and cannot be cancelled'
        : 'This order is paid and cannot be cancelled; ask the festival for a refund',
      { details: { status: outcome.order.status } },
    );
  }
  if (outcome.kind === 'cancelled' && outcome.order.provider === 'stripe' && outcome.sessionId) {
    await expireStripeSession(outcome.order.id, outcome.sessionId, input.actor.requestId);
  }
  return await buildOrderView(db, outcome.order);
}

/** Best effort: the session also carries expires_at = the hold's end, and a payment that still lands is a late payment. */
async function expireStripeSession(orderId: string, sessionId: string, requestId: string | undefined): Promise<void> {
  try {
    const stripe = await getCheckoutProvider('stripe');
    await stripe.expireCheckout(sessionId, `expire-${orderId}`);
  } catch (error) {
    log.warn('stripe session expiry after cancel failed', {
      orderId,
      code: error instanceof ProviderError ? error.code : 'unexpected',
      requestId,
    });
  }
}
