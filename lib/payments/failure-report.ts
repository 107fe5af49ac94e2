import type { Tx } from '../db/client.js';
import type { Order, Provider } from '../db/models/orders.js';
import type { NewPaymentFailure } from '../db/models/payment-failures.js';
import { findPaymentByProviderPayment, lockLatestPaymentForOrder, lockPaymentById, type Payment } from '../db/models/payments.js';

/** A provider's report that a payment attempt failed or was declined (webhook or our own capture call). */
export interface FailureReport {
  provider: Provider;
  code: string;
  declineCode?: string | null | undefined;
  message?: string | null | undefined;
  /** The webhook event id, or `capture:<paypalOrderId>` for our own capture call. */
  providerEventId?: string | undefined;
  providerPaymentId?: string | undefined;
}

/** The payment_failures row a failure report becomes. */
export function failureRow(orderId: string, paymentId: string, failure: FailureReport): NewPaymentFailure {
  return {
    paymentId,
    orderId,
    provider: failure.provider,
    code: failure.code,
    declineCode: failure.declineCode ?? null,
    message: failure.message ?? null,
    providerEventId: failure.providerEventId ?? null,
  };
}

/** The payment a failure belongs to: the one carrying the provider's payment id, else the order's latest attempt; locked. */
export async function lockPaymentForFailure(
  tx: Tx,
  order: Order,
  providerPaymentId: string | undefined,
): Promise<Payment | undefined> {
  if (providerPaymentId) {
    const byId = await findPaymentByProviderPayment(tx, order.provider, providerPaymentId);
    if (byId && byId.orderId === order.id) return await lockPaymentById(tx, byId.id);
  }
  return await lockLatestPaymentForOrder(tx, order.id);
}
