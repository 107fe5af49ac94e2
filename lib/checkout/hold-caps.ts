import { getConfig } from '../config.js';
import type { Tx } from '../db/client.js';
import { liveHeldTickets, lockHoldKeys } from '../db/models/order-buyer.js';
import { AppError } from '../errors.js';
import { clientKey } from '../client-key.js';

/**
 * Caps on live held tickets (issue 18: one client must not be able to hold the festival). Counted in
 * the checkout transaction, under a transaction-level advisory lock per client key and per email, so
 * concurrent checkouts of one client are counted one after the other and can never overshoot.
 * A client address counts IPv6 per /64 and `::ffff:a.b.c.d` as `a.b.c.d` (lib/http/client-address.ts).
 * Holds of pending/processing orders whose hold has not expired count; paid orders do not.
 */

export interface HoldKeys {
  clientKey: string | null;
  emailKey: string;
}

export function holdKeysFor(ip: string | undefined, email: string): HoldKeys {
  const key = clientKey(ip) ?? (getConfig().isProduction ? 'unknown' : null);
  return { clientKey: key, emailKey: email.trim().toLowerCase() };
}

/** Throws 429 HOLD_LIMIT_REACHED when `requested` more tickets would take a client or an email over its cap. */
export async function enforceHoldCaps(tx: Tx, keys: HoldKeys, requested: number): Promise<void> {
  const { holdCapPerClient, holdCapPerEmail } = getConfig().abuse;
  // Fixed order (client, then email) so two checkouts never wait on each other in a cycle.
  await lockHoldKeys(tx, keys);
  const held = await liveHeldTickets(tx, keys);
  if (keys.clientKey !== null && held.byClient + requested > holdCapPerClient) {
    throw capReached('connection', held.byClient, holdCapPerClient, requested);
  }
  if (held.byEmail + requested > holdCapPerEmail) throw capReached('email address', held.byEmail, holdCapPerEmail, requested);
}

function capReached(what: 'connection' | 'email address', held: number, cap: number, requested: number): AppError {
  return new AppError(
    'HOLD_LIMIT_REACHED',
    `This ${what} already holds ${held} ticket${held === 1 ? '' : 's'} in unfinished checkouts; at most ${cap} may be held at once. ` +
      'Complete or abandon those checkouts (holds end on their own) and try again.',
    { details: { limit: cap, held, requested, per: what === 'connection' ? 'client' : 'email' } },
  );
}
