import type { Tx } from '../db/client.js';
import { type Order, type OrderChanges, type OrderStatus, updateOrder } from '../db/models/orders.js';
import { type Payment, type PaymentChanges, type PaymentStatus, updatePayment } from '../db/models/payments.js';
import { assertTransition } from './state-machine.js';

/**
 * The one door for order and payment status writes: the state machine (state-machine.ts) is asked
 * first and a move it does not allow throws INVALID_STATE_TRANSITION (callers that may find the row
 * elsewhere ask `canTransition` before). Staying in the same status is not a move: only the other
 * changes are written. The caller holds the row lock (order → payment → refund).
 */
export async function transition(
  tx: Tx,
  entity: 'order',
  row: Order,
  to: OrderStatus,
  changes?: Omit<OrderChanges, 'status'>,
): Promise<Order>;
export async function transition(
  tx: Tx,
  entity: 'payment',
  row: Payment,
  to: PaymentStatus,
  changes?: Omit<PaymentChanges, 'status'>,
): Promise<Payment>;
export async function transition(
  tx: Tx,
  entity: 'order' | 'payment',
  row: Order | Payment,
  to: OrderStatus | PaymentStatus,
  changes: Omit<OrderChanges, 'status'> | Omit<PaymentChanges, 'status'> = {},
): Promise<Order | Payment> {
  const moves = row.status !== to;
  if (entity === 'order') {
    if (moves) assertTransition('order', row.status as OrderStatus, to as OrderStatus);
    const orderChanges: OrderChanges = { ...(changes as Omit<OrderChanges, 'status'>) };
    if (moves) orderChanges.status = to as OrderStatus;
    return await updateOrder(tx, row.id, orderChanges);
  }
  if (moves) assertTransition('payment', row.status as PaymentStatus, to as PaymentStatus);
  const paymentChanges: PaymentChanges = { ...(changes as Omit<PaymentChanges, 'status'>) };
  if (moves) paymentChanges.status = to as PaymentStatus;
  return await updatePayment(tx, row.id, paymentChanges);
}
