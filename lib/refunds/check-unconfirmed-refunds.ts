import { getConfig } from '../config.js';
import { db, transaction } from '../db/client.js';
import type { Actor } from '../db/models/audit-log.js';
import { findOrderById } from '../db/models/orders.js';
import { findPaymentById } from '../db/models/payments.js';
import {
  type CheckedRefund,
  claimDueRefundChecks,
  countStaleUnconfirmedRefunds,
  scheduleRefundCheck,
} from '../db/models/refund-checks.js';
import { log } from '../log.js';
import { callProviderForRefund, settleIssuedRefund } from './issue-refund.js';

/**
 * The refund-check cron (api/cron/check-refunds.ts). A refund whose provider call went unanswered
 * (time-out, 5xx, or the function killed mid-call) is `pending` with no provider refund id: the money
 * may or may not have moved, and its amount stays reserved. This asks the provider again with the SAME
 * request and idempotency key (refund-call.ts): Stripe answers a replayed key with the original refund,
 * PayPal a replayed PayPal-Request-Id with the original refund; if the first call never arrived, the
 * refund is made now, once. The answer is settled through the one settle function (settle-refund.ts),
 * so a refund webhook that got there first, or arrives later, counts nothing twice.
 *
 * - answered (succeeded / pending at the provider with its id / failed) → settled;
 * - refused (4xx: certainly nothing was made) → failed, reservation released;
 * - still unanswered → pending, asked again after a backoff (1, 2, 4 ... 60 minutes).
 * Rows older than the provider's idempotency window (Stripe keeps keys 24 hours) are never re-asked (a
 * fresh call could make a second refund): they are counted as `stale` for staff to check by hand.
 * Rows are only picked once the request that made them is surely over (the function's limit + margin).
 */

export interface RefundCheckSummary {
  picked: number;
  succeeded: number;
  /** Answered pending at the provider (its id recorded); its webhook settles it. */
  providerPending: number;
  failed: number;
  /** Still no answer: asked again later. */
  unconfirmed: number;
  /** Older than the idempotency window: not re-asked, staff must check them. */
  stale: number;
  /** The time budget ended the run before the list was done. */
  truncated: boolean;
}

/** Stripe prunes idempotency keys after 24 hours; stay well inside that. */
export const IDEMPOTENCY_WINDOW_MS = 23 * 3_600_000;

export function recheckDelayMs(attempts: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

async function checkOne(refund: CheckedRefund, actor: Actor, summary: RefundCheckSummary): Promise<void> {
  const [order, payment] = await Promise.all([findOrderById(db, refund.orderId), findPaymentById(db, refund.paymentId)]);
  if (!order || !payment) throw new Error(`refund ${refund.id} lost its order or payment`);
  const plan = { actor, auditReason: 'refund check: asked the provider again with the same idempotency key' };
  const outcome = await callProviderForRefund({ refund, order, payment }, plan);
  if (outcome.kind === 'unconfirmed') {
    summary.unconfirmed += 1;
    const at = new Date(Date.now() + recheckDelayMs(refund.checkAttempts));
    await scheduleRefundCheck(db, refund.id, at, outcome.error instanceof Error ? outcome.error.message : String(outcome.error));
    return;
  }
  const status =
    outcome.kind === 'answered'
      ? outcome.settled.refund.status
      : (
          await settleIssuedRefund({ refund, order, payment }, plan, {
            status: 'failed',
            failureReason: `refused by ${refund.provider} when checked: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`,
          })
        ).refund.status;
  if (status === 'succeeded') summary.succeeded += 1;
  else if (status === 'pending') summary.providerPending += 1;
  else summary.failed += 1;
}

export async function checkUnconfirmedRefunds(options: {
  actor: Actor;
  limit?: number;
  /** Stop starting new checks after this long (the function's limit still applies to the last one). */
  budgetMs?: number;
  /** Only these refunds (a support tool or a test that shares its database); all due ones when absent. */
  onlyRefundIds?: string[];
}): Promise<RefundCheckSummary> {
  const { timeBudget } = getConfig();
  const started = Date.now();
  const now = new Date();
  const notBefore = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS);
  const claimed = await transaction(
    async (tx) =>
      await claimDueRefundChecks(tx, {
        now,
        deadBefore: new Date(now.getTime() - timeBudget.deadRequestAfterMs),
        notBefore,
        // A run that dies leaves its rows due again once it is surely over.
        leaseUntil: new Date(now.getTime() + timeBudget.deadRequestAfterMs),
        limit: options.limit ?? 20,
        onlyIds: options.onlyRefundIds,
      }),
  );
  const summary: RefundCheckSummary = {
    picked: claimed.length,
    succeeded: 0,
    providerPending: 0,
    failed: 0,
    unconfirmed: 0,
    stale: await countStaleUnconfirmedRefunds(db, notBefore),
    truncated: false,
  };
  // Each check may take the whole provider budget: start one only while it still fits.
  const budgetMs = options.budgetMs ?? timeBudget.lastProviderStartMs;
  for (const refund of claimed) {
    if (Date.now() - started > budgetMs) {
      summary.truncated = true; // the rest stay claimed until their lease ends, then are due again
      break;
    }
    try {
      await checkOne(refund, options.actor, summary);
    } catch (error) {
      summary.unconfirmed += 1;
      log.error('refund check failed', { refundId: refund.id, error });
    }
  }
  if (summary.stale > 0)
    log.warn('unconfirmed refunds past the idempotency window need a manual check', { stale: summary.stale });
  return summary;
}
