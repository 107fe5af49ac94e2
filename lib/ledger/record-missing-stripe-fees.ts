import { getConfig } from '../config.js';
import { db } from '../db/client.js';
import { findPaymentsMissingFee } from '../db/models/payment-fees.js';
import { log } from '../log.js';
import { recordStripeFee } from './fetch-stripe-fee.js';

/**
 * The fee retry (api/cron/record-missing-fees.ts). Stripe's fee is read after a completion commits
 * (the record_fee follow-up); when that read fails (Stripe unreachable, the balance transaction not
 * there yet) the payment's fee stays unknown. This picks completed Stripe payments without a fee that
 * completed more than `olderThanMinutes` ago (the follow-up and charge.updated had their chance) and
 * within `lookbackHours`, oldest first, a bounded batch, and reads each fee again through the same
 * recordStripeFee: one fee row per payment whoever books it (payments.fee_cents set once, the ledger's
 * source key `fee:<payment>`). A failure is counted and left for the next run.
 */

export interface MissingFeeSummary {
  picked: number;
  recorded: number;
  /** Stripe has no balance transaction for the charge yet. */
  notAvailable: number;
  /** Booked by someone else in between, or not bookable (another currency, no longer captured). */
  unchanged: number;
  failed: number;
  /** The time budget ended the run before the batch was done. */
  truncated: boolean;
}

export interface MissingFeeOptions {
  limit?: number;
  olderThanMinutes?: number;
  lookbackHours?: number;
  /** Stop starting new reads after this long. */
  budgetMs?: number;
  /** Only these payments (a test sharing its database). */
  onlyPaymentIds?: string[];
}

export async function recordMissingStripeFees(options: MissingFeeOptions = {}): Promise<MissingFeeSummary> {
  const { timeBudget } = getConfig();
  const started = Date.now();
  const olderThanMs = (options.olderThanMinutes ?? 10) * 60_000;
  const lookbackMs = (options.lookbackHours ?? 72) * 3_600_000;
  const ids = await findPaymentsMissingFee(db, {
    provider: 'stripe',
    completedAfter: new Date(started - lookbackMs),
    completedBefore: new Date(started - olderThanMs),
    limit: options.limit ?? 25,
    onlyIds: options.onlyPaymentIds,
  });
  const summary: MissingFeeSummary = {
    picked: ids.length,
    recorded: 0,
    notAvailable: 0,
    unchanged: 0,
    failed: 0,
    truncated: false,
  };
  // Each read may take the whole provider budget: start one only while it still fits.
  const budgetMs = options.budgetMs ?? timeBudget.lastProviderStartMs;
  for (const paymentId of ids) {
    if (Date.now() - started > budgetMs) {
      summary.truncated = true;
      break;
    }
    try {
      const outcome = await recordStripeFee(paymentId);
      if (outcome === 'recorded') summary.recorded += 1;
      else if (outcome === 'not_available') summary.notAvailable += 1;
      else summary.unchanged += 1;
    } catch (error) {
      summary.failed += 1;
      log.warn('stripe fee not read (retry)', { paymentId, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return summary;
}
