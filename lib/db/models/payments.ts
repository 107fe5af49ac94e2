import type { Queryable } from '../client.js';
import type { Currency } from '../../money.js';
import type { Provider } from './orders.js';

/** payments: one provider attempt for an order (Stripe Checkout Session or PayPal order). */

export const PAYMENT_STATUSES = [
  'pending',
  'processing',
  'completed',
  'partially_refunded',
  'refunded',
  'failed',
  'cancelled',
  'expired',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/**
 * The one definition of "this payment's money was captured" (whatever was refunded since). SQL uses
 * it as a parameter (`status = ANY($n)`), never spelled out.
 */
export const CAPTURED_PAYMENT_STATUSES: readonly PaymentStatus[] = ['completed', 'partially_refunded', 'refunded'];

export function isCaptured(status: PaymentStatus): boolean {
  return CAPTURED_PAYMENT_STATUSES.includes(status);
}

/**
 * The provider holds this payment's money: captured, or a duplicate payment cancelled on our side (its money
 * is still captured at the provider until it is refunded).
 */
export function holdsCapturedMoney(payment: Pick<Payment, 'status' | 'failureCode'>): boolean {
  return isCaptured(payment.status) || (payment.status === 'cancelled' && payment.failureCode === 'duplicate_payment');
}

export interface Payment {
  id: string;
  orderId: string;
  provider: Provider;
  status: PaymentStatus;
  amountCents: number;
  currency: Currency;
  refundedCents: number;
  disputedCents: number;
  providerSessionId: string | null;
  providerPaymentId: string | null;
  checkoutUrl: string | null;
  methodType: string | null;
  methodBrand: string | null;
  methodLast4: string | null;
  failureCount: number;
  failureCode: string | null;
  failureMessage: string | null;
  completedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const PAYMENT_COLUMNS = `id, order_id AS "orderId", provider, status, amount_cents AS "amountCents", currency,
  refunded_cents AS "refundedCents", disputed_cents AS "disputedCents", provider_session_id AS "providerSessionId",
  provider_payment_id AS "providerPaymentId", checkout_url AS "checkoutUrl", method_type AS "methodType",
  method_brand AS "methodBrand", method_last4 AS "methodLast4", failure_count AS "failureCount",
  failure_code AS "failureCode", failure_message AS "failureMessage", completed_at AS "completedAt",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

export interface NewPayment {
  orderId: string;
  provider: Provider;
  amountCents: number;
  currency: Currency;
}

export async function insertPayment(q: Queryable, payment: NewPayment): Promise<Payment> {
  const row = await q.queryOne<Payment>(
    `INSERT INTO payments (order_id, provider, amount_cents, currency) VALUES ($1, $2, $3, $4) RETURNING ${PAYMENT_COLUMNS}`,
    [payment.orderId, payment.provider, payment.amountCents, payment.currency],
  );
  if (!row) throw new Error('insertPayment returned no row');
  return row;
}

/** What can still be refunded on a payment: captured − refunded − disputed − refunds in flight, never below 0. */
export function refundableOf(
  payment: Pick<Payment, 'amountCents' | 'refundedCents' | 'disputedCents'>,
  pendingCents: number,
): number {
  return Math.max(0, payment.amountCents - payment.refundedCents - payment.disputedCents - pendingCents);
}

export async function findPaymentById(q: Queryable, id: string): Promise<Payment | undefined> {
  return await q.queryOne<Payment>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = $1`, [id]);
}

export interface NewDuplicatePayment extends Omit<NewPayment, 'currency'> {
  /** As the provider reported it (upper-cased); the database's currency_code domain checks it. */
  currency: string;
  providerPaymentId: string;
  methodType: string | null;
  methodBrand: string | null;
  methodLast4: string | null;
}

/**
 * Records a second payment for an already paid order, `cancelled` as a duplicate (refund due). A
 * repeated report of the same provider payment returns the row already recorded.
 */
export async function insertDuplicatePayment(q: Queryable, payment: NewDuplicatePayment): Promise<Payment | undefined> {
  return await q.queryOne<Payment>(
    `INSERT INTO payments (order_id, provider, status, amount_cents, currency, provider_payment_id, method_type, method_brand,
       method_last4, failure_code, failure_message)
     VALUES ($1, $2, 'cancelled', $3, $4, $5, $6, $7, $8, 'duplicate_payment', 'Order was already paid; refund due')
     ON CONFLICT (provider, provider_payment_id) DO UPDATE SET updated_at = now()
     RETURNING ${PAYMENT_COLUMNS}`,
    [
      payment.orderId,
      payment.provider,
      payment.amountCents,
      payment.currency,
      payment.providerPaymentId,
      payment.methodType,
      payment.methodBrand,
      payment.methodLast4,
    ],
  );
}

export async function lockPaymentById(q: Queryable, id: string): Promise<Payment | undefined> {
  return await q.queryOne<Payment>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = $1 FOR UPDATE`, [id]);
}

/** The order's captured payment (a unique index allows at most one), locked. */
export async function lockCapturedPaymentForOrder(q: Queryable, orderId: string): Promise<Payment | undefined> {
  return await q.queryOne<Payment>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = $1 AND status = ANY($2::text[]) LIMIT 1 FOR UPDATE`,
    [orderId, CAPTURED_PAYMENT_STATUSES],
  );
}

/** All attempts for an order, newest first. */
export async function listPaymentsForOrder(q: Queryable, orderId: string): Promise<Payment[]> {
  return await q.queryMany<Payment>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = $1 ORDER BY created_at DESC, id DESC`,
    [orderId],
  );
}

/** The newest attempt for an order (what checkout created), locked. */
export async function lockLatestPaymentForOrder(q: Queryable, orderId: string): Promise<Payment | undefined> {
  return await q.queryOne<Payment>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE`,
    [orderId],
  );
}

export async function findPaymentByProviderSession(
  q: Queryable,
  provider: Provider,
  sessionId: string,
): Promise<Payment | undefined> {
  return await q.queryOne<Payment>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE provider = $1 AND provider_session_id = $2`, [
    provider,
    sessionId,
  ]);
}

export async function findPaymentByProviderPayment(
  q: Queryable,
  provider: Provider,
  paymentId: string,
): Promise<Payment | undefined> {
  return await q.queryOne<Payment>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE provider = $1 AND provider_payment_id = $2`, [
    provider,
    paymentId,
  ]);
}

export interface PaymentChanges {
  status?: PaymentStatus;
  refundedCents?: number;
  disputedCents?: number;
  providerSessionId?: string | null;
  providerPaymentId?: string | null;
  checkoutUrl?: string | null;
  methodType?: string | null;
  methodBrand?: string | null;
  methodLast4?: string | null;
  failureCount?: number;
  failureCode?: string | null;
  failureMessage?: string | null;
  completedAt?: Date | null;
}

const PAYMENT_CHANGE_COLUMNS: Record<keyof PaymentChanges, string> = {
  status: 'status',
  refundedCents: 'refunded_cents',
  disputedCents: 'disputed_cents',
  providerSessionId: 'provider_session_id',
  providerPaymentId: 'provider_payment_id',
  checkoutUrl: 'checkout_url',
  methodType: 'method_type',
  methodBrand: 'method_brand',
  methodLast4: 'method_last4',
  failureCount: 'failure_count',
  failureCode: 'failure_code',
  failureMessage: 'failure_message',
  completedAt: 'completed_at',
};

export async function updatePayment(q: Queryable, id: string, changes: PaymentChanges): Promise<Payment> {
  const sets: string[] = [];
  const values: unknown[] = [id];
  for (const [key, column] of Object.entries(PAYMENT_CHANGE_COLUMNS) as [keyof PaymentChanges, string][]) {
    if (changes[key] === undefined) continue;
    values.push(changes[key]);
    sets.push(`${column} = $${values.length}`);
  }
  const row =
    sets.length === 0
      ? await findPaymentById(q, id)
      : await q.queryOne<Payment>(`UPDATE payments SET ${sets.join(', ')} WHERE id = $1 RETURNING ${PAYMENT_COLUMNS}`, values);
  if (!row) throw new Error(`payment ${id} not found`);
  return row;
}
