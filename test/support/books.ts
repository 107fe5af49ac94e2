import { createHash, randomUUID } from 'node:crypto';
import { db, type Tx, transaction } from '../../lib/db/client.js';
import type { Provider } from '../../lib/db/models/orders.js';
import { closeDisputeInTx, openDisputeInTx } from '../../lib/disputes/record-dispute.js';
import { recordMovement } from '../../lib/ledger/record-movement.js';
import { recordProviderFeeInTx } from '../../lib/ledger/record-provider-fee.js';
import { uniqueEmail } from './factories.js';

/**
 * Books written straight in SQL, at chosen times (report tests need orders on a DST day, months
 * apart), plus the ledger rows the flows write for them, through the one ledger writer
 * (recordMovement) and the dispute and fee functions. Flow-based tests use the real checkout and
 * webhooks instead (test/ledger/flows-*.test.ts).
 */

export interface BookItem {
  ticketTypeId: string;
  unitPriceCents: number;
  quantity: number;
  slidingScale: boolean;
}

export interface BookOrder {
  orderId: string;
  paymentId: string;
  provider: Provider;
  totalCents: number;
  currency: string;
  providerPaymentId: string;
}

export interface PaidOrderInput {
  eventId: string;
  currency?: string;
  provider: Provider;
  percent: number;
  items: BookItem[];
  /** When it was started and paid. */
  at: Date;
  /** Fee the provider took (default none). */
  feeCents?: number;
  email?: string;
  /** Leave it unpaid with this status instead (pending / processing / expired / failed / cancelled). */
  unpaidStatus?: 'pending' | 'processing' | 'expired' | 'failed' | 'cancelled';
  /** End of a pending / processing order's hold (default: a day from now). In the past: expired, not yet reclaimed. */
  holdExpiresAt?: Date;
}

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

export async function makeOrder(input: PaidOrderInput, within?: Tx): Promise<BookOrder> {
  const currency = input.currency ?? 'USD';
  const email = input.email ?? uniqueEmail('books');
  const lines = input.items.flatMap((item) =>
    Array.from({ length: item.quantity }, () => {
      const discount = item.slidingScale ? Math.floor((item.unitPriceCents * input.percent) / 100) : 0;
      return { ticketTypeId: item.ticketTypeId, unit: item.unitPriceCents, discount, price: item.unitPriceCents - discount };
    }),
  );
  const subtotal = lines.reduce((a, l) => a + l.unit, 0);
  const discount = lines.reduce((a, l) => a + l.discount, 0);
  const total = subtotal - discount;
  const providerPaymentId = `${input.provider === 'stripe' ? 'pi' : 'CAP'}_${randomUUID().replaceAll('-', '')}`;
  const status = input.unpaidStatus ?? 'completed';
  const holding = status === 'pending' || status === 'processing';
  const body = async (tx: Tx): Promise<BookOrder> => {
    const customer = await tx.queryOne<{ id: string }>(
      `INSERT INTO customers (email, first_name, last_name) VALUES ($1, 'Ana', 'Books')
       ON CONFLICT (lower(email)) DO UPDATE SET updated_at = now() RETURNING id`,
      [email],
    );
    const order = await tx.queryOne<{ id: string }>(
      `INSERT INTO orders (event_id, customer_id, status, currency, subtotal_cents, discount_cents, total_cents,
         sliding_scale_percent, provider, access_token_hash, hold_expires_at, completed_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
      [
        input.eventId,
        customer?.id,
        status,
        currency,
        subtotal,
        discount,
        total,
        input.percent,
        input.provider,
        hex(randomUUID()),
        // A live hold (the hold sweeper of other test files must not find it due: its tickets are really held).
        holding ? (input.holdExpiresAt ?? new Date(Date.now() + 86_400_000)) : null,
        status === 'completed' ? input.at : null,
        input.at,
      ],
    );
    if (!order) throw new Error('order not inserted');
    for (const l of lines) {
      await tx.query(
        `INSERT INTO order_items (order_id, ticket_type_id, unit_price_cents, discount_cents, price_cents, currency, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [order.id, l.ticketTypeId, l.unit, l.discount, l.price, currency, input.at],
      );
    }
    // `taken` as the flows leave it (migration 0099): checkout's hold counts the tickets, completion keeps
    // them counted (sold); an order that ended unpaid gave them back.
    if (holding || status === 'completed') {
      for (const item of input.items) {
        await tx.query('UPDATE ticket_types SET taken = taken + $2 WHERE id = $1', [item.ticketTypeId, item.quantity]);
      }
    }
    const payment = await tx.queryOne<{ id: string }>(
      `INSERT INTO payments (order_id, provider, status, amount_cents, currency, provider_payment_id, completed_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [order.id, input.provider, status, total, currency, providerPaymentId, status === 'completed' ? input.at : null, input.at],
    );
    if (!payment) throw new Error('payment not inserted');
    if (status === 'completed') {
      await recordMovement(tx, {
        kind: 'capture',
        orderId: order.id,
        paymentId: payment.id,
        provider: input.provider,
        providerRef: providerPaymentId,
        amountCents: total,
        currency,
        occurredAt: input.at,
      });
      if (input.feeCents !== undefined) {
        await recordProviderFeeInTx(tx, {
          paymentId: payment.id,
          feeCents: input.feeCents,
          currency,
          providerRef: input.provider === 'stripe' ? `txn_${randomUUID().slice(0, 8)}` : providerPaymentId,
        });
      }
    }
    return { orderId: order.id, paymentId: payment.id, provider: input.provider, totalCents: total, currency, providerPaymentId };
  };
  return within ? await body(within) : await transaction(body);
}

/** A payment failure (decline) recorded at `at`. */
export async function recordFailure(order: BookOrder, code: string, declineCode: string | null, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO payment_failures (payment_id, order_id, provider, code, decline_code, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [order.paymentId, order.orderId, order.provider, code, declineCode, at],
  );
}

/**
 * A succeeded refund at `at` (the books and the ledger, as settleRefund does). `reversedAt`: it failed later.
 * `feeReturnedCents`: the provider gave that much of its fee back with it (booked with it, taken back with a reversal).
 */
export async function refundOrder(
  order: BookOrder,
  amountCents: number,
  at: Date,
  reversedAt?: Date,
  feeReturnedCents?: number,
): Promise<string> {
  return await transaction(async (tx) => {
    const refund = await tx.queryOne<{ id: string }>(
      `INSERT INTO refunds (payment_id, order_id, provider, amount_cents, currency, status, reason, provider_refund_id,
         completed_at, created_at, updated_at, fee_returned_cents)
       VALUES ($1, $2, $3, $4, $5, $6, 'Customer asked for a refund', $7, $8, $8, $9, $10) RETURNING id`,
      [
        order.paymentId,
        order.orderId,
        order.provider,
        amountCents,
        order.currency,
        reversedAt ? 'failed' : 'succeeded',
        `re_${randomUUID().slice(0, 12)}`,
        at,
        reversedAt ?? at,
        feeReturnedCents ?? null,
      ],
    );
    if (!refund) throw new Error('refund not inserted');
    const delta = reversedAt ? 0 : amountCents;
    await tx.query(
      `UPDATE payments SET refunded_cents = refunded_cents + $2,
         status = CASE WHEN refunded_cents + $2 >= amount_cents THEN 'refunded' WHEN refunded_cents + $2 > 0 THEN 'partially_refunded' ELSE status END
       WHERE id = $1`,
      [order.paymentId, delta],
    );
    await tx.query(
      `UPDATE orders SET refunded_cents = refunded_cents + $2,
         status = CASE WHEN refunded_cents + $2 >= total_cents THEN 'refunded' WHEN refunded_cents + $2 > 0 THEN 'partially_refunded' ELSE status END
       WHERE id = $1`,
      [order.orderId, delta],
    );
    const base = {
      orderId: order.orderId,
      paymentId: order.paymentId,
      refundId: refund.id,
      provider: order.provider,
      currency: order.currency,
      amountCents,
    };
    await recordMovement(tx, { ...base, kind: 'refund', occurredAt: at });
    if (reversedAt) await recordMovement(tx, { ...base, kind: 'refund_reversal', occurredAt: reversedAt });
    if (feeReturnedCents) {
      const fee = { ...base, kind: 'fee_returned' as const, returnedCents: feeReturnedCents };
      await recordMovement(tx, { ...fee, occurredAt: at });
      if (reversedAt) await recordMovement(tx, { ...fee, reversal: true, occurredAt: reversedAt });
    }
    return refund.id;
  });
}

/** A dispute opened at `openedAt`, optionally closed (won / lost) at `closedAt`, through the dispute functions. */
export async function disputeOrder(
  order: BookOrder,
  amountCents: number,
  openedAt: Date,
  close?: { status: 'won' | 'lost'; at: Date },
): Promise<string> {
  const providerDisputeId = `dp_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const report = {
    provider: order.provider,
    providerDisputeId,
    providerPaymentId: order.providerPaymentId,
    amountCents,
    currency: order.currency,
    reason: 'fraudulent',
    actor: { type: 'provider' as const, id: 'test' },
  };
  await transaction((tx) => openDisputeInTx(tx, { ...report, at: openedAt }));
  if (close) await transaction((tx) => closeDisputeInTx(tx, { ...report, status: close.status, at: close.at }));
  return providerDisputeId;
}
