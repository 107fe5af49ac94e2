import { randomUUID } from 'node:crypto';
import { db, transaction } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import {
  findOutboxMessage,
  insertOutboxMessageIfNew,
  type OutboxMessage,
  releaseUncertainMessage,
} from '../db/models/outbox-messages.js';
import { AppError } from '../errors.js';
import { deliverDueMessages } from './deliver-messages.js';
import { isUuid } from '../ids.js';

/**
 * Staff resend (POST /api/admin/messages/{id}/resend), audited, sent at once:
 * - an `uncertain` message (its deliverer died mid-send; lib/messages/deliver-messages.ts) is released: the SAME
 *   row goes back to pending and is sent now with its own Message-ID, so a provider that did get the first one
 *   may drop the copy, and it leaves the uncertain count (the backlog figure) once handled;
 * - any other is copied: a new row (same kind and payload, to the order's customer as they are now, `resend_of`
 *   pointing at the original, its own Message-ID). The original keeps its history (a dead one stays dead).
 * Either way the order gate holds: while an earlier message of the order is still unsent, it waits (pending).
 */
export async function resendMessage(
  id: string | null,
  actor: Actor,
): Promise<{ original: OutboxMessage; resent: OutboxMessage }> {
  const original = isUuid(id) ? await findOutboxMessage(db, id) : undefined;
  if (!original) throw new AppError('NOT_FOUND', 'No such message');
  const requestedBy = actor.id ?? actor.type;
  const queued = await transaction(async (tx) => {
    if (original.status === 'uncertain') {
      const released = await releaseUncertainMessage(tx, original.id, requestedBy);
      if (released) {
        await appendAudit(tx, {
          entityType: 'order',
          entityId: original.orderId,
          action: 'message_resent',
          actor,
          reason: 'uncertain delivery released by staff',
          oldValues: { messageId: original.id, kind: original.kind, status: original.status, attempts: original.attempts },
          newValues: { messageId: released.id, status: released.status },
        });
        return released;
      }
      // Released by someone else a moment ago: that release sends it; a copy now would send it twice.
      const current = await findOutboxMessage(tx, original.id);
      if (current && current.status !== 'uncertain') return current;
    }
    const copy = await insertOutboxMessageIfNew(tx, {
      orderId: original.orderId,
      kind: original.kind,
      cause: `staff-resend:${randomUUID()}`,
      payload: original.payload,
      resendOf: original.id,
      requestedBy,
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
