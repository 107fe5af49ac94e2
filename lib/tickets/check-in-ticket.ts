import { z } from 'zod';
import { transaction } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { findTicketByCodeHashForShare } from '../db/models/ticket-codes.js';
import { findCheckIn, insertCheckInIfFirst } from '../db/models/ticket-checkins.js';
import { AppError } from '../errors.js';
import { hashTicketCode, isWellFormedTicketCode } from './ticket-codes.js';

/**
 * POST /api/checkin: admits a ticket once. The ticket row is share-locked while it is checked (a refund
 * that would release it waits), and the check-in row's primary key (one per ticket) decides which of
 * any number of simultaneous scans admits: exactly one gets `admitted`, every other one gets
 * 409 ALREADY_CHECKED_IN with when and at which door. Refunded, released, cancelled or unpaid tickets
 * are 422 TICKET_NOT_VALID; an unknown code is 404. One audit entry per admission.
 */

export const CheckInBody = z.strictObject({
  code: z.string().trim().min(1).max(200),
  door: z.string().trim().min(1).max(60).optional(),
});
export type CheckInRequest = z.infer<typeof CheckInBody>;

export interface CheckInResult {
  status: 'admitted';
  checkedInAt: string;
  door: string | null;
  ticket: {
    id: string;
    orderNumber: string;
    ticketType: { code: string; name: string };
    attendee: { firstName: string | null; lastName: string | null };
  };
}

/** Orders whose tickets admit: paid, and not refunded in full. */
const ADMITTING_ORDER_STATUSES = ['completed', 'partially_refunded'];

function notValid(reason: string, message: string): AppError {
  return new AppError('TICKET_NOT_VALID', message, { details: { reason } });
}

export async function checkInTicket(input: CheckInRequest, actor: Actor): Promise<CheckInResult> {
  if (!isWellFormedTicketCode(input.code)) throw new AppError('NOT_FOUND', 'Unknown ticket code');
  const door = input.door ?? null;
  return await transaction(async (tx) => {
    const ticket = await findTicketByCodeHashForShare(tx, hashTicketCode(input.code));
    if (!ticket) throw new AppError('NOT_FOUND', 'Unknown ticket code');
    if (ticket.itemStatus !== 'active') {
      throw notValid(ticket.itemStatus, `This ticket was ${ticket.itemStatus} and does not admit`);
    }
    if (!ADMITTING_ORDER_STATUSES.includes(ticket.orderStatus)) {
      const reason =
        ticket.orderStatus === 'refunded' ? 'refunded' : ['cancelled'].includes(ticket.orderStatus) ? 'cancelled' : 'unpaid';
      throw notValid(reason, `This ticket's order is ${ticket.orderStatus}; it does not admit`);
    }
    const admitted = await insertCheckInIfFirst(tx, {
      orderItemId: ticket.id,
      orderId: ticket.orderId,
      eventId: ticket.eventId,
      ticketTypeId: ticket.ticketTypeId,
      door,
      by: actor.id ?? actor.type,
    });
    if (!admitted) {
      const earlier = await findCheckIn(tx, ticket.id);
      const when = earlier?.checkedInAt.toISOString() ?? null;
      throw new AppError(
        'ALREADY_CHECKED_IN',
        `This ticket was already checked in${when ? ` at ${when}` : ''}${earlier?.door ? ` (door ${earlier.door})` : ''}`,
        { details: { checkedInAt: when, door: earlier?.door ?? null } },
      );
    }
    await appendAudit(tx, {
      entityType: 'order',
      entityId: ticket.orderId,
      action: 'ticket_checked_in',
      actor,
      newValues: { orderItemId: ticket.id, ticketType: ticket.typeCode, door },
    });
    const named = ticket.firstName !== null || ticket.lastName !== null;
    return {
      status: 'admitted',
      checkedInAt: admitted.checkedInAt.toISOString(),
      door: admitted.door,
      ticket: {
        id: ticket.id,
        orderNumber: ticket.orderNumber,
        ticketType: { code: ticket.typeCode, name: ticket.typeName },
        attendee: named
          ? { firstName: ticket.firstName, lastName: ticket.lastName }
          : { firstName: ticket.buyerFirstName, lastName: ticket.buyerLastName },
      },
    };
  });
}
