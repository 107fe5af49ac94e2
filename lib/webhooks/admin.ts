import { isUuid } from '../ids.js';
import { z } from 'zod';
import { db } from '../db/client.js';
import { findWebhookEventById, listWebhookEvents, type WebhookEvent } from '../db/models/webhook-events.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { AppError } from '../errors.js';
import { processWebhookEvent, type ProcessResult } from './inbox.js';

/** What the admin endpoints show of an inbox row (the payload only on the detail view). */
export function presentWebhookEvent(event: WebhookEvent, withPayload = false): Record<string, unknown> {
  return {
    id: event.id,
    provider: event.provider,
    providerEventId: event.providerEventId,
    eventType: event.eventType,
    status: event.status,
    attempts: event.attempts,
    lastError: event.lastError,
    nextAttemptAt: event.nextAttemptAt,
    receivedAt: event.receivedAt,
    processedAt: event.processedAt,
    ...(withPayload ? { payload: event.payload } : {}),
  };
}

export const ListQuery = z.strictObject({
  status: z.enum(['received', 'processing', 'processed', 'ignored', 'failed', 'dead']).optional(),
  provider: z.enum(['stripe', 'paypal']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Opaque cursor from the previous page's nextCursor. */
  cursor: z.string().max(200).optional().meta({
    description:
      "Opaque: the previous page's `nextCursor`, unchanged (base64url, at most 200 characters). Anything else is 400 VALIDATION_ERROR.",
  }),
});

function encodeCursor(event: WebhookEvent): string {
  return Buffer.from(JSON.stringify([event.receivedAt.toISOString(), event.id])).toString('base64url');
}

const WebhookCursorShape = z.tuple([z.string().max(40), z.uuid()]);

function decodeCursor(cursor: string): { receivedAt: Date; id: string } {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('bad cursor');
    const parsed = WebhookCursorShape.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (!parsed.success) throw new Error('bad cursor');
    const [receivedAt, id] = parsed.data;
    const date = new Date(receivedAt);
    // What this API encodes (toISOString) must decode to the same instant, within PostgreSQL's range.
    if (Number.isNaN(date.getTime()) || date.toISOString() !== receivedAt) throw new Error('bad cursor');
    const year = date.getUTCFullYear();
    if (year < 2000 || year > 2200) throw new Error('bad cursor');
    return { receivedAt: date, id };
  } catch {
    throw new AppError('VALIDATION_ERROR', 'Invalid cursor', {
      details: { fields: [{ path: 'cursor', message: 'Invalid cursor' }] },
    });
  }
}

export async function listWebhookEventsPage(
  query: z.infer<typeof ListQuery>,
): Promise<{ data: Record<string, unknown>[]; nextCursor: string | null }> {
  const rows = await listWebhookEvents(db, {
    status: query.status,
    provider: query.provider,
    limit: query.limit + 1,
    before: query.cursor ? decodeCursor(query.cursor) : undefined,
  });
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    data: page.map((event) => presentWebhookEvent(event)),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
  };
}

/** The stored event; NOT_FOUND when there is none (or the id is not a uuid). */
export async function getWebhookEvent(id: string | null): Promise<WebhookEvent> {
  const event = isUuid(id) ? await findWebhookEventById(db, id) : undefined;
  if (!event) throw new AppError('NOT_FOUND', 'No such webhook event');
  return event;
}

/** Admin replay: applies the event now whatever its status; a processed event changes nothing. */
export async function replayWebhookEvent(
  id: string | null,
  actor: Actor,
): Promise<{ result: ProcessResult; event: WebhookEvent }> {
  const event = await getWebhookEvent(id);
  const result = await processWebhookEvent(event.id, { actor, replay: true });
  await appendAudit(db, {
    entityType: 'webhook_event',
    entityId: event.id,
    action: 'webhook_replayed',
    actor,
    oldValues: { status: event.status, attempts: event.attempts },
    newValues: { status: result.status, applied: result.applied, error: result.error ?? null },
  });
  return { result, event: await getWebhookEvent(event.id) };
}
