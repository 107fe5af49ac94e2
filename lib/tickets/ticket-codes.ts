import { createHash, createHmac, randomBytes } from 'node:crypto';
import { ConfigError, getConfig } from '../config.js';
import type { Queryable } from '../db/client.js';
import { listTicketNonces, lockItemsWithoutCode, setTicketCodes } from '../db/models/ticket-codes.js';

/**
 * Ticket codes: what a ticket's QR code carries, and nothing else.
 *
 * Every ticket (order item) gets a random 128-bit nonce lazily, when its order's confirmation is first
 * rendered for sending (so orders paid before this feature get theirs on their first resend). Its code is
 * base64url(HMAC-SHA256(TICKET_CODE_SECRET, nonce)): 43 characters, 256 bits, unguessable without the key.
 * The database keeps the nonce and the code's SHA-256, never the code, so a leaked table does not admit
 * anyone; a scan looks the code up by its hash (unique index). The code can be derived again for every
 * resend of the confirmation, so resending never invalidates tickets the buyer already handed out.
 */

const CODE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function isWellFormedTicketCode(code: string): boolean {
  return CODE_PATTERN.test(code);
}

export function hashTicketCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

function secret(): string {
  const key = getConfig().tickets.codeSecret;
  if (!key) throw new ConfigError('TICKET_CODE_SECRET is not set: ticket codes cannot be issued');
  return key;
}

export function ticketCodeFromNonce(nonce: Buffer): string {
  return createHmac('sha256', secret()).update('boulder-fest-ticket:v1:').update(nonce).digest('base64url');
}

/** Gives every item of the order that has no code yet its nonce and code hash (inside the caller's transaction). */
export async function issueTicketCodesInTx(q: Queryable, orderId: string): Promise<number> {
  const missing = await lockItemsWithoutCode(q, orderId);
  if (missing.length === 0) return 0;
  await setTicketCodes(
    q,
    missing.map((itemId) => {
      const nonce = randomBytes(16);
      return { itemId, nonce, codeHash: hashTicketCode(ticketCodeFromNonce(nonce)) };
    }),
  );
  return missing.length;
}

/** The codes of an order's tickets, by item id (items without a code are left out). */
export async function ticketCodesForOrder(q: Queryable, orderId: string): Promise<Map<string, string>> {
  const rows = await listTicketNonces(q, orderId);
  return new Map(rows.map((row) => [row.id, ticketCodeFromNonce(row.nonce)]));
}
