import type { Tx } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { markActiveItemsRefunded } from '../db/models/order-items.js';
import { releaseSold } from '../db/models/ticket-types.js';

/**
 * Returns an order's still-active tickets to sale after a refund: the items become `refunded` and
 * each ticket type's `sold` goes down by as many, with one audit entry, all in the caller's
 * transaction (which holds the order row lock). Idempotent: a second call finds nothing active.
 */

export interface ReleasedTickets {
  ticketTypeId: string;
  quantity: number;
}

export async function releaseOrderTicketsInTx(
  tx: Tx,
  input: { orderId: string; refundId: string; actor: Actor },
): Promise<ReleasedTickets[]> {
  const released: ReleasedTickets[] = await markActiveItemsRefunded(tx, input.orderId);
  if (released.length === 0) return [];
  // Ticket type rows in a fixed order, so concurrent releases never deadlock.
  for (const item of released) await releaseSold(tx, item.ticketTypeId, item.quantity);
  await appendAudit(tx, {
    entityType: 'order',
    entityId: input.orderId,
    action: 'tickets_released',
    actor: input.actor,
    newValues: { refundId: input.refundId, released },
  });
  return released;
}
