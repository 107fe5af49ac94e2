import type { Queryable } from '../client.js';

/** payments.fee_cents: the provider's fee of a captured payment, set once (NULL: not known yet). */

export interface PaymentFeeState {
  provider: string;
  providerPaymentId: string | null;
  feeCents: number | null;
}

export async function findPaymentFeeState(q: Queryable, paymentId: string): Promise<PaymentFeeState | undefined> {
  return await q.queryOne<PaymentFeeState>(
    `SELECT provider, provider_payment_id AS "providerPaymentId", fee_cents AS "feeCents" FROM payments WHERE id = $1`,
    [paymentId],
  );
}

/** Sets the fee when it is not known yet; false when it already was (the first report wins). */
export async function setPaymentFeeOnce(q: Queryable, paymentId: string, feeCents: number): Promise<boolean> {
  const updated = await q.query('UPDATE payments SET fee_cents = $2 WHERE id = $1 AND fee_cents IS NULL', [paymentId, feeCents]);
  return (updated.rowCount ?? 0) > 0;
}
