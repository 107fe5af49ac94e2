import type { Queryable } from '../client.js';
import type { Currency } from '../../money.js';

/** orders: one checkout. Status changes go through lib/payments/state-machine.ts, never directly. */

export const ORDER_STATUSES = [
  'pending',
  'processing',
  'completed',
  'partially_refunded',
  'refunded',
  'expired',
  'failed',
  'cancelled',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

// The groups of order statuses, defined once, here below the domain so that lib/db reads them too (the moves
// allowed between statuses are lib/payments/state-machine.ts's table).
/** Paid orders: their money was captured (whatever was refunded since). */
export const PAID_ORDER_STATUSES: readonly OrderStatus[] = ['completed', 'partially_refunded', 'refunded'];
/** Orders whose hold is live (capacity counted in ticket_types.taken, shown as held). */
export const HOLDING_ORDER_STATUSES: readonly OrderStatus[] = ['pending', 'processing'];
/** Orders that ended without payment; money arriving now is a late payment. */
export const UNPAID_ENDED_ORDER_STATUSES: readonly OrderStatus[] = ['expired', 'failed', 'cancelled'];
export type Provider = 'stripe' | 'paypal';
export type AttentionReason = 'amount_mismatch' | 'late_payment_no_capacity' | 'disputed';

export interface Order {
  id: string;
  orderNumber: string;
  eventId: string;
  customerId: string;
  status: OrderStatus;
  currency: Currency;
  subtotalCents: number;
  discountCents: number;
  totalCents: number;
  refundedCents: number;
  slidingScalePercent: number;
  provider: Provider;
  accessTokenHash: string;
  holdExpiresAt: Date | null;
  attentionReason: AttentionReason | null;
  metadata: Record<string, unknown>;
  completedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const ORDER_COLUMNS = `id, order_number AS "orderNumber", event_id AS "eventId", customer_id AS "customerId", status,
  currency, subtotal_cents AS "subtotalCents", discount_cents AS "discountCents", total_cents AS "totalCents",
  refunded_cents AS "refundedCents", sliding_scale_percent AS "slidingScalePercent", provider,
  access_token_hash AS "accessTokenHash", hold_expires_at AS "holdExpiresAt", attention_reason AS "attentionReason",
  metadata, completed_at AS "completedAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

export interface NewOrder {
  eventId: string;
  customerId: string;
  currency: Currency;
  subtotalCents: number;
  discountCents: number;
  totalCents: number;
  slidingScalePercent: number;
  provider: Provider;
  accessTokenHash: string;
  holdExpiresAt: Date;
  metadata?: Record<string, unknown>;
}

export async function insertOrder(q: Queryable, order: NewOrder): Promise<Order> {
  const row = await q.queryOne<Order>(
    `INSERT INTO orders (event_id, customer_id, currency, subtotal_cents, discount_cents, total_cents,
       sliding_scale_percent, provider, access_token_hash, hold_expires_at, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     RETURNING ${ORDER_COLUMNS}`,
    [
      order.eventId,
      order.customerId,
      order.currency,
      order.subtotalCents,
      order.discountCents,
      order.totalCents,
      order.slidingScalePercent,
      order.provider,
      order.accessTokenHash,
      order.holdExpiresAt,
      JSON.stringify(order.metadata ?? {}),
    ],
  );
  if (!row) throw new Error('insertOrder returned no row');
  return row;
}

export async function findOrderById(q: Queryable, id: string): Promise<Order | undefined> {
  return await q.queryOne<Order>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`, [id]);
}

/** Row lock for the rest of the transaction: every state change to an order starts here. */
export async function lockOrderById(q: Queryable, id: string): Promise<Order | undefined> {
  return await q.queryOne<Order>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE`, [id]);
}

export async function findOrderByNumber(q: Queryable, orderNumber: string): Promise<Order | undefined> {
  return await q.queryOne<Order>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE order_number = $1`, [orderNumber]);
}

/** The order, locked, with whether its hold time has passed (database clock). */
export async function lockOrderWithHoldDue(q: Queryable, id: string): Promise<(Order & { due: boolean }) | undefined> {
  return await q.queryOne<Order & { due: boolean }>(
    `SELECT ${ORDER_COLUMNS}, (hold_expires_at IS NOT NULL AND hold_expires_at <= now()) AS due
     FROM orders WHERE id = $1 FOR UPDATE`,
    [id],
  );
}

/**
 * Up to `limit` pending orders whose hold has passed, oldest hold first, locked; rows another
 * transaction has locked are skipped (SKIP LOCKED). With `ticketTypeId`: only orders holding that type.
 */
export async function lockDueHeldOrders(
  q: Queryable,
  options: { ticketTypeId?: string | undefined; limit: number },
): Promise<{ id: string }[]> {
  return options.ticketTypeId
    ? await q.queryMany<{ id: string }>(
        `SELECT o.id FROM orders o
         WHERE o.status IN ('pending', 'processing') AND o.hold_expires_at <= now() AND o.status = 'pending'
           AND EXISTS (SELECT 1 FROM order_items i
                       WHERE i.order_id = o.id AND i.ticket_type_id = $1 AND i.status = 'active')
         ORDER BY o.hold_expires_at LIMIT $2 FOR UPDATE OF o SKIP LOCKED`,
        [options.ticketTypeId, options.limit],
      )
    : await q.queryMany<{ id: string }>(
        `SELECT o.id FROM orders o
         WHERE o.status IN ('pending', 'processing') AND o.hold_expires_at <= now() AND o.status = 'pending'
         ORDER BY o.hold_expires_at LIMIT $1 FOR UPDATE OF o SKIP LOCKED`,
        [options.limit],
      );
}

export interface OrderChanges {
  status?: OrderStatus;
  refundedCents?: number;
  holdExpiresAt?: Date | null;
  attentionReason?: AttentionReason | null;
  completedAt?: Date | null;
  metadata?: Record<string, unknown>;
}

const ORDER_CHANGE_COLUMNS: Record<keyof OrderChanges, string> = {
  status: 'status',
  refundedCents: 'refunded_cents',
  holdExpiresAt: 'hold_expires_at',
  attentionReason: 'attention_reason',
  completedAt: 'completed_at',
  metadata: 'metadata',
};

/** Writes the given fields; callers hold the row lock and have checked the transition. */
export async function updateOrder(q: Queryable, id: string, changes: OrderChanges): Promise<Order> {
  const sets: string[] = [];
  const values: unknown[] = [id];
  for (const [key, column] of Object.entries(ORDER_CHANGE_COLUMNS) as [keyof OrderChanges, string][]) {
    if (changes[key] === undefined) continue;
    const value = changes[key];
    values.push(key === 'metadata' ? JSON.stringify(value) : value);
    sets.push(`${column} = $${values.length}`);
  }
  if (sets.length === 0) {
    const current = await findOrderById(q, id);
    if (!current) throw new Error(`order ${id} not found`);
    return current;
  }
  const row = await q.queryOne<Order>(`UPDATE orders SET ${sets.join(', ')} WHERE id = $1 RETURNING ${ORDER_COLUMNS}`, values);
  if (!row) throw new Error(`order ${id} not found`);
  return row;
}
