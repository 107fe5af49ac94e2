import type { Tx } from '../db/client.js';
import type { Actor } from '../db/models/audit-log.js';
import type { StorableEvent, StoredEventRef, StoreOutcome, WebhookEvent } from '../db/models/webhook-events.js';

/**
 * What an event handler may do: change the books inside the apply transaction, and ask for provider
 * calls that must happen after that transaction has committed (never inside it).
 */

/** Work that needs a provider call; run after the apply transaction commits, in order. */
export type FollowUp =
  /** Refund a payment in full through its provider (late payment without capacity, duplicate payment). */
  | { kind: 'refund_payment'; orderId: string; paymentId: string; reason: 'late_payment_no_capacity' | 'duplicate_payment' }
  /** Capture an approved PayPal order (the buyer may have closed the tab), then finalize it. */
  | { kind: 'paypal_capture'; orderId: string; paypalOrderId: string }
  /** Read Stripe's fee of a captured payment (its balance transaction) and book it on the ledger. */
  | {
      kind: 'record_fee';
      paymentId: string;
      /**
       * Set by the one-statement completion, which has just written this PaymentIntent id with the fee still
       * unknown: the payment need not be read again before asking Stripe (one round trip less per event).
       */
      capturedAs?: string | undefined;
    };

/**
 * Whether a follow-up keeps its event `processing` under a lease until it has run (the retry cron takes
 * it back when the lease ends). A refund or a PayPal capture must happen, so it does. Reading Stripe's
 * fee does not: it never fails the event (lib/webhooks/follow-ups.ts), and a fee that was not read, for
 * whatever reason (Stripe down, the function frozen or killed first), is read by its own cron
 * (api/cron/record-missing-fees.ts). An event whose only follow-ups are fee reads is `processed` at once:
 * no lease to take, and none to finish (one statement less per completion).
 */
export function needsLease(followUp: FollowUp): boolean {
  return !(LEASELESS_KINDS as readonly string[]).includes(followUp.kind);
}

/** The kinds of follow-up that go without a lease (the rule of needsLease, and of LeaselessFollowUp). */
const LEASELESS_KINDS = ['record_fee'] as const satisfies readonly FollowUp['kind'][];

/** The follow-ups needsLease lets go without a lease. */
export type LeaselessFollowUp = Extract<FollowUp, { kind: (typeof LEASELESS_KINDS)[number] }>;

export interface ApplyOutcome {
  /** `processed`: the event was ours and was applied (possibly as a no-op); `ignored`: not for us / unhandled type. */
  status: 'processed' | 'ignored';
  /** Short, client-safe note kept in last_error for ignored events (why it was ignored). */
  note?: string;
  followUps?: FollowUp[];
}

export interface ApplyContext {
  actor: Actor;
  event: WebhookEvent;
}

export interface EventHandler {
  (tx: Tx, payload: unknown, ctx: ApplyContext): Promise<ApplyOutcome>;
  /**
   * Optional: a fresh delivery stored in the inbox and its common case applied, in ONE statement (issue
   * 17: the flash-sale path): the row is `processed`, and what may follow it after the response needs no
   * lease. Answers `stored` when the event is not that case (the row is `received`, nothing else
   * written; the inbox applies it the usual way, with the handler above in a transaction) or was already
   * stored (a duplicate), and undefined before any write when it cannot tell (the inbox then stores the
   * delivery itself).
   */
  storeAndApply?: (payload: unknown, ctx: StoreAndApplyContext) => Promise<StoredAndApplied | undefined>;
}

export interface StoreAndApplyContext {
  actor: Actor;
  /** The inbox row's columns for this delivery. */
  delivery: StorableEvent;
}

export type StoredAndApplied =
  /** Stored as processed and applied; these run after the response. */
  | { event: StoredEventRef; afterResponse: LeaselessFollowUp[] }
  /** Not applied: stored as `received`, or a duplicate (nothing written). */
  | { afterResponse?: undefined; stored: StoreOutcome };

/** Thrown by a handler when the event cannot be applied yet (e.g. a refund before its payment was captured). */
export class NotYetApplicableError extends Error {
  override name = 'NotYetApplicableError';
}

export const processed = (followUps?: FollowUp[]): ApplyOutcome =>
  followUps && followUps.length > 0 ? { status: 'processed', followUps } : { status: 'processed' };
export const ignored = (note: string): ApplyOutcome => ({ status: 'ignored', note });

/** Provider events are small; this leaves room for large ones without accepting junk. */
export const WEBHOOK_MAX_BODY_BYTES = 512 * 1024;
