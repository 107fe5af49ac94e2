import { transaction } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { lockOrderById, type Order } from '../db/models/orders.js';
import { recordPaymentFailure } from '../db/models/payment-failures.js';
import { lockPaymentById, type Payment } from '../db/models/payments.js';
import { canTransition } from '../payments/state-machine.js';
import { transition } from '../payments/transition.js';
import type { ProviderError } from '../providers/checkout-provider.js';
import { releaseOrderHolds } from './holds.js';

/**
 * Checkout's provider call failed: release the hold, fail order and payment (through the state
 * machine), record the provider's code, one audit entry. One transaction; a no-op unless the order
 * is still pending.
 */
export async function failCheckoutAfterProviderError(
  order: Pick<Order, 'id'>,
  payment: Pick<Payment, 'id'>,
  error: ProviderError,
  actor: Actor,
): Promise<void> {
  await transaction(async (tx) => {
    const locked = await lockOrderById(tx, order.id);
    if (locked?.status !== 'pending') return;
    const released = await releaseOrderHolds(tx, order.id);
    await transition(tx, 'order', locked, 'failed');
    await recordPaymentFailure(tx, {
      paymentId: payment.id,
      orderId: order.id,
      provider: error.provider,
      code: error.code,
      declineCode: error.declineCode ?? null,
      message: error.message,
    });
    const current = await lockPaymentById(tx, payment.id);
    if (current && canTransition('payment', current.status, 'failed')) await transition(tx, 'payment', current, 'failed');
    await appendAudit(tx, {
      entityType: 'order',
      entityId: order.id,
      action: 'checkout_provider_failed',
      actor,
      reason: error.code,
      oldValues: { status: locked.status },
      newValues: { status: 'failed', released, provider: error.provider, providerCode: error.code, kind: error.kind },
    });
  });
}
