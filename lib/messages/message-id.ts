import type { OutboxMessage } from '../db/models/outbox-messages.js';

/**
 * Our Message-ID: derived from the outbox row alone, the same on every attempt. Whatever reaches the buyer twice
 * despite the claim (the server's 250 lost in a time-out, so we saw a failure and retried; a staff resend of an
 * `uncertain` message the server had in fact accepted) carries one Message-ID, and mail providers and clients
 * that deduplicate by it show it once. A staff resend of a sent or dead message is a new row, so a new
 * Message-ID: someone asked for it again.
 */
export function messageIdFor(message: Pick<OutboxMessage, 'id'>): string {
  return `<${message.id}@boulderfest.outbox>`;
}
