import { randomUUID } from 'node:crypto';
import { db, transaction } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { findOutboxMessage, insertOutboxMessageIfNew, type OutboxMessage } from '../db/models/outbox-messages.js';
import { AppError } from '../errors.js';
import { deliverDueMessages } from './deliver-messages.js';
import { isUuid } from '../ids.js';

/**
 * Staff resend (POST /api/admin/messages/{id}/resend): queues a copy of the message (same kind and
 * payload, to the order's customer as they are now, `resend_of` pointing at the original) and sends it
 * at once. The original keeps its history (a dead one stays dead with its last error). Audited.
 */
export async function resendMessage(
  id: string | null,
  actor: Actor,
): Promise<{ original: OutboxMessage; resent: OutboxMessage }> {
  const original = isUuid(id) ? await findOutboxMessage(db, id) : undefined;
  if (!original) throw new AppError('NOT_FOUND', 'No such message');
  const queued = await transaction(async (tx) => {
    const copy = await insertOutboxMessageIfNew(tx, {
      orderId: original.orderId,
      kind: original.kind,
      cause: `staff-resend:${randomUUID()}`,
      payload: original.payload,
      resendOf: original.id,
      requestedBy: actor.id ?? actor.type,
    });
    if (!copy) throw new Error('resend copy not inserted');
    await appendAudit(tx, {
      entityType: 'order',
      entityId: original.orderId,
      action: 'message_resent',
      actor,
      oldValues: { messageId: original.id, kind: original.kind, status: original.status, attempts: original.attempts },
      newValues: { messageId: copy.id },
    });
    return copy;
  });
  // Sent now, within this request, so staff see the outcome (a failure leaves it queued for the cron).
  await deliverDueMessages({ ids: [queued.id], limit: 1 });
  const resent = await findOutboxMessage(db, queued.id);
  if (!resent) throw new Error('resent message vanished');
  return { original, resent };
}
