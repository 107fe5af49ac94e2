import type { z } from 'zod';
import type { Tx } from '../../db/client.js';
import type { Actor } from '../../db/models/audit-log.js';
import { finalizeFromEvent, resolveOrderId, storeAndFinalizeFromEvent } from '../order-effects.js';
import type { ApplyOutcome, StoreAndApplyContext, StoredAndApplied } from '../types.js';
import { type checkoutSessionSchema, idOf } from './objects.js';

/** What every checkout.session.* handler shares: finding our order, and finalizing a paid session. */

export type CheckoutSessionObject = z.infer<typeof checkoutSessionSchema>;

/** Our order for a session: client_reference_id / metadata.order_id, else the payment carrying the session id. */
export async function orderIdForSession(tx: Tx, session: CheckoutSessionObject): Promise<string | undefined> {
  return await resolveOrderId(tx, 'stripe', {
    orderId: session.client_reference_id ?? session.metadata.order_id,
    sessionId: session.id,
  });
}

/** A paid session → the one finalize function, with the amount and currency Stripe reports. */
export async function finalizePaidSession(
  tx: Tx,
  orderId: string,
  session: CheckoutSessionObject,
  actor: Actor,
): Promise<ApplyOutcome> {
  const paymentIntentId = idOf(session.payment_intent);
  if (!paymentIntentId) throw new Error(`Paid session ${session.id} has no payment_intent`);
  return await finalizeFromEvent(tx, paidSessionInput(orderId, paymentIntentId, session, actor));
}

function paidSessionInput(orderId: string, paymentIntentId: string, session: CheckoutSessionObject, actor: Actor) {
  return {
    orderId,
    provider: 'stripe' as const,
    providerSessionId: session.id,
    providerPaymentId: paymentIntentId,
    amountCents: session.amount_total ?? 0,
    currency: session.currency ?? '',
    actor,
  };
}

/**
 * A paid session naming our order (client_reference_id / metadata.order_id), stored and applied in one
 * statement when the order's hold is live (else stored as `received` for finalizePaidSession); undefined,
 * before any write, when the session names no order or no PaymentIntent.
 */
export async function storeAndFinalizePaidSession(
  session: CheckoutSessionObject,
  ctx: StoreAndApplyContext,
): Promise<StoredAndApplied | undefined> {
  const orderId = session.client_reference_id ?? session.metadata.order_id;
  const paymentIntentId = idOf(session.payment_intent);
  if (!orderId || !paymentIntentId) return undefined;
  return await storeAndFinalizeFromEvent(paidSessionInput(orderId, paymentIntentId, session, ctx.actor), ctx);
}
