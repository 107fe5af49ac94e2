import { z } from 'zod';
import { db } from '../db/client.js';
import { listOutboxMessages, MESSAGE_KINDS, MESSAGE_STATUSES, type OutboxMessage } from '../db/models/outbox-messages.js';
import { AppError } from '../errors.js';
import { isUuid } from '../ids.js';
import { messageIdFor } from './message-id.js';

/** GET /api/admin/messages: the outbox, newest first, for staff (scope messages:admin). */

export function presentMessage(message: OutboxMessage): Record<string, unknown> {
  return {
    id: message.id,
    orderId: message.orderId,
    kind: message.kind,
    cause: message.cause,
    recipient: message.recipient,
    status: message.status,
    attempts: message.attempts,
    nextAttemptAt: message.status === 'pending' ? message.nextAttemptAt.toISOString() : null,
    messageId: messageIdFor(message),
    claimedAt: message.claimedAt?.toISOString() ?? null,
    lastAttemptAt: message.lastAttemptAt?.toISOString() ?? null,
    lastError: message.lastError,
    providerMessageId: message.providerMessageId,
    resendOf: message.resendOf,
    requestedBy: message.requestedBy,
    sentAt: message.sentAt?.toISOString() ?? null,
    deadAt: message.deadAt?.toISOString() ?? null,
    uncertainAt: message.uncertainAt?.toISOString() ?? null,
    createdAt: message.createdAt.toISOString(),
  };
}

export const MessageListQuery = z.strictObject({
  status: z.enum(MESSAGE_STATUSES).optional(),
  kind: z.enum(MESSAGE_KINDS).optional(),
  orderId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Opaque cursor from the previous page's nextCursor. */
  cursor: z.string().max(200).optional(),
});

function encodeCursor(message: OutboxMessage): string {
  return Buffer.from(JSON.stringify([message.createdAt.toISOString(), message.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || !isUuid(id)) throw new Error('bad cursor');
    return { createdAt: date, id };
  } catch {
    throw new AppError('VALIDATION_ERROR', 'Invalid cursor', {
      details: { fields: [{ path: 'cursor', message: 'Invalid cursor' }] },
    });
  }
}

export async function listMessagesPage(
  query: z.infer<typeof MessageListQuery>,
): Promise<{ data: Record<string, unknown>[]; nextCursor: string | null }> {
  const rows = await listOutboxMessages(db, {
    status: query.status,
    kind: query.kind,
    orderId: query.orderId,
    limit: query.limit + 1,
    after: query.cursor ? decodeCursor(query.cursor) : undefined,
  });
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(presentMessage),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
  };
}
