import { afterCommit } from '../db/after-commit.js';
import type { Tx } from '../db/client.js';
import { insertOutboxMessageIfNew, type NewOutboxMessage, type OutboxMessage } from '../db/models/outbox-messages.js';
import { scheduleDelivery } from './schedule-delivery.js';

/**
 * Queues an email in the caller's transaction, the one that makes the change the email reports, so the
 * email exists exactly when the change does. (order, kind, cause) is unique: the same change reported
 * twice (a webhook replay, 20 concurrent deliveries) queues it once. Sending starts after COMMIT.
 * Nothing here can fail for a mail reason (no SMTP, no rendering): the payment never depends on email.
 */
export async function enqueueMessageInTx(tx: Tx, message: NewOutboxMessage): Promise<OutboxMessage | undefined> {
  const queued = await insertOutboxMessageIfNew(tx, message);
  if (!queued) return undefined;
  afterCommit(tx, () => scheduleDelivery([queued.id]));
  return queued;
}
