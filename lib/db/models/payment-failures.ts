import type { Queryable } from '../client.js';
import type { Provider } from './orders.js';

/** payment_failures: every failed attempt with the provider's code, for support and retries. */
export interface PaymentFailure {
  id: string;
  paymentId: string;
  orderId: string;
  provider: Provider;
  code: string;
  declineCode: string | null;
  message: string | null;
  retryCount: number;
  providerEventId: string | null;
  createdAt: Date;
}

const COLUMNS = `id, payment_id AS "paymentId", order_id AS "orderId", provider, code, decline_code AS "declineCode",
  message, retry_count AS "retryCount", provider_event_id AS "providerEventId", created_at AS "createdAt"`;

export interface NewPaymentFailure {
  paymentId: string;
  orderId: string;
  provider: Provider;
  code: string;
  declineCode?: string | null;
  message?: string | null;
  providerEventId?: string | null;
}

/**
 * Records a failure and bumps the payment's failure counter in one statement pair; retry_count is
 * the number of failures this payment had before this one.
 */
export async function recordPaymentFailure(q: Queryable, failure: NewPaymentFailure): Promise<PaymentFailure> {
  const counted = await q.queryOne<{ failureCount: number }>(
    `UPDATE payments SET failure_count = failure_count + 1, failure_code = $2, failure_message = $3
     WHERE id = $1 RETURNING failure_count AS "failureCount"`,
    [failure.paymentId, failure.code, failure.message ?? null],
  );
  if (!counted) throw new Error(`payment ${failure.paymentId} not found`);
  const row = await q.queryOne<PaymentFailure>(
    `INSERT INTO payment_failures (payment_id, order_id, provider, code, decline_code, message, retry_count, provider_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
    [
      failure.paymentId,
      failure.orderId,
      failure.provider,
      failure.code.slice(0, 200),
      failure.declineCode ?? null,
      failure.message?.slice(0, 1000) ?? null,
      counted.failureCount - 1,
      failure.providerEventId ?? null,
    ],
  );
  if (!row) throw new Error('recordPaymentFailure returned no row');
  return row;
}

export async function listFailuresForOrder(q: Queryable, orderId: string): Promise<PaymentFailure[]> {
  return await q.queryMany<PaymentFailure>(
    `SELECT ${COLUMNS} FROM payment_failures WHERE order_id = $1 ORDER BY created_at, id`,
    [orderId],
  );
}
