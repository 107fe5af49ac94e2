import type { Tx } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { lockOrderById } from '../db/models/orders.js';
import { lockLatestPaymentForOrder, type PaymentChanges } from '../db/models/payments.js';
import { canTransition } from './state-machine.js';
import { transition } from './transition.js';

/**
 * Payment started but not settled (Stripe async method, PayPal capture PENDING from the browser
 * return or the webhook): order and payment `processing`, one audit entry `payment_processing`.
 * Only a `pending` order moves; anything else is a no-op (false).
 */
export async function markPaymentProcessingInTx(
  tx: Tx,
  orderId: string,
  refs: { providerSessionId?: string | undefined; providerPaymentId?: string | undefined },
  actor: Actor,
): Promise<boolean> {
  const order = await lockOrderById(tx, orderId);
  if (order?.status !== 'pending' || !canTransition('order', order.status, 'processing')) return false;
  const payment = await lockLatestPaymentForOrder(tx, order.id);
  await transition(tx, 'order', order, 'processing');
  if (payment) {
    const changes: Omit<PaymentChanges, 'status'> = {};
    if (refs.providerSessionId && !payment.providerSessionId) changes.providerSessionId = refs.providerSessionId;
    if (refs.providerPaymentId && !payment.providerPaymentId) changes.providerPaymentId = refs.providerPaymentId;
    const to = canTransition('payment', payment.status, 'processing') ? 'processing' : payment.status;
    await transition(tx, 'payment', payment, to, changes);
  }
  await appendAudit(tx, {
    entityType: 'order',
    entityId: order.id,
    action: 'payment_processing',
    actor,
    oldValues: { status: order.status },
    newValues: { status: 'processing', providerPaymentId: refs.providerPaymentId ?? null },
  });
  return true;
}
