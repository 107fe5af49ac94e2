import type { z } from 'zod';
import { sweepOutcome } from './schemas.js';
import { expireHeldOrderInTx } from '../checkout/holds.js';
import { getConfig } from '../config.js';
import { db, type Queryable, transaction } from '../db/client.js';
import type { Actor } from '../db/models/audit-log.js';
import { findOrderById, type Provider } from '../db/models/orders.js';
import { findSweeperCandidates, recordProviderCheck, type SweeperCandidate } from '../db/models/payment-provider-checks.js';
import { log } from '../log.js';
import { finalizeOrderPaymentInTx } from '../payments/finalize-order.js';
import { isPaid } from '../payments/state-machine.js';
import { ProviderError } from '../providers/checkout-provider.js';
import { runFollowUp } from '../webhooks/follow-ups.js';
import { unwantedPaymentRefund } from '../webhooks/order-effects.js';
import { failPaymentInTx } from '../payments/fail-payment.js';
import { markPaymentProcessingInTx } from '../payments/mark-payment-processing.js';
import { captureApprovedPayPalOrder } from '../webhooks/paypal/capture.js';
import type { FollowUp } from '../webhooks/types.js';
import { type CheckoutStatus, checkoutStatus } from './provider-checkout-status.js';

/**
 * The stale-payment sweeper (api/cron/sweep-stale-payments.ts). Webhooks get lost; money then sits at
 * the provider while the order stays pending (or was expired by the hold cron). For every checkout
 * still unsettled `staleAfterMinutes` after it started (default: the hold plus 5 minutes), the sweeper
 * asks the provider (Stripe checkout.sessions.retrieve with its payment intent; PayPal getOrder and
 * its captures) and applies the answer through the same code the webhooks use:
 *  - paid → the one finalize function (completed; or the late-payment rule: sold if capacity, else
 *    flagged and refunded in full through the refund follow-up);
 *  - PayPal approved but never captured → captured with the browser's and the webhook's
 *    PayPal-Request-Id (`capture-<orderId>`: one capture whoever asks), then finalized;
 *  - Stripe async method (bank debit) still clearing → order and payment `processing` (the hold stays: the hold
 *    cron never expires a processing order), asked again until it clears → completed, or fails → failed (hold
 *    released, failure recorded, through the same fail-payment function as async_payment_failed);
 *  - expired / voided → the order expires (hold released), if it has not already;
 *  - still open → left alone, asked again later (backing off: 5, 10, 20 … minutes, at most 6 hours).
 * Every change is audited with actor `cron:sweeper`. Webhooks racing the sweeper are harmless: the
 * order row lock inside finalize/expire makes the first one do the work and the second a no-op.
 *
 * Bounded: `limit` checkouts per run, and no provider call is started after `timeBudgetMs`, so a
 * backlog drains over several runs inside the function's maxDuration. What the provider said is kept
 * in payment_provider_checks; a settled checkout (paid and applied, expired) is not asked again.
 */

export interface SweepOptions {
  actor: Actor;
  limit?: number;
  timeBudgetMs?: number;
  staleAfterMinutes?: number;
  /** Checkouts older than this are not asked any more (default 72 h). */
  lookbackHours?: number;
}

export type SweepOutcome = z.infer<typeof sweepOutcome>;

export interface SweepSummary {
  candidates: number;
  checked: number;
  outcomes: Record<SweepOutcome, number>;
  /** True when the time budget stopped the run before every candidate was asked. */
  stoppedByBudget: boolean;
  orders: { orderId: string; provider: Provider; outcome: SweepOutcome; providerState?: string }[];
}

type Candidate = SweeperCandidate;

async function recordCheck(q: Queryable, paymentId: string, providerStatus: string, outcome: SweepOutcome, settled: boolean) {
  await recordProviderCheck(q, { paymentId, providerStatus, outcome, settled });
}

const OUTCOMES: readonly SweepOutcome[] = sweepOutcome.options;

/** Applies a paid answer through the one finalize function; returns the outcome and the refund follow-ups. */
async function applyPaid(
  candidate: Candidate,
  status: Extract<CheckoutStatus, { state: 'paid' }>,
  actor: Actor,
): Promise<{ outcome: SweepOutcome; followUps: FollowUp[] }> {
  return await transaction(async (tx) => {
    const result = await finalizeOrderPaymentInTx(tx, {
      orderId: candidate.orderId,
      provider: candidate.provider,
      providerSessionId: candidate.sessionId,
      providerPaymentId: status.providerPaymentId,
      amountCents: status.amountCents,
      currency: status.currency,
      methodType: status.methodType,
      methodBrand: status.methodBrand,
      methodLast4: status.methodLast4,
      actor,
    });
    let outcome: SweepOutcome;
    const followUps: FollowUp[] = [];
    switch (result.outcome) {
      case 'completed':
        outcome = result.late ? 'late_payment_completed' : 'completed';
        // The books need Stripe's fee (on the charge's balance transaction), read after this commits,
        // as the webhook path does (lib/webhooks/order-effects.ts).
        if (candidate.provider === 'stripe') followUps.push({ kind: 'record_fee', paymentId: result.payment.id });
        break;
      case 'already_final':
        outcome = 'already_final';
        break;
      case 'amount_mismatch':
        outcome = 'amount_mismatch';
        break;
      case 'late_no_capacity':
      case 'duplicate_payment': {
        // Refunded in full after commit, as the webhook path does; the outcome is the refund's reason.
        const refund = unwantedPaymentRefund(result);
        outcome = refund.reason;
        followUps.push(refund);
        break;
      }
      case 'order_not_found':
        outcome = 'already_final';
        break;
    }
    await recordCheck(tx, candidate.paymentId, 'paid', outcome, true);
    return { outcome, followUps };
  });
}

async function applyExpired(candidate: Candidate, detail: string, actor: Actor): Promise<SweepOutcome> {
  return await transaction(async (tx) => {
    const expired = await expireHeldOrderInTx(tx, candidate.orderId, {
      actor,
      reason: `sweeper: ${candidate.provider} ${detail}`,
      onlyIfDue: false,
    });
    // A processing order (payment in flight) is not expired here: its webhook or a later sweep ends it.
    const settled = expired.expired || expired.order?.status !== 'processing';
    const outcome: SweepOutcome = expired.expired ? 'expired' : settled ? 'already_final' : 'left_open';
    await recordCheck(tx, candidate.paymentId, detail, outcome, settled);
    return outcome;
  });
}

async function applyProcessing(candidate: Candidate, providerPaymentId: string | undefined, actor: Actor): Promise<SweepOutcome> {
  return await transaction(async (tx) => {
    await markPaymentProcessingInTx(
      tx,
      candidate.orderId,
      { providerSessionId: candidate.sessionId, ...(providerPaymentId ? { providerPaymentId } : {}) },
      actor,
    );
    await recordCheck(tx, candidate.paymentId, 'processing', 'processing', false);
    return 'processing' as const;
  });
}

/** Stripe's async payment failed (its webhook lost): order and payment failed, hold released, as the webhook does. */
async function applyFailed(candidate: Candidate, status: Extract<CheckoutStatus, { state: 'failed' }>, actor: Actor) {
  return await transaction(async (tx) => {
    const changed = await failPaymentInTx(
      tx,
      candidate.orderId,
      {
        provider: candidate.provider,
        code: status.code,
        declineCode: status.declineCode,
        message: status.message,
        providerPaymentId: status.providerPaymentId,
      },
      actor,
    );
    const outcome: SweepOutcome = changed ? 'failed' : 'already_final';
    await recordCheck(tx, candidate.paymentId, 'failed', outcome, true);
    return outcome;
  });
}

/** PayPal approved, never captured: capture (same request id as browser and webhook), then finalize. */
async function applyApproved(candidate: Candidate, actor: Actor): Promise<{ outcome: SweepOutcome; followUps: FollowUp[] }> {
  const followUps = await captureApprovedPayPalOrder({ orderId: candidate.orderId, paypalOrderId: candidate.sessionId, actor });
  const order = await findOrderById(db, candidate.orderId);
  let outcome: SweepOutcome = 'left_open';
  if (order && isPaid(order.status)) outcome = 'completed';
  else if (order?.attentionReason === 'late_payment_no_capacity') outcome = 'late_payment_no_capacity';
  else if (order?.attentionReason === 'amount_mismatch') outcome = 'amount_mismatch';
  else if (order?.status === 'processing') outcome = 'captured_pending';
  await recordCheck(db, candidate.paymentId, 'APPROVED', outcome, outcome !== 'left_open' && outcome !== 'captured_pending');
  return { outcome, followUps };
}

async function sweepOne(candidate: Candidate, actor: Actor): Promise<{ outcome: SweepOutcome; providerState?: string }> {
  let status: CheckoutStatus;
  try {
    status = await checkoutStatus(candidate.provider, candidate.sessionId);
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    log.warn('sweeper: provider lookup failed', { orderId: candidate.orderId, provider: candidate.provider, code: error.code });
    // Unknown at the provider (404): asked again later with back-off, then it ages out of the lookback.
    await recordCheck(db, candidate.paymentId, `error:${error.code}`, 'provider_error', false);
    return { outcome: 'provider_error' };
  }
  let followUps: FollowUp[] = [];
  let outcome: SweepOutcome;
  switch (status.state) {
    case 'paid':
      ({ outcome, followUps } = await applyPaid(candidate, status, actor));
      break;
    case 'approved':
      ({ outcome, followUps } = await applyApproved(candidate, actor));
      break;
    case 'processing':
      outcome = await applyProcessing(candidate, status.providerPaymentId, actor);
      break;
    case 'failed':
      outcome = await applyFailed(candidate, status, actor);
      break;
    case 'expired':
      outcome = await applyExpired(candidate, status.detail, actor);
      break;
    case 'open':
      await recordCheck(db, candidate.paymentId, status.detail, 'left_open', false);
      outcome = 'left_open';
      break;
  }
  // Provider calls the outcome asks for (full refund of a late payment without capacity, of a
  // duplicate), after the transaction committed; each is idempotent.
  while (followUps.length > 0) {
    const next = followUps.shift() as FollowUp;
    followUps.push(...(await runFollowUp(next, actor)));
  }
  return { outcome, providerState: status.state };
}

export async function sweepStalePayments(options: SweepOptions): Promise<SweepSummary> {
  const config = getConfig();
  const limit = options.limit ?? config.sweeper.batchLimit;
  const deadline = Date.now() + (options.timeBudgetMs ?? config.sweeper.timeBudgetMs);
  const candidates = await findSweeperCandidates(db, {
    staleAfterMinutes: options.staleAfterMinutes ?? config.sweeper.staleAfterMinutes,
    lookbackHours: options.lookbackHours ?? 72,
    limit,
  });
  const summary: SweepSummary = {
    candidates: candidates.length,
    checked: 0,
    outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<SweepOutcome, number>,
    stoppedByBudget: false,
    orders: [],
  };
  const configured = { stripe: Boolean(config.stripe.secretKey), paypal: Boolean(config.paypal.clientId) };
  for (const candidate of candidates) {
    if (Date.now() >= deadline) {
      summary.stoppedByBudget = true;
      break;
    }
    let result: { outcome: SweepOutcome; providerState?: string };
    if (!configured[candidate.provider]) result = { outcome: 'not_configured' };
    else {
      try {
        result = await sweepOne(candidate, options.actor);
      } catch (error) {
        // One order's failure (e.g. a refund follow-up the provider refused) must not stop the others.
        log.error('sweeper: order failed', { orderId: candidate.orderId, error });
        result = { outcome: 'provider_error' };
      }
    }
    summary.checked += 1;
    summary.outcomes[result.outcome] += 1;
    summary.orders.push({ orderId: candidate.orderId, provider: candidate.provider, ...result });
  }
  return summary;
}
