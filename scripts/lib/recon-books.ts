import { createHash, randomUUID } from 'node:crypto';
import { db, transaction } from '../../lib/db/client.js';
import type { Provider } from '../../lib/db/models/orders.js';

/**
 * Our books for reconciliation tests and the reconcile benchmark, written in bulk (thousands of paid orders in a few statements):
 * completed orders with one completed payment each (provider payment id = the provider's reference,
 * completed at the given time) and succeeded refunds. When the database has the money ledger, its
 * backfill writes the ledger rows these payments and refunds stand for (fees from `feeCents`).
 */

export interface BookCapture {
  reference: string;
  amountCents: number;
  currency?: string;
  at: Date;
  feeCents?: number;
  /** Use this order id (e.g. the one the provider echoes); default a new one. */
  orderId?: string;
}

export interface BookRefund {
  reference: string;
  /** The capture reference it refunds. */
  paymentReference: string;
  amountCents: number;
  at: Date;
}

export interface SeededBooks {
  orderIdByReference: Map<string, string>;
  orderNumberByReference: Map<string, string>;
}

export async function seedBooks(provider: Provider, captures: BookCapture[], refunds: BookRefund[] = []): Promise<SeededBooks> {
  const suffix = randomUUID().slice(0, 12);
  const event = await db.queryOne<{ id: string }>(
    `INSERT INTO events (slug, name, starts_at, ends_at)
     VALUES ($1, 'Reconciliation books', now() + interval '30 days', now() + interval '32 days') RETURNING id`,
    [`recon-${suffix}`],
  );
  if (!event) throw new Error('no event');
  const orderIdByReference = new Map<string, string>();
  const orderNumberByReference = new Map<string, string>();
  const hasFees = Boolean(
    (
      await db.queryOne<{ ok: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'payments' AND column_name = 'fee_cents') AS ok`,
      )
    )?.ok,
  );
  const refundedBy = new Map<string, number>();
  for (const r of refunds) refundedBy.set(r.paymentReference, (refundedBy.get(r.paymentReference) ?? 0) + r.amountCents);
  await transaction(async (tx) => {
    const customer = await tx.queryOne<{ id: string }>(
      `INSERT INTO customers (email, first_name, last_name) VALUES ($1, 'Recon', 'Test') RETURNING id`,
      [`recon.${suffix}@example.test`],
    );
    for (let start = 0; start < captures.length; start += 2_000) {
      const batch = captures.slice(start, start + 2_000);
      const orderIds = batch.map((c) => c.orderId ?? randomUUID());
      const status = batch.map((c) => {
        const refunded = refundedBy.get(c.reference) ?? 0;
        return refunded === 0 ? 'completed' : refunded >= c.amountCents ? 'refunded' : 'partially_refunded';
      });
      const rows = await tx.queryMany<{ id: string; order_number: string }>(
        `INSERT INTO orders (id, event_id, customer_id, status, currency, subtotal_cents, total_cents, refunded_cents, provider,
           access_token_hash, completed_at)
         SELECT u.id, $1, $2, u.status, u.currency, u.amount, u.amount, u.refunded, $3, $4, u.at
         FROM unnest($5::uuid[], $6::text[], $7::text[], $8::int[], $9::int[], $10::timestamptz[])
           AS u(id, status, currency, amount, refunded, at)
         RETURNING id, order_number`,
        [
          event.id,
          customer?.id,
          provider,
          createHash('sha256').update(randomUUID()).digest('hex'),
          orderIds,
          status,
          batch.map((c) => c.currency ?? 'USD'),
          batch.map((c) => c.amountCents),
          batch.map((c) => Math.min(c.amountCents, refundedBy.get(c.reference) ?? 0)),
          batch.map((c) => c.at),
        ],
      );
      const numbers = new Map(rows.map((r) => [r.id, r.order_number]));
      await tx.query(
        `INSERT INTO payments (order_id, provider, status, amount_cents, currency, refunded_cents, provider_session_id,
           provider_payment_id, completed_at ${hasFees ? ', fee_cents' : ''})
         SELECT u.order_id, $1, u.status, u.amount, u.currency, u.refunded, 'sess_' || u.reference, u.reference, u.at
           ${hasFees ? ', u.fee' : ''}
         FROM unnest($2::uuid[], $3::text[], $4::int[], $5::text[], $6::int[], $7::text[], $8::timestamptz[], $9::int[])
           AS u(order_id, status, amount, currency, refunded, reference, at, fee)`,
        [
          provider,
          orderIds,
          status,
          batch.map((c) => c.amountCents),
          batch.map((c) => c.currency ?? 'USD'),
          batch.map((c) => Math.min(c.amountCents, refundedBy.get(c.reference) ?? 0)),
          batch.map((c) => c.reference),
          batch.map((c) => c.at),
          batch.map((c) => c.feeCents ?? null),
        ],
      );
      batch.forEach((c, i) => {
        const id = orderIds[i] as string;
        orderIdByReference.set(c.reference, id);
        orderNumberByReference.set(c.reference, numbers.get(id) ?? '');
      });
    }
    for (let start = 0; start < refunds.length; start += 2_000) {
      const batch = refunds.slice(start, start + 2_000);
      await tx.query(
        `INSERT INTO refunds (payment_id, order_id, provider, amount_cents, currency, status, reason, source, provider_refund_id,
           completed_at)
         SELECT p.id, p.order_id, $1, u.amount, p.currency, 'succeeded', 'Reconciliation test refund', 'admin', u.reference, u.at
         FROM unnest($2::text[], $3::text[], $4::int[], $5::timestamptz[]) AS u(reference, payment_reference, amount, at)
         JOIN payments p ON p.provider = $1 AND p.provider_payment_id = u.payment_reference`,
        [
          provider,
          batch.map((r) => r.reference),
          batch.map((r) => r.paymentReference),
          batch.map((r) => r.amountCents),
          batch.map((r) => r.at),
        ],
      );
      for (const r of batch) {
        const orderId = orderIdByReference.get(r.paymentReference);
        if (orderId) orderIdByReference.set(r.reference, orderId);
        const number = orderNumberByReference.get(r.paymentReference);
        if (number) orderNumberByReference.set(r.reference, number);
      }
    }
    const ledger = await tx.queryOne<{ ok: boolean }>(`SELECT to_regprocedure('money_ledger_backfill()') IS NOT NULL AS ok`);
    if (ledger?.ok) await tx.query('SELECT money_ledger_backfill()');
  });
  return { orderIdByReference, orderNumberByReference };
}
