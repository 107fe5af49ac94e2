import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/client.js';
import { insertOrderLinkToken, orderLinkTokenIsValid } from '../db/models/order-link-tokens.js';

/**
 * The link to the order page in a confirmation email: a fresh token per email (32 random bytes,
 * base64url, 256 bits), only its SHA-256 stored, valid until a week after the event ends. GET
 * /api/orders/{id} accepts it like the access token from checkout, so the link works in any browser.
 */

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** How long after the event's end a link still opens the order. */
export const LINK_VALID_AFTER_EVENT_DAYS = 7;

function hashLinkToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Creates a token for the order (in the caller's transaction) and returns it: the only time it is seen. */
export async function issueOrderLinkToken(q: Queryable, input: { orderId: string; messageId?: string }): Promise<string> {
  let token = randomBytes(32).toString('base64url');
  // `bf_…` bearer values are API keys (api/orders/[id].ts routes them to the staff view).
  while (token.startsWith('bf_')) token = randomBytes(32).toString('base64url');
  await insertOrderLinkToken(q, {
    tokenHash: hashLinkToken(token),
    orderId: input.orderId,
    messageId: input.messageId ?? null,
    daysAfterEvent: LINK_VALID_AFTER_EVENT_DAYS,
  });
  return token;
}

/** True when `presented` is an unexpired link token of this order. */
export async function orderLinkTokenMatches(q: Queryable, orderId: string, presented: string | undefined): Promise<boolean> {
  if (!presented || !TOKEN_PATTERN.test(presented)) return false;
  return await orderLinkTokenIsValid(q, hashLinkToken(presented), orderId);
}
