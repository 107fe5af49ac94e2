/**
 * Forced crashes at step boundaries, for tests only. Production code marks a boundary with
 * `unsafeCrashPointForTests('checkout.after-hold')`; a test arms it with `armCrashPointForTests` and
 * the next pass through that boundary throws CrashPointError, as if the function had been killed
 * there (nothing after it runs: no cleanup, no answer). Inert unless NODE_ENV is `test`: outside tests
 * arming throws, and a boundary does nothing (one string comparison on an empty set).
 */

export type CrashPoint =
  /** create-checkout-session: the order and its hold committed, the provider not called yet. */
  | 'checkout.after-hold'
  /** webhooks/inbox: the event stored (committed), not applied yet. */
  | 'webhook.after-store'
  /** refunds/issue-refund: the pending refund reserved (committed), the provider not asked yet. */
  | 'refund.after-reserve'
  /** messages/deliver-messages: the email claimed (committed, status sending), not rendered or sent yet. */
  | 'message.after-claim'
  /** messages/deliver-messages: the SMTP server accepted the email (250), `sent` not recorded yet. */
  | 'message.after-send';

export class CrashPointError extends Error {
  override name = 'CrashPointError';
  constructor(readonly point: CrashPoint) {
    super(`forced crash at ${point} (test only)`);
  }
}

const armed = new Map<CrashPoint, number>();

const testing = () => process.env.NODE_ENV === 'test';

/** Arms `point` for the next `times` passes (default 1). Test-only: throws outside NODE_ENV=test. */
export function armCrashPointForTests(point: CrashPoint, times = 1): void {
  if (!testing()) throw new Error('armCrashPointForTests is only available when NODE_ENV=test');
  armed.set(point, times);
}

export function disarmCrashPointsForTests(): void {
  armed.clear();
}

/** A step boundary: throws CrashPointError when a test armed it; otherwise (and always outside tests) nothing. */
export function unsafeCrashPointForTests(point: CrashPoint): void {
  if (armed.size === 0 || !testing()) return;
  const left = armed.get(point);
  if (left === undefined) return;
  if (left <= 1) armed.delete(point);
  else armed.set(point, left - 1);
  throw new CrashPointError(point);
}
