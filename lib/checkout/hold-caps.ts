import { getConfig } from '../config.js';
import { AppError } from '../errors.js';
import { clientKey } from '../client-key.js';

/**
 * Caps on live held tickets (issue 18: one client must not be able to hold the festival). Counted in
 * checkout's one write statement (checkout_place_order, migration 0100), under a transaction-level advisory
 * lock per client key and per email taken in a fixed order (client, then email), so concurrent checkouts of
 * one client are counted one after the other and can never overshoot.
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

/** The caps (HOLD_CAP_PER_CLIENT, HOLD_CAP_PER_EMAIL). */
export function holdCaps(): { perClient: number; perEmail: number } {
  const { holdCapPerClient, holdCapPerEmail } = getConfig().abuse;
  return { perClient: holdCapPerClient, perEmail: holdCapPerEmail };
}

/**
 * THE cap rule: the 429 HOLD_LIMIT_REACHED when `requested` more tickets would take the client or the email
 * over its cap (the client first), undefined when they fit. Checkout's one statement (checkout_place_order,
 * migration 0100) counts under the advisory locks, refuses with the same comparison before writing anything,
 * and this names the refusal from its counts.
 */
export function holdCapError(
  keys: HoldKeys,
  held: { byClient: number; byEmail: number },
  requested: number,
): AppError | undefined {
  const caps = holdCaps();
  if (keys.clientKey !== null && held.byClient + requested > caps.perClient) {
    return capReached('connection', held.byClient, caps.perClient, requested);
  }
  if (held.byEmail + requested > caps.perEmail) return capReached('email address', held.byEmail, caps.perEmail, requested);
  return undefined;
}

function capReached(what: 'connection' | 'email address', held: number, cap: number, requested: number): AppError {
  return new AppError(
    'HOLD_LIMIT_REACHED',
    `This ${what} already holds ${held} ticket${held === 1 ? '' : 's'} in unfinished checkouts; at most ${cap} may be held at once. ` +
      'Complete or abandon those checkouts (holds end on their own) and try again.',
    { details: { limit: cap, held, requested, per: what === 'connection' ? 'client' : 'email' } },
  );
}
